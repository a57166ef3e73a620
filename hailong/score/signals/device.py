"""device: many answers from one browser (device_id) at one unit.

With dedupe.by_device the second answer of a device is already a duplicate; this signal
matters where it is off (a shared kiosk) or the limit is raised. The counting is SQL
(hailong.score.queries.MANY_PER_DEVICE).
"""

from __future__ import annotations

from hailong.score.queries import MANY_PER_DEVICE, signal_query
from hailong.score.signals.base import Fired, Rows, answers
from hailong.survey.load import Survey

NAME = "device"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    if not (rows.device != 0).any():
        return []
    found = signal_query(answers(rows), MANY_PER_DEVICE.format(most=int(cfg.device_max))).to_pylist()
    return [Fired(r["unit"], r["count"], (
        f"{r['count']} phiếu từ {r['devices']} thiết bị, mỗi thiết bị gửi hơn {cfg.device_max} "
        f"phiếu (nhiều nhất {r['most']} phiếu từ một thiết bị)"))
        for r in found]
