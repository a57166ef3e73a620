"""Participation: daily counts against visitors, quotas per respondent type, completion.

Plausibility (participation.csv). For a unit-day with `v` visitors and tolerance `t`:

    minimum      = min_busy if v > busy_visitors else min_responses
    min_expected = max(minimum, ceil(v × (1 − t)))
    max_expected = floor(v × (1 + t))

This is the plan's rule as written: within ±50% of visitors AND at least the minimum. An office
that served fewer people than the minimum cannot meet both; its day is reported `too_few` (it
did not reach the plan's minimum) unless it has more answers than visitors allow, which is
`too_many` (possible ballot stuffing) and takes precedence.
Rounding at the edges: the bounds are rounded inwards to whole responses, because responses
are whole; a count exactly on a bound is inside (20 visitors, t = 0.5: 10 and 30 are `ok`,
9 is `too_few`, 31 is `too_many`). The arithmetic is exact (the tolerance is read as the
decimal the survey wrote), so 10 × (1 − 0.3) is 7, not 7.000…1 rounded up to 8.
Status: `too_many` when responses > max_expected (possible ballot stuffing), `too_few` when
responses < min_expected, else `ok`; a day without a visitors.csv row is `no_visitor_count`
with min_expected = the minimum and no max_expected.
The `total` row adds up the window: responses, visitors, and its minimum is the sum of each
day's minimum; when any day lacks a visitor count the total is `no_visitor_count` too
(its visitors column still shows the days that have one).
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv
from hailong.i18n import _
from hailong.survey.tables import read_table

VISITORS_FILE = "visitors.csv"
TOTAL = "total"
PARTICIPATION_COLUMNS = ["unit_code", "date", "responses", "visitors", "min_expected",
                         "max_expected", "status"]
STATUSES = ("ok", "too_few", "too_many", "no_visitor_count")
STATUS_LABELS = {
    "ok": "Đủ phiếu",
    "too_few": "Chưa đủ phiếu",
    "too_many": "Số phiếu vượt quá số lượt người đến làm thủ tục, cần kiểm tra",
    "no_visitor_count": "Chưa có số lượt người đến làm thủ tục",
}


# -- reading -------------------------------------------------------------------------------
def load_visitors(survey) -> dict[tuple[str, dt.date], int]:
    """visitors.csv as {(unit code, date): visitors}; {} when the survey has none."""
    path = survey.optional_file(VISITORS_FILE)
    if path is None:
        return {}
    table = read_table(path, ["unit_code", "date", "visitors"])
    out: dict[tuple[str, dt.date], int] = {}
    seen: dict[tuple[str, dt.date], int] = {}
    for row in table:
        unit = survey.find_unit(row["unit_code"])
        if unit is None:
            raise table.error(row, "unit_code", _("'{value}' is not a code in units.csv",
                                                  value=row['unit_code']))
        try:
            day = dt.date.fromisoformat(row["date"])
        except ValueError:
            raise table.error(row, "date", _("'{value}' is not a date; write YYYY-MM-DD",
                                             value=row['date'])) from None
        visitors = table.integer(row, "visitors")
        if visitors is None:
            raise table.error(row, "visitors", _("empty; write the number of people served (0 if "
                                                 "none)"))
        key = (unit.code, day)
        if key in seen:
            raise table.error(row, "date", _("{code} on {day} is also on row {value}",
                                             code=unit.code, day=day, value=seen[key]))
        seen[key] = row.number
        out[key] = visitors
    return out


def local_dates(accepted: pd.DataFrame, tz) -> pd.Series:
    """The local survey day of each accepted response (None where submitted_at is unreadable).

    Times are read exactly as validation reads them (hailong.score.validate.parse_times).
    """
    if accepted is None or accepted.empty:
        return pd.Series([], dtype=object)
    days = _local_midnights(accepted, tz)
    return days.dt.date.astype(object).where(days.notna(), None)


def _local_midnights(accepted: pd.DataFrame, tz) -> pd.Series:
    """Midnight of each response's local day as naive datetime64 (vectorised; NaT if unreadable)."""
    from hailong.score.validate import parse_times

    times = parse_times(accepted["submitted_at"].fillna(""), tz).dt.tz_convert(tz)
    return times.dt.tz_localize(None).dt.normalize()


