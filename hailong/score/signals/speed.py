"""speed: sent too soon after the form was opened for the number of questions answered.

From started_at (the page's clock) to submitted_at (the collector's): fewer than
`seconds_per_answer` seconds per answered question. A row without started_at, or whose
started_at is after submitted_at (a phone clock running ahead), is not judged.
"""

from __future__ import annotations

import pandas as pd

from hailong.score.signals.base import Fired, Rows, percent, share_fired
from hailong.survey.load import Survey

NAME = "speed"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    seconds = (rows.submitted - rows.started).dt.total_seconds()
    judged = seconds.notna() & (seconds >= 0)
    fast = judged & (seconds < cfg.seconds_per_answer * pd.Series(rows.answered, index=seconds.index))
    fired = share_fired(rows, fast, cfg.min_count, cfg.speed_share)
    per = f"{cfg.seconds_per_answer:g}".replace(".", ",")
    return [Fired(code, int(c), (
        f"{c} phiếu ({percent(c, rows.n[code])} số phiếu) được gửi quá nhanh: dưới {per} giây "
        "cho mỗi câu hỏi, từ lúc mở phiếu đến lúc gửi"))
        for code, c in fired.items()]
