"""The one entry point: every signal of `[signals] checks` over the accepted rows.

Gives signals.csv's rows (contract section 4): unit_code, signal, count, share, detail, one
per unit and fired signal, units in units.csv order and signals in the contract's order.
The rows themselves are only read: conservation does not depend on this stage.
"""

from __future__ import annotations

import pandas as pd

from hailong.score.signals import burst, device, identical, off_hours, speed, straightline
from hailong.score.signals.base import Rows
from hailong.survey.config import SIGNALS
from hailong.survey.load import Survey

COLUMNS = ["unit_code", "signal", "count", "share", "detail"]
MODULES = {m.NAME: m for m in (burst, identical, straightline, speed, off_hours, device)}
assert tuple(MODULES) == SIGNALS


def find_signals(accepted: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """signals.csv as a frame of text cells (share: a fraction 0–1 with four decimals)."""
    if accepted is None or accepted.empty or not survey.signals.checks:
        return pd.DataFrame(columns=COLUMNS, dtype="str")
    rows = Rows.of(accepted, survey)
    order = {code: i for i, code in enumerate(survey.unit_codes)}
    found = []
    for name in SIGNALS:
        if name not in survey.signals.checks:
            continue
        for f in MODULES[name].find(rows, survey):
            n = rows.n[f.unit_code]
            found.append((order[f.unit_code], SIGNALS.index(name), f.unit_code, name,
                          str(f.count), f"{f.count / n:.4f}", f.detail))
    found.sort()
    return pd.DataFrame([r[2:] for r in found], columns=COLUMNS, dtype="str")
