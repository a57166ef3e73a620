"""ticket_reuse: tickets carried by more than one response at a unit (contract v3).

Such answers are already out (dedupe rule 2 quarantines every one of them as
`contested_ticket`); the sign is for people: whoever held the slips may have answered with
them before the visitors did, and those visitors' answers no longer count. Public by default
(`[signals] public`): the unit's page and the ranking say its answers are being checked.
`count` is the contested answers; `share` is their part of the unit's answers, contested ones
included.
"""

from __future__ import annotations

import numpy as np

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows
from reference_engine.score.signals.ticketing import Evidence

NAME = "ticket_reuse"


def find(rows: Rows, survey: Survey, ev: Evidence) -> list[Fired]:
    out = []
    for u in np.flatnonzero(ev.contested):
        count, total = int(ev.contested[u]), int(rows.n[u]) + int(ev.contested[u])
        out.append(Fired(int(u), count, (
            f"{count} phiếu dùng chung vé với phiếu khác của đơn vị (một vé chỉ dành cho một "
            "người đến làm thủ tục): không phiếu nào trong số đó được tính; cần hỏi ai đã giữ "
            "những vé này"), total))
    return out
