"""burst: more answers within a few minutes than one office can serve.

Per unit, every window of `burst_minutes` (end included) starting at an answer is counted; a window holding
more than `burst_max` answers is a burst, and `count` is the answers lying in any burst.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.score.signals.base import Fired, Rows
from hailong.survey.load import Survey

NAME = "burst"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    width = cfg.burst_minutes * 60
    has = rows.submitted.notna().to_numpy()
    if not has.any():
        return []
    seconds = (rows.submitted[has].astype("int64") // 1_000_000).to_numpy()  # microseconds
    codes = rows.unit[has].to_numpy(dtype=object)
    unit_ids, unit_of = np.unique(codes, return_inverse=True)
    # one sorted axis for all units: a unit's answers are far from the next unit's
    span = int(seconds.max() - seconds.min()) + width + 1
    key = unit_of.astype(np.int64) * span + (seconds - seconds.min())
    order = np.argsort(key, kind="stable")
    key = key[order]
    end = np.searchsorted(key, key + width, side="right")  # first answer after each window
    size = end - np.arange(len(key))
    burst = size > cfg.burst_max
    if not burst.any():
        return []
    # answers covered by a burst window: +1 where one opens, -1 where it closes
    cover = np.zeros(len(key) + 1, dtype=np.int64)
    np.add.at(cover, np.flatnonzero(burst), 1)
    np.add.at(cover, end[burst], -1)
    covered = np.cumsum(cover)[:-1] > 0
    sorted_unit = unit_of[order]
    counts = np.bincount(sorted_unit[covered], minlength=len(unit_ids))
    # each unit's fullest window (the earliest of equals): its size and when it opened
    at = np.flatnonzero(burst)
    peaks = pd.DataFrame({"unit": sorted_unit[at], "size": size[at], "at": at})
    peaks = peaks.sort_values(["unit", "size", "at"], ascending=[True, False, True])
    peaks = peaks.drop_duplicates("unit")
    local = rows.submitted[has].dt.tz_convert(survey.tz).iloc[order[peaks["at"].to_numpy()]]
    out = []
    for (u, peak), when in zip(peaks[["unit", "size"]].itertuples(index=False), local, strict=True):
        count = int(counts[u])
        out.append(Fired(str(unit_ids[u]), count, (
            f"{count} phiếu gửi dồn trong những khoảng {cfg.burst_minutes} phút có hơn "
            f"{cfg.burst_max} phiếu; nhiều nhất {int(peak)} phiếu từ "
            f"{when:%H:%M} ngày {when:%d/%m/%Y}, nhiều hơn số người một bộ phận một cửa "
            "tiếp được")))
    return out
