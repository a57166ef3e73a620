"""ticket_age: many answers at a unit carry slips handed out days before.

A visitor gets the slip when the procedure is done and answers that day or the next; slips
kept back at the counter and answered later (unused slips of earlier days) arrive late.
Fires when at least `min_count` of a unit's answers whose ticket issued.csv dates were sent at
least `ticket_age_days` days after that date, and they are more than `ticket_age_share` of
those answers.

What it cannot see: slips kept back and answered the same day (see ticket_uptake and
off_hours), and visitors who genuinely answer late.
"""

from __future__ import annotations

import numpy as np

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows, percent
from reference_engine.score.signals.ticketing import Evidence

NAME = "ticket_age"


def find(rows: Rows, survey: Survey, ev: Evidence) -> list[Fired]:
    cfg = survey.signals
    out = []
    hit = (ev.late >= cfg.min_count) & (ev.late > cfg.ticket_age_share * ev.used)
    for u in np.flatnonzero(hit):
        late, used = int(ev.late[u]), int(ev.used[u])
        out.append(Fired(int(u), late, (
            f"{late} phiếu ({percent(late, used)} số phiếu có vé trong danh sách đã phát) dùng "
            f"vé phát từ {cfg.ticket_age_days} ngày trước trở lên, quá mức "
            f"{cfg.ticket_age_share:.0%}"), used))
    return out
