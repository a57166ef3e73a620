"""straightline: every scale question given the same answer (all 5s, all 1s ...).

Only answers to at least `min_answers` scale questions count.
"""

from __future__ import annotations

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows, percent, share_fired

NAME = "straightline"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    same = rows.lined >= cfg.min_answers  # lined: answers given when all one level, else 0
    fired = share_fired(rows, same, cfg.min_count, cfg.straightline_share)
    return [Fired(u, c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) chọn cùng một mức cho mọi câu hỏi "
        f"chấm điểm, quá mức {cfg.straightline_share:.0%}"))
        for u, c in fired]
