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
Rows (contract v2): one per unit-day with responses, visitors or tickets, plus each unit's
`total`; a day with none of them has no row (its minimum still counts in the total). So the
cost is O(rows + active unit-days), never units × window days: a national year is 10,600 ×
365 = 3.9 million unit-days, most of them empty. `tickets_issued,tickets_used` are empty
unless access = "tickets".
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_csv
from hailong.i18n import _
from hailong.score.queries import participation_csv, participation_rows
from hailong.score.runfile import entry_of_bytes
from hailong.score.validate import UNIT
from hailong.survey.config import CHANNELS
from hailong.survey.tables import DATE_FORMATS, parse_date, read_table

VISITORS_FILE = "visitors.csv"
TOTAL = "total"
PARTICIPATION_COLUMNS = ["unit_code", "date", "responses", "visitors", "min_expected",
                         "max_expected", "status", "tickets_issued", "tickets_used",
                         *CHANNELS]
TICKET_COLUMNS = ["tickets_issued", "tickets_used"]  # empty unless access = "tickets"
FILE_COLUMNS = PARTICIPATION_COLUMNS  # participation.csv
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
        day = parse_date(row["date"])
        if day is None:
            raise table.error(row, "date", _("'{value}' is not a date; write {formats}, e.g. "
                                             "12/06/2024", value=row['date'], formats=DATE_FORMATS))
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


def daily_counts(survey, accepted: pd.DataFrame, times: pd.Series | None = None
                 ) -> dict[tuple[str, dt.date], int]:
    """Accepted responses per (unit code, local date)."""
    frame = daily_frame(survey, accepted, times)
    days = frame["day"].to_numpy(dtype="datetime64[D]").tolist()  # datetime.date objects
    return {(survey.units[u].code, d): int(n)
            for u, d, n in zip(frame["unit"].tolist(), days, frame["responses"].tolist(), strict=True)}


def daily_frame(survey, accepted: pd.DataFrame, times: pd.Series | None = None) -> pd.DataFrame:
    """Accepted responses per unit-day that has any: `unit` (position in units.csv), `day`
    (datetime64[D], local), `responses`. O(rows): one sort, no loop over units or days.

    `times`: the rows' parsed submitted_at (validate's `_submitted`), to save parsing again."""
    if accepted is None or accepted.empty:
        return pd.DataFrame({"unit": np.zeros(0, np.int64), "day": np.zeros(0, "datetime64[D]"),
                             "responses": np.zeros(0, np.int64)})
    if times is None:
        days = _local_midnights(accepted, survey.tz)
    else:
        days = pd.to_datetime(times, utc=True).dt.tz_convert(survey.tz).dt.tz_localize(None)
    day = days.to_numpy(dtype="datetime64[D]")
    unit = (accepted[UNIT].to_numpy(np.int64) if UNIT in accepted.columns  # validate's
            else _unit_positions(survey, accepted["unit_code"]))
    keep = (unit >= 0) & ~np.isnat(day)
    unit, day = unit[keep], day[keep]
    origin = day.min() if len(day) else np.datetime64("1970-01-01", "D")
    offset = (day - origin).astype(np.int64)
    span = int(offset.max()) + 1 if len(offset) else 1
    keys = np.sort(unit * span + offset)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else keys
    counts = np.diff(np.r_[starts, len(keys)])
    keys = keys[starts]
    return pd.DataFrame({"unit": keys // span, "day": origin + (keys % span).astype("timedelta64[D]"),
                         "responses": counts.astype(np.int64)})


def _unit_positions(survey, codes: pd.Series) -> np.ndarray:
    """Each code's position in units.csv (trimmed, any case); -1 where it is not there."""
    lookup = pd.Index([u.code.upper() for u in survey.units])
    factor, uniques = pd.factorize(codes.astype("str"))
    at = lookup.get_indexer(pd.Index(uniques).str.strip().str.upper())
    return np.append(at, -1)[factor].astype(np.int64)


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


