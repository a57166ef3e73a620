"""What the ticket signals read (ticket_reuse, ticket_uptake, ticket_age), gathered once.

The answer-based signals see the accepted rows alone (base.Rows); these need more: the rows
quarantined as contested tickets (dedupe rule 2), and for access = "tickets" the slips issued
(`tickets/issued.csv`, written by `hailong tickets`) to compare the accepted answers with:
how many of each unit's slips came back, and how long after the day each was handed out.
A ticket that issued.csv does not hold (another issuer's, or a lost file) has no known issue
day: it is left out of both, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hailong.survey.load import Survey
from hailong.survey.tickets import normalise


@dataclass
class Evidence:
    contested: np.ndarray  # int64 per place in survey.units: rows quarantined as contested
    issued: np.ndarray  # int64 per place: tickets issued.csv holds (0 without the file)
    used: np.ndarray  # int64 per place: accepted answers whose ticket issued.csv holds
    late: np.ndarray  # int64 per place: of those, answers at least ticket_age_days after issue
    known: bool  # issued.csv was read


def _places(codes, survey: Survey) -> np.ndarray:
    place = {u.code.upper(): i for i, u in enumerate(survey.units)}
    return np.array([place.get(str(c).strip().upper(), -1) for c in codes], dtype=np.int64)


def _count(places: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(places[places >= 0], minlength=size).astype(np.int64)


def evidence(survey: Survey, contested_units: list[str] | None, issued_csv: Path | None = None,
             accepted: pd.DataFrame | None = None, times: pd.Series | None = None) -> Evidence:
    """The evidence from the contested rows' unit codes and, for access = "tickets", issued.csv
    and the accepted rows (unit_code, ticket) with their parsed submitted_at (`times`, UTC)."""
    size = len(survey.units)
    zero = np.zeros(size, dtype=np.int64)
    contested = _count(_places(contested_units or [], survey), size)
    if issued_csv is None or not Path(issued_csv).exists():
        return Evidence(contested, zero, zero.copy(), zero.copy(), False)
    from hailong.collect.tickets import read_issued

    table = read_issued(Path(issued_csv))
    issued_place = _places(table["unit_code"], survey)
    issued = _count(issued_place, size)
    if accepted is None or not len(accepted):
        return Evidence(contested, issued, zero.copy(), zero.copy(), True)
    day_of = {(int(p), t): d for p, t, d in zip(issued_place, table["ticket"], table["date"],
                                                strict=True) if p >= 0}
    place = _places(accepted["unit_code"], survey)
    canonical = accepted["ticket"].astype("str").map(lambda t: normalise(t) or "")
    issue = pd.to_datetime(pd.Series([day_of.get((int(p), t)) for p, t in
                                      zip(place, canonical, strict=True)], dtype=object),
                           errors="coerce")
    answered = pd.DatetimeIndex(times).tz_convert(survey.tz).tz_localize(None).normalize()
    lag = (pd.Series(answered) - issue.to_numpy()).dt.days.to_numpy(dtype=float, na_value=np.nan)
    found = ~np.isnan(lag) & (place >= 0)
    used = _count(place[found], size)
    late_rows = found & (np.nan_to_num(lag, nan=-1) >= survey.signals.ticket_age_days)
    return Evidence(contested, issued, used, _count(place[late_rows], size), True)
