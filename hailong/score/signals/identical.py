"""identical: answer sets that repeat another answer of the same unit exactly.

Only answers to at least `min_answers` questions count (two people giving the same two
answers is no sign). `count` is the answers that repeat an earlier one.
"""

from __future__ import annotations

import pandas as pd

from hailong.score.signals.base import Fired, Rows, percent, share_fired
from hailong.survey.load import Survey

NAME = "identical"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    long_enough = rows.answered >= cfg.min_answers
    keyed = pd.DataFrame(rows.vector, index=rows.unit.index).assign(unit=rows.unit)
    repeat = keyed.duplicated(keep="first") & long_enough
    fired = share_fired(rows, repeat, cfg.min_count, cfg.identical_share)
    return [Fired(code, int(c), (
        f"{c} phiếu ({percent(c, rows.n[code])} số phiếu) có câu trả lời giống hệt một phiếu "
        f"khác của đơn vị, quá mức {cfg.identical_share:.0%}"))
        for code, c in fired.items()]
