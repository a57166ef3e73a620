"""identical: answer sets that repeat another answer of the same unit exactly.

Only answers to at least `min_answers` questions count (two people giving the same two
answers is no sign). `count` is the answers that repeat an earlier one: per unit, the rows
long enough less their distinct answer sets (equal sets are equally long), whatever the order.
"""

from __future__ import annotations

import numpy as np

from hailong.score.codes import U64, mix
from hailong.score.signals.base import Fired, Rows, percent, share_counts
from hailong.survey.load import Survey

NAME = "identical"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    long_enough = rows.answered >= cfg.min_answers
    vector, unit = rows.vector[long_enough], rows.unit[long_enough]
    places = max(len(rows.n), 1)
    if len(vector) and int(vector.max()) * places + places < 2**64:
        # exact: the unit's place packed beside the answer key
        ordered = np.sort(vector * U64(places) + unit.astype(U64))
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        distinct = np.bincount((ordered[first] % U64(places)).astype(np.int64), minlength=places)
    else:
        pair = vector ^ mix(unit.astype(U64) + U64(1))
        order = np.argsort(pair)
        ordered = pair[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]] if len(ordered) else np.zeros(0, bool)
        distinct = np.bincount(unit[order][first], minlength=places)
    repeats = np.bincount(unit, minlength=places) - distinct
    fired = share_counts(rows, repeats, cfg.min_count, cfg.identical_share)
    return [Fired(int(u), c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) có câu trả lời giống hệt một phiếu "
        f"khác của đơn vị, quá mức {cfg.identical_share:.0%}"))
        for u, c in fired]
