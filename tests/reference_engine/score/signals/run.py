"""The one entry point: every signal of `[signals] checks` over the accepted rows.

Gives signals.csv's rows (contract section 4): unit_code, signal, count, share, detail, one
per unit and fired signal, units in units.csv order and signals in the contract's order.
The rows themselves are only read: conservation does not depend on this stage.

A chunked reader keeps only COLUMNS_READ(survey) of each chunk, prepares it with Rows.of,
joins the parts with Rows.concat and calls signals_frame once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.survey.config import SIGNALS
from hailong.survey.load import Survey
from reference_engine.score.signals import (
    burst,
    device,
    helper,
    identical,
    off_hours,
    speed,
    straightline,
    ticket_age,
    ticket_reuse,
    ticket_uptake,
)
from reference_engine.score.signals.base import COLUMNS_READ, Rows
from reference_engine.score.signals.ticketing import Evidence, evidence

__all__ = ["COLUMNS", "COLUMNS_READ", "Rows", "find_signals", "signals_frame"]

COLUMNS = ["unit_code", "signal", "count", "share", "detail"]
MODULES = {m.NAME: m for m in (burst, identical, straightline, speed, off_hours, device,
                                ticket_reuse, ticket_uptake, ticket_age, helper)}
TICKETS = {ticket_reuse.NAME, ticket_uptake.NAME, ticket_age.NAME}  # these read an Evidence too
assert tuple(MODULES) == SIGNALS


def find_signals(accepted: pd.DataFrame, survey: Survey, times: pd.Series | None = None) -> pd.DataFrame:
    """signals.csv as a frame of text cells (share: a fraction 0–1 with four decimals).
    `times`: submitted_at already parsed (UTC timestamps, accepted's index)."""
    if accepted is None or accepted.empty or not survey.signals.checks:
        return pd.DataFrame(columns=COLUMNS, dtype="str")
    return signals_frame(Rows.of(accepted, survey, times), survey)


def signals_frame(rows: Rows, survey: Survey, ev: Evidence | None = None) -> pd.DataFrame:
    """find_signals' frame from rows already prepared (Rows.of, or Rows.concat of chunks), and
    what the ticket signals read besides (`ev`: reference_engine.score.signals.ticketing.evidence)."""
    if ev is None:
        ev = evidence(survey, None)
    if (not len(rows) and not ev.contested.any()) or not survey.signals.checks:
        return pd.DataFrame(columns=COLUMNS, dtype="str")
    if len(rows.n) < len(survey.units):  # no rows at all: every unit has none
        rows = Rows(**{**rows.__dict__, "n": np.zeros(len(survey.units), dtype=np.int64)})
    found, totals, units = [], rows.n.tolist(), survey.units
    for name in SIGNALS:
        if name not in survey.signals.checks:
            continue
        rank = SIGNALS.index(name)
        module = MODULES[name]
        fired = module.find(rows, survey, ev) if name in TICKETS else module.find(rows, survey)
        for f in fired:
            total = totals[f.unit] if f.total is None else f.total
            found.append((f.unit, rank, units[f.unit].code, name, str(f.count),
                          f"{f.count / total:.4f}" if total else "", f.detail))
    found.sort()
    return pd.DataFrame([r[2:] for r in found], columns=COLUMNS, dtype="str")