def daily_counts(survey, accepted: pd.DataFrame) -> dict[tuple[str, dt.date], int]:
    """Accepted responses per (unit code, local date)."""
    if accepted is None or accepted.empty:
        return {}
    dates = _local_midnights(accepted, survey.tz)
    canonical = {u.code.upper(): u.code for u in survey.units}
    units = accepted["unit_code"].astype(str).str.strip().str.upper().map(canonical)
    frame = pd.DataFrame({"unit": units.values, "date": dates.values}).dropna()
    sizes = frame.groupby(["unit", "date"]).size()
    return {(unit, day.date()): int(n) for (unit, day), n in sizes.items()}


# -- plausibility --------------------------------------------------------------------------
def _minimum(survey, visitors: int | None) -> int:
    p = survey.participation
    if visitors is not None and visitors > p.busy_visitors:
        return p.min_busy
    return p.min_responses


def tolerance_bounds(visitors: int, tolerance: float) -> tuple[int, int]:
    """(ceil(v × (1 − t)), floor(v × (1 + t))): the ±tolerance band alone, without the minimum."""
    t = Fraction(str(tolerance))
    return math.ceil(visitors * (1 - t)), math.floor(visitors * (1 + t))


def judge(responses: int, visitors: int | None, minimum: int, tolerance: float):
    """(min_expected, max_expected, status) of one unit-day or window; see the module doc."""
    if visitors is None:
        return minimum, None, "no_visitor_count"
    low, high = tolerance_bounds(visitors, tolerance)
    low = max(minimum, low)
    if responses > high:
        return low, high, "too_many"
    if responses < low:
        return low, high, "too_few"
    return low, high, "ok"


def participation_table(survey, counts, visitors, days=None) -> pd.DataFrame:
    """One row per unit and survey day, then a `total` row per unit (participation.csv)."""
    days = list(days) if days is not None else survey.days()
    tol = survey.participation.tolerance
    rows = []
    for unit in survey.units:
        total_r = total_v = total_min = 0
        missing = False
        for day in days:
            r = counts.get((unit.code, day), 0)
            v = visitors.get((unit.code, day))
            minimum = _minimum(survey, v)
            low, high, status = judge(r, v, minimum, tol)
            rows.append((unit.code, day.isoformat(), r, v, low, high, status))
            total_r += r
            total_min += minimum
            if v is None:
                missing = True
            else:
                total_v += v
        if missing:
            rows.append((unit.code, TOTAL, total_r, total_v if total_v else None, total_min,
                         None, "no_visitor_count"))
        else:
            low, high, status = judge(total_r, total_v, total_min, tol)
            rows.append((unit.code, TOTAL, total_r, total_v, low, high, status))
    frame = pd.DataFrame(rows, columns=PARTICIPATION_COLUMNS)
    for col in ("visitors", "min_expected", "max_expected"):
        frame[col] = frame[col].astype("Int64")
    return frame


# -- quotas --------------------------------------------------------------------------------
QUOTA_COLUMNS = ["unit_code", "unit_name", "individual", "organization", "responses",
                 "quota_individual", "quota_organization", "quota", "made_up", "made_up_by",
                 "missing", "met"]


