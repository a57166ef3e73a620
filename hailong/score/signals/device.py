"""device: many answers from one browser (device_id) at one unit.

With dedupe.by_device the second answer of a device is already a duplicate; this signal
matters where it is off (a shared kiosk) or the limit is raised.
"""

from __future__ import annotations

import pandas as pd

from hailong.score.signals.base import Fired, Rows
from hailong.survey.load import Survey

NAME = "device"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    known = rows.device != ""
    per = pd.DataFrame({"unit": rows.unit[known], "device": rows.device[known]}).value_counts()
    many = per[per > cfg.device_max]
    out = []
    for code, counts in many.groupby(level="unit", sort=True):
        total = int(counts.sum())
        out.append(Fired(str(code), total, (
            f"{total} phiếu từ {len(counts)} thiết bị, mỗi thiết bị gửi hơn {cfg.device_max} "
            f"phiếu (nhiều nhất {int(counts.max())} phiếu từ một thiết bị)")))
    return out
