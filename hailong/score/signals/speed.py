"""speed: sent too soon after the form was opened for the number of questions answered.

From started_at (the page's clock) to submitted_at (the collector's): fewer than
`seconds_per_answer` seconds per answered question (hailong.score.queries.SPEED). A row without
started_at, or whose started_at is after submitted_at (a phone clock running ahead), is not
judged.
"""

from __future__ import annotations

from hailong.score.queries import SPEED
from hailong.score.signals.base import Fired, Rows, counted, percent, share_counts
from hailong.survey.load import Survey

NAME = "speed"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    fast = counted(rows, SPEED.format(seconds=repr(float(cfg.seconds_per_answer))))
    fired = share_counts(rows, fast, cfg.min_count, cfg.speed_share)
    per = f"{cfg.seconds_per_answer:g}".replace(".", ",")
    return [Fired(u, c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) được gửi quá nhanh: dưới {per} giây "
        "cho mỗi câu hỏi, từ lúc mở phiếu đến lúc gửi"))
        for u, c in fired]
