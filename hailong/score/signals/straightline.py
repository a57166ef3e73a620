"""straightline: every scale question given the same answer (all 5s, all 1s ...).

Only answers to at least `min_answers` scale questions count (hailong.score.queries.STRAIGHTLINE).
"""

from __future__ import annotations

from hailong.score.queries import STRAIGHTLINE
from hailong.score.signals.base import Fired, Rows, counted, percent, share_counts
from hailong.survey.load import Survey

NAME = "straightline"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    same = counted(rows, STRAIGHTLINE.format(min_answers=int(cfg.min_answers)))
    fired = share_counts(rows, same, cfg.min_count, cfg.straightline_share)
    return [Fired(u, c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) chọn cùng một mức cho mọi câu hỏi "
        f"chấm điểm, quá mức {cfg.straightline_share:.0%}"))
        for u, c in fired]
