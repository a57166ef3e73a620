"""device: many answers from one browser (device_id) at one unit.

With dedupe.by_device the second answer of a device is already a duplicate; this signal
matters where it is off (a shared kiosk) or the limit is raised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.survey.load import Survey
from reference_engine.score.codes import U64, mix
from reference_engine.score.signals.base import Fired, Rows

NAME = "device"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    known = rows.device != 0
    unit = rows.unit[known]
    # one number per (unit, device): the device's hash, told apart per unit
    pair = rows.device[known] ^ mix(unit.astype(U64) + U64(1))
    ordered = np.sort(pair)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(ordered)])
    many = ordered[starts[sizes > cfg.device_max]]
    if not len(many):
        return []
    hit = np.isin(pair, many)
    per = pd.DataFrame({"unit": unit[hit], "pair": pair[hit]}).value_counts()
    out = []
    for u, counts in per.groupby(level="unit", sort=True):
        total = int(counts.sum())
        out.append(Fired(int(u), total, (
            f"{total} phiếu từ {len(counts)} thiết bị, mỗi thiết bị gửi hơn {cfg.device_max} "
            f"phiếu (nhiều nhất {int(counts.max())} phiếu từ một thiết bị)")))
    return out