def participation_table(survey, counts, visitors, days=None, tickets=None,
                        channels=None) -> pd.DataFrame:
    """participation.csv: a row per unit and survey day that has responses, visitors or
    tickets, in units.csv order then by date, and a `total` row per unit after its days.

    `counts` and `visitors`: {(unit code, date): number}, or `counts` as `daily_frame` gives
    it; `days`: the survey days to cover (default the window); `tickets`: {(unit code, date):
    (issued, used)} of a tickets survey; `channels`: {channel: counts like `counts`} for the
    `online,paper,assisted` columns (contract v3; default: every response online). One SQL
    query (hailong.score.queries.PARTICIPATION) over the entries: O(unit-days with activity +
    units), as a year-long national survey has millions of unit-days, most without a row.
    The `total` row's minimum is still the sum of every covered day's minimum (a day without
    a row has no visitor count, so its minimum is min_responses) and is `no_visitor_count`
    when any covered day lacks a count.
    """
    days, tables = _kinds(survey, counts, visitors, days, tickets, channels)
    p = survey.participation
    got = participation_rows(tables, len(survey.units), len(days), p.tolerance,
                             p.busy_visitors, p.min_busy, p.min_responses, list(CHANNELS))
    d = got.column("d").to_numpy()
    codes = [u.code for u in survey.units]
    day_text = [str(x) for x in days.tolist()] + [TOTAL]  # the total's d is the number of days
    frame = pd.DataFrame({
        "unit_code": _texts(codes, got.column("unit").to_numpy()),
        "date": _texts(day_text, d),
        "responses": got.column("responses").to_numpy().astype(np.int64),
        "visitors": _nullable(got.column("visitors")),
        "min_expected": _nullable(got.column("min_expected")),
        "max_expected": _nullable(got.column("max_expected")),
        "status": pd.Series(pd.array(got.column("status"), dtype="str")),
    })
    tickets_kept = survey.access == "tickets"
    for name, column in (("tickets_issued", "issued"), ("tickets_used", "used")):
        frame[name] = (_nullable(got.column(column)) if tickets_kept else pd.arrays.IntegerArray(
            np.zeros(len(frame), np.int64), np.ones(len(frame), bool)))
    for name in CHANNELS:
        frame[name] = got.column(name).to_numpy().astype(np.int64)
    return frame


def participation_file(survey, counts, visitors, tickets=None, channels=None
                       ) -> tuple[bytes, int, dict[str, list[tuple]]]:
    """participation.csv as participation_table's rows would be written, made by DuckDB from
    the counts directly (no frame of a million unit-days in between): (the file's bytes, its
    records, too_many_rows of it)."""
    days, tables = _kinds(survey, counts, visitors, None, tickets, channels)
    p = survey.participation
    data, records, too_many = participation_csv(
        tables, [u.code for u in survey.units], [str(x) for x in days.tolist()] + [TOTAL],
        p.tolerance, p.busy_visitors, p.min_busy, p.min_responses, list(CHANNELS),
        FILE_COLUMNS, survey.access == "tickets")
    return data, records, too_many_rows(too_many.assign(status="too_many"))


def _kinds(survey, counts, visitors, days, tickets, channels
           ) -> tuple[np.ndarray, dict[str, pa.Table]]:
    """(the window's days, the PARTICIPATION query's table of each kind of count)."""
    days = np.array(sorted(days if days is not None else survey.days()), dtype="datetime64[D]")
    pos = {u.code: i for i, u in enumerate(survey.units)}
    act = _activity(counts, pos)
    kinds = [("responses", act), ("visitors", _keyed(visitors, pos)),
             ("issued", _keyed({k: v[0] for k, v in (tickets or {}).items()}, pos)),
             ("used", _keyed({k: v[1] for k, v in (tickets or {}).items()}, pos))]
    if channels is None:  # every response online
        kinds.append(("online", act))
    else:
        kinds += [(name, _activity(channels.get(name, {}), pos)) for name in CHANNELS]
    tables = {}
    for kind, (unit, day, n) in kinds:
        at, ok = _covered(day, days)  # a day outside the window has no row
        tables[kind] = pa.table({"unit": pa.array(unit[ok], pa.int64()),
                                 "d": pa.array(at, pa.int64()), "n": pa.array(n[ok], pa.int64())})
    return days, tables


