"""straightline: every scale question given the same answer (all 5s, all 1s ...).

Only answers to at least `min_answers` scale questions count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.score.signals.base import Fired, Rows, percent, share_fired
from hailong.survey.load import Survey

NAME = "straightline"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    given = rows.scale > 0
    count = given.sum(axis=1)
    if rows.scale.shape[1] == 0:
        return []
    high = np.where(given, rows.scale, np.iinfo(np.int64).min).max(axis=1)
    low = np.where(given, rows.scale, np.iinfo(np.int64).max).min(axis=1)
    same = (count >= cfg.min_answers) & (high == low)
    fired = share_fired(rows, pd.Series(same, index=rows.unit.index), cfg.min_count,
                        cfg.straightline_share)
    return [Fired(code, int(c), (
        f"{c} phiếu ({percent(c, rows.n[code])} số phiếu) chọn cùng một mức cho mọi câu hỏi "
        f"chấm điểm, quá mức {cfg.straightline_share:.0%}"))
        for code, c in fired.items()]