def quota_table(survey, accepted: pd.DataFrame) -> pd.DataFrame:
    """Accepted responses per unit and respondent type against the unit's quotas.

    The plan's rule: a shortfall of one type may be made up by extra responses of the other,
    so the total quota is what must be met. `made_up` is how much of a shortfall the other
    type covered and `made_up_by` that type (only one type can have both spare responses and
    the other a shortfall); `missing` is what is still to collect; `met` is responses >= quota.
    Units without quotas have empty quota cells and `met` empty. An empty respondent_type
    counts as the survey's first type (the contract's rule for responses).
    """
    counts: dict[tuple[str, str], int] = {}
    if accepted is not None and not accepted.empty:
        first = survey.respondent_types[0]
        types = accepted.get("respondent_type", pd.Series([""] * len(accepted)))
        for code, rtype in zip(accepted["unit_code"], types.fillna(""), strict=True):
            unit = survey.find_unit(code)
            if unit is None:
                continue
            key = (unit.code, str(rtype).strip() or first)
            counts[key] = counts.get(key, 0) + 1
    rows = []
    for unit in survey.units:
        ind = counts.get((unit.code, "individual"), 0)
        org = counts.get((unit.code, "organization"), 0)
        quota = unit.quota
        if quota is None:
            rows.append((unit.code, unit.name, ind, org, ind + org, None, None, None, None, None,
                         None, None))
            continue
        qi, qo = unit.quota_individual or 0, unit.quota_organization or 0
        short_i, short_o = max(0, qi - ind), max(0, qo - org)
        extra_i, extra_o = max(0, ind - qi), max(0, org - qo)
        by_ind, by_org = min(short_o, extra_i), min(short_i, extra_o)
        made_up_by = "individual" if by_ind else "organization" if by_org else None
        missing = max(0, quota - ind - org)
        rows.append((unit.code, unit.name, ind, org, ind + org, qi, qo, quota, by_ind + by_org,
                     made_up_by, missing, ind + org >= quota))
    frame = pd.DataFrame(rows, columns=QUOTA_COLUMNS)
    for col in ("quota_individual", "quota_organization", "quota", "made_up", "missing"):
        frame[col] = frame[col].astype("Int64")
    frame["met"] = frame["met"].astype("boolean")
    return frame


# -- the files score writes ----------------------------------------------------------------
def too_many_rows(table: pd.DataFrame) -> dict[str, list[tuple]]:
    """{unit code: [(date, responses, visitors, max_expected), …]} of the `too_many` rows of a
    participation table, days first and the `total` row last; units without one are absent.

    A unit that is `too_many` on any day must be flagged wherever it is shown, not only when
    the window total is: one stuffed day hides easily inside an ordinary total.
    """
    found: dict[str, list[tuple]] = {}
    for r in table[table["status"] == "too_many"].itertuples():
        found.setdefault(r.unit_code, []).append(
            (r.date, int(r.responses), int(r.visitors), int(r.max_expected)))
    return found


def write_reports(survey, layout, accepted: pd.DataFrame) -> list[str]:
    """Write participation.csv and, for roster access, completion.csv; return the notes.

    Called by pipeline.score with the accepted responses (canonical columns, text cells).
    One note per unit with a `too_many` day or window total, naming the days.
    """
    notes: list[str] = []
    counts = daily_counts(survey, accepted)
    visitors = load_visitors(survey)
    table = participation_table(survey, counts, visitors)
    atomic_write_csv(layout.data_file("participation.csv"), table)
    for unit, found in too_many_rows(table).items():
        parts = [_("{day}: {responses} responses for {visitors} visitors (at most {most})",
                   day=_("window total") if d == TOTAL else d, responses=r, visitors=v, most=m)
                 for d, r, v, m in found]
        notes.append(_("{unit}: too many responses for the visitors counted, check for ballot "
                       "stuffing before publishing; {days}", unit=unit, days="; ".join(parts)))
    if survey.access == "roster":
        from hailong.survey import roster

        members = roster.load_roster(survey)
        done = roster.answered_ids(members, accepted)
        atomic_write_csv(layout.data_file("completion.csv"), roster.completion(members, done))
        notes.append(_("{done} of {members} cooperatives have answered",
                       done=len(done), members=len(members)))
    return notes


def require_columns(frame: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise HailongError(_("{where}: missing column(s) {value}; run `hailong score` again",
                             where=where, value=', '.join(missing)))