def channel_frames(survey, accepted: pd.DataFrame, times: pd.Series | None = None,
                   whole: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """{channel: daily_frame of its accepted responses}; an empty channel is online.
    `whole`: daily_frame of all of them, when already made (every answer online: the same)."""
    if whole is None:
        whole = daily_frame(survey, accepted, times)
    if accepted is None or "channel" not in accepted.columns or not len(accepted):
        return {"online": whole}
    # Arrow kernels on the column as validate wrote it (trimmed, lower case): ten million
    # rows in a fraction of a second, where pandas' str methods take seconds
    from hailong.ingest.responses import text_chunks

    channel = text_chunks(accepted["channel"])
    staffed = {name: pc.equal(channel, name).to_numpy(zero_copy_only=False)
               for name in CHANNELS if name != "online"}
    if not any(mask.any() for mask in staffed.values()):  # every answer online
        return {"online": whole}
    online = ~np.logical_or.reduce(list(staffed.values()))
    out = {}
    for name, mask in (("online", online), *staffed.items()):
        out[name] = daily_frame(survey, accepted[mask], None if times is None else times[mask])
    return out


class DailyTally:
    """The daily counts of participation.csv gathered a chunk of accepted rows at a time, so
    that score keeps counts, not rows: per channel, responses per (unit, survey day) in a grid
    of units × window days (10,600 units × 365 days: 31 MB a channel). Counts add up, so the
    chunks' grids are the whole file's `channel_frames`; a day outside the window has no row
    in participation.csv (participation_table leaves it out), so it is not kept either."""

    def __init__(self, survey):
        self.survey = survey
        self.first = np.datetime64(survey.start, "D")
        self.days = len(survey.days())
        self.grids: dict[str, np.ndarray] = {}

    def add(self, accepted: pd.DataFrame, times: pd.Series | None = None) -> None:
        """Count one chunk's accepted rows (`times`: their parsed submitted_at)."""
        if accepted is None or not len(accepted):
            return
        size = len(self.survey.units) * self.days
        for name, frame in channel_frames(self.survey, accepted, times).items():
            offset = (frame["day"].to_numpy("datetime64[D]") - self.first).astype(np.int64)
            inside = (offset >= 0) & (offset < self.days)
            cell = frame["unit"].to_numpy(np.int64)[inside] * self.days + offset[inside]
            grid = self.grids.setdefault(name, np.zeros(size, dtype=np.int64))
            grid[cell] += frame["responses"].to_numpy(np.int64)[inside]  # one row a cell

    def frames(self) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        """(daily_frame of every channel together, {channel: its daily_frame})."""
        channels = {name: self._frame(grid) for name, grid in self.grids.items()}
        whole = sum(self.grids.values()) if self.grids else np.zeros(0, dtype=np.int64)
        return self._frame(whole), channels

    def _frame(self, grid: np.ndarray) -> pd.DataFrame:
        cell = np.flatnonzero(grid)
        return pd.DataFrame({"unit": cell // self.days,
                             "day": self.first + (cell % self.days).astype("timedelta64[D]"),
                             "responses": grid[cell]})


def _activity(counts, pos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(unit positions, days, responses) from a dict or a `daily_frame`."""
    if isinstance(counts, pd.DataFrame):
        return (counts["unit"].to_numpy(np.int64), counts["day"].to_numpy("datetime64[D]"),
                counts["responses"].to_numpy(np.int64))
    return _keyed(counts, pos)


def _keyed(mapping, pos) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """{(unit code, date): number} as arrays; codes not in units.csv and None values left out."""
    items = [(pos[u], d, n) for (u, d), n in (mapping or {}).items()
             if u in pos and n is not None]
    if not items:
        return np.zeros(0, np.int64), np.zeros(0, "datetime64[D]"), np.zeros(0, np.int64)
    units, days, numbers = zip(*items, strict=True)
    return (np.array(units, np.int64), np.array(days, dtype="datetime64[D]"),
            np.array(numbers, np.int64))


def _texts(values: list[str], at: np.ndarray) -> pd.Series:
    """values[at] as a text column, built by pyarrow (no Python string per row)."""
    return pd.Series(pa.array(values, type=pa.large_string()).take(pa.array(at)), dtype="str")


def _covered(day: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each covered entry's position among the window's `days`, mask of covered entries)."""
    at = np.searchsorted(days, day)
    ok = at < len(days)
    ok[ok] = days[at[ok]] == day[ok]
    return at[ok], ok


def _nullable(values: pa.ChunkedArray) -> pd.arrays.IntegerArray:
    """Whole numbers, NULL as an empty cell."""
    return pd.arrays.IntegerArray(pc.fill_null(values, 0).to_numpy().astype(np.int64),
                                  values.is_null().to_numpy())


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


def needs_rows(survey) -> bool:
    """Whether write_reports needs the accepted rows themselves, not only a DailyTally: the
    tickets used (tickets access) and who answered (roster and sample access)."""
    return survey.access in ("tickets", "roster", "sample")


def write_reports(survey, layout, accepted: pd.DataFrame | None, times: pd.Series | None = None,
                  tickets=None, daily: DailyTally | None = None,
                  entries: dict | None = None) -> list[str]:
    """Write participation.csv and, for roster access, completion.csv; return the notes.

    Called by pipeline.score with the accepted responses (canonical columns, text cells) and
    their parsed submitted_at (`times`, optional), or with their counts gathered chunk by chunk
    (`daily`), and then the rows only where needs_rows. `tickets`: see participation_table.
    One note per unit with a `too_many` day or window total, naming the days. `entries`: where
    given, participation.csv's records and SHA-256 (run.json's Entry) go in it, taken from the
    bytes written, so that score need not read the file back.
    """
    notes: list[str] = []
    if daily is not None:
        counts, channels = daily.frames()
    else:
        counts = daily_frame(survey, accepted, times)
        channels = channel_frames(survey, accepted, times, counts)
    visitors = load_visitors(survey)
    if tickets is None and survey.access == "tickets":
        issued, used = ticket_counts(survey, layout, accepted)
        tickets = {key: (issued.get(key, 0), used.get(key, 0)) for key in issued.keys() | used.keys()}
    data, records, too_many = participation_file(survey, counts, visitors, tickets, channels)
    atomic_write_bytes(layout.data_file("participation.csv"), data)
    if entries is not None:
        entries["participation.csv"] = entry_of_bytes(data, records)
    del data
    for unit, found in too_many.items():
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
    if survey.access == "sample":
        from hailong.survey import roster, sampled

        state = sampled.load_state(layout)
        active = state.active()
        done = roster.answered_ids(active, accepted)
        atomic_write_csv(layout.data_file("completion.csv"),
                         sampled.completion(state, done, survey.unit_codes))
        notes.append(_("{done} of {members} sampled respondents have answered ({replaced} "
                       "replaced)", done=len(done), members=len(active),
                       replaced=len(state.log)))
    return notes


def ticket_counts(survey, layout, accepted: pd.DataFrame):
    """(issued, used): tickets per (unit code, ISO date of issue), from the issued.csv that
    `hailong tickets` wrote and from the accepted responses (each uses one ticket, once). A
    ticket's issue date is read from issued.csv (a ticket does not write it); a ticket that
    issued.csv does not hold (another issuer's) counts on the day it was used."""
    from hailong.collect.tickets import ISSUED, issued_counts, read_issued
    from hailong.survey.tickets import normalise

    canonical = {u.code.upper(): u.code for u in survey.units}
    issued = {(canonical[u], d): n for (u, d), n in
              issued_counts(layout.tickets / ISSUED).items() if u in canonical}
    used: dict[tuple[str, str], int] = {}
    if accepted is not None and not accepted.empty:
        table = read_issued(layout.tickets / ISSUED)
        dated = {(str(u).upper(), t): d for u, t, d in
                 zip(table["unit_code"], table["ticket"], table["date"], strict=True)}
        days = local_dates(accepted, survey.tz)
        for code, ticket, day in zip(accepted["unit_code"], accepted["ticket"], days, strict=True):
            unit = canonical.get(str(code).strip().upper())
            t = normalise(str(ticket))
            when = dated.get((unit.upper(), t)) if unit and t else None
            when = when or (day.isoformat() if day is not None else None)
            if unit and when:
                used[(unit, when)] = used.get((unit, when), 0) + 1
    return issued, used


def require_columns(frame: pd.DataFrame, columns, where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise HailongError(_("{where}: missing column(s) {value}; run `hailong score` again",
                             where=where, value=', '.join(missing)))
