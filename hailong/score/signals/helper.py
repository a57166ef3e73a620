"""helper: one helper taking too many assisted answers at one unit in a short time.

Assisted answers (channel `assisted`, contract v3) are typed by the respondent on a helper's
phone, so the device rule never drops them; this signal watches them instead. Per unit and
helper (`entered_by`), every window of `helper_minutes` (end included) starting at one of the
helper's answers is counted; a window holding more than `helper_max` of them is too many for
one person guiding citizens one at a time, and `count` is the helper's answers lying in any
such window (summed over the unit's helpers). numpy, not SQL, for the reason burst.py gives
(the same windows per unit and helper).
"""

from __future__ import annotations

import numpy as np

from hailong.score.signals.base import Fired, Rows
from hailong.score.signals.clock import MISSING
from hailong.survey.load import Survey

NAME = "helper"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    width = cfg.helper_minutes * 60
    has = (rows.helper != 0) & (rows.submitted != MISSING)
    if not has.any():
        return []
    seconds = rows.submitted[has] // 1_000_000
    unit = rows.unit[has].astype(np.int64)
    # one number per (unit, helper), numbered densely
    pairs, pair = np.unique(np.stack([unit.astype(np.uint64), rows.helper[has]], axis=1),
                            axis=0, return_inverse=True)
    pair = pair.reshape(-1).astype(np.int64)
    low = int(seconds.min())
    span = int(seconds.max()) - low + width + 1
    key = np.sort(pair * span + (seconds - low))
    end = np.searchsorted(key, key + width, side="right")
    size = end - np.arange(len(key))
    busy = size > cfg.helper_max
    if not busy.any():
        return []
    opens = np.flatnonzero(busy)
    cover = np.bincount(opens, minlength=len(key) + 1) - np.bincount(end[opens],
                                                                     minlength=len(key) + 1)
    covered = np.cumsum(cover)[:-1] > 0
    sorted_pair = key // span
    per_pair = np.bincount(sorted_pair[covered], minlength=len(pairs))
    peak = np.zeros(len(pairs), dtype=np.int64)
    np.maximum.at(peak, sorted_pair[opens], size[opens])
    out = []
    for u in np.unique(pairs[per_pair > 0][:, 0]).astype(np.int64):
        mine = (pairs[:, 0] == u) & (per_pair > 0)
        count = int(per_pair[mine].sum())
        out.append(Fired(int(u), count, (
            f"{count} phiếu được hỗ trợ trả lời do {int(mine.sum())} người hỗ trợ nhận, mỗi người "
            f"hơn {cfg.helper_max} phiếu trong {cfg.helper_minutes} phút (nhiều nhất "
            f"{int(peak[mine].max())} phiếu), nhiều hơn một người hướng dẫn từng người dân "
            "làm được")))
    return out
