"""Which units the public pages mark "Đang kiểm tra số phiếu" because of signals.csv.

Only the signals listed in survey.toml `[signals] public` count, and the page says nothing
more than that the unit's answers are being checked: which sign fired, and its figures, stay
with the staff (progress report), because a sign is not a finding.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hailong import cells
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.survey.load import Survey


def units_under_review(survey: Survey, signals_csv: Path) -> set[str]:
    """Unit codes (upper case) with a fired public signal; empty without signals.csv."""
    public = set(survey.signals.public)
    if not public or not signals_csv.exists():
        return set()
    try:
        frame = cells.read_csv(signals_csv)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); run `hailong score` again",
                             path=signals_csv, exc=exc)) from None
    if frame.empty:
        return set()
    if not {"unit_code", "signal"} <= set(frame.columns):
        raise HailongError(_("{path}: needs columns unit_code and signal; run `hailong score` again",
                             path=signals_csv))
    fired = frame[frame["signal"].isin(public)]
    return set(fired["unit_code"].str.strip().str.upper())


def mark(participation: dict[str, dict], review: set[str]) -> None:
    """Add `review` (True or False) to each unit's participation record the pages read."""
    for code, record in participation.items():
        record["review"] = code.upper() in review
