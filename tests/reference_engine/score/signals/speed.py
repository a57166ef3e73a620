"""speed: sent too soon after the form was opened for the number of questions answered.

From started_at (the page's clock) to submitted_at (the collector's): fewer than
`seconds_per_answer` seconds per answered question. A row without started_at, or whose
started_at is after submitted_at (a phone clock running ahead), is not judged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows, percent, share_fired
from reference_engine.score.signals.clock import MISSING

NAME = "speed"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    judged = np.flatnonzero((rows.took != MISSING) & (rows.took >= 0))
    # seconds exactly as pandas' total_seconds gives them (a threshold is often met exactly)
    seconds = pd.TimedeltaIndex(rows.took[judged].astype("timedelta64[us]")).total_seconds()
    fast = np.zeros(len(rows), dtype=bool)
    fast[judged] = seconds.to_numpy() < cfg.seconds_per_answer * rows.answered[judged].astype(np.int64)
    fired = share_fired(rows, fast, cfg.min_count, cfg.speed_share)
    per = f"{cfg.seconds_per_answer:g}".replace(".", ",")
    return [Fired(u, c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) được gửi quá nhanh: dưới {per} giây "
        "cho mỗi câu hỏi, từ lúc mở phiếu đến lúc gửi"))
        for u, c in fired]
