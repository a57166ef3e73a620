"""The one entry point: every signal of `[signals] checks` over the accepted rows.

Gives signals.csv's rows (contract section 4): unit_code, signal, count, share, detail, one
per unit and fired signal, units in units.csv order and signals in the contract's order.
The rows themselves are only read: conservation does not depend on this stage.

A chunked reader keeps only COLUMNS_READ(survey) of each chunk, prepares it with Rows.of,
joins the parts with Rows.concat and calls signals_frame once.
"""

from __future__ import annotations

import pandas as pd

from hailong.score.signals import (
    burst,
    device,
    helper,
    identical,
    off_hours,
    speed,
    straightline,
)
from hailong.score.signals.base import COLUMNS_READ, Rows
from hailong.survey.config import SIGNALS
from hailong.survey.load import Survey

__all__ = ["COLUMNS", "COLUMNS_READ", "Rows", "find_signals", "signals_frame"]

COLUMNS = ["unit_code", "signal", "count", "share", "detail"]
MODULES = {m.NAME: m for m in (burst, identical, straightline, speed, off_hours, device, helper)}
assert tuple(MODULES) == SIGNALS


def find_signals(accepted: pd.DataFrame, survey: Survey, times: pd.Series | None = None) -> pd.DataFrame:
    """signals.csv as a frame of text cells (share: a fraction 0–1 with four decimals).
    `times`: submitted_at already parsed (UTC timestamps, accepted's index)."""
    if accepted is None or accepted.empty or not survey.signals.checks:
        return pd.DataFrame(columns=COLUMNS, dtype="str")
    return signals_frame(Rows.of(accepted, survey, times), survey)


def signals_frame(rows: Rows, survey: Survey) -> pd.DataFrame:
    """find_signals' frame from rows already prepared (Rows.of, or Rows.concat of chunks)."""
    if not len(rows) or not survey.signals.checks:
        return pd.DataFrame(columns=COLUMNS, dtype="str")
    found, totals, units = [], rows.n.tolist(), survey.units
    for name in SIGNALS:
        if name not in survey.signals.checks:
            continue
        rank = SIGNALS.index(name)
        for f in MODULES[name].find(rows, survey):
            found.append((f.unit, rank, units[f.unit].code, name, str(f.count),
                          f"{f.count / totals[f.unit]:.4f}", f.detail))
    found.sort()
    return pd.DataFrame([r[2:] for r in found], columns=COLUMNS, dtype="str")
