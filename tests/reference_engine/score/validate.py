"""Stage: validate response rows (contract, section 5 "Validation").

`validate(frame, survey)` splits the rows read into valid rows (values normalised: the unit's
canonical code, whole-number answers, the first respondent type for an empty one) and
quarantined rows (as given, plus the `reason_code` and `reason` of the first rule they fail). Rules are checked
in the contract's order, so the reason names the first one that fails.

Vectorised: a column's distinct values are few (answers 0..5, a few thousand unit codes), so
each distinct value is judged once in Python and the verdicts are spread to the rows by code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.i18n import N_, _
from hailong.survey.config import CHANNELS
from hailong.survey.load import Survey
from reference_engine.score.codes import factorize, rows_where
from reference_engine.score.stamps import read_fixed

SUBMITTED = "_submitted"  # parsed submitted_at (UTC) carried by valid rows for dedupe and reports
CHANGED = "changed"  # valid.attrs[CHANGED]: the columns validate may have normalised

_AWARE = r"\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"
_ISO = r"^\d{4}-\d\d-\d\d(?:[T ]\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?)?$"
_DMY = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d\d(?::\d\d)?)?$"
_SERIAL = r"^\d{1,6}(?:\.\d+)?$"
_SHEETS_EPOCH = pd.Timestamp("1899-12-30")  # Google Sheets / Excel day 0
_SUB_MICRO = r"([.,]\d{6})\d+"  # digits past the microsecond: pandas would switch to ns
# ASCII digits only: int() and float() also take "1e0", "+4", "٤" and "4.00000000000000001",
# which no form writes and no person means as an answer; "-1" reads, to say it is out of range
_WHOLE = re.compile(r"\s*-?[0-9]+(?:\.0+)?\s*", re.ASCII)
_NO_OPINION = r"^\s*-?0+(?:\.0+)?\s*$"  # a scale answer of 0 (also 0.0, as sheets export it)
# reason_code `empty` (contract v2)
EMPTY_REASON = N_("no answer to any question (every question empty, or 0 for a scale question)")


def _matches(text: pd.Series, pattern: str) -> pd.Series:
    """Regex search with pyarrow's RE2 (pandas falls back to Python's re for some patterns)."""
    found = pc.match_substring_regex(pa.array(text.astype("str").fillna(""), type=pa.large_string()),
                                     pattern)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=text.index)


def parse_times(values: pd.Series, tz) -> pd.Series:
    """submitted_at strings as UTC timestamps; NaT where unreadable.

    Accepts ISO 8601 with an offset, naive ISO 8601 (local time), Google Sheets date-time text
    (day first, as a Vietnamese-locale sheet writes it: 12/06/2024 08:15:00) and Sheets serial
    day numbers (45455.34); naive forms are read in the survey's time zone `tz`.
    """
    return _parse(values.astype("str").str.strip(), tz)[0]


def _parse(text: pd.Series, tz) -> tuple[pd.Series, np.ndarray]:
    """(parse_times of stripped texts, which of them carry an offset or Z). The forms the
    collectors write are read digit by digit first (reference_engine.score.stamps); the rest by pandas."""
    arr = pa.array(text.fillna(""), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    stamps, fixed = read_fixed(arr)
    utc = pd.DatetimeIndex(stamps.view("datetime64[us]")).tz_localize("UTC")
    out = pd.Series(utc, index=text.index, dtype="datetime64[us, UTC]")
    aware = fixed.copy()
    rest = np.flatnonzero(~fixed)
    if len(rest):
        times, offset = _parse_forms(text.iloc[rest], tz)
        out.iloc[rest] = times
        aware[rest] = offset
    return out, aware


def _parse_forms(text: pd.Series, tz) -> tuple[pd.Series, np.ndarray]:
    """parse_times of stripped texts by their form, found by regular expressions; and which
    carry an offset or Z."""
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    # Nanoseconds (2024-06-12T08:00:00.123456789+07:00) are cut to microseconds in the text:
    # parsed as they are, one such stamp turns a whole batch into datetime64[ns], which cannot
    # go into `out` and cannot hold dates past 2262.
    fine = _matches(text, _SUB_MICRO)
    if fine.any():
        text = text.copy()
        text[fine] = text[fine].str.replace(_SUB_MICRO, r"\1", regex=True)
    aware = _matches(text, _AWARE)
    if aware.any():
        out[aware] = _us(pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce"))
    rest = ~aware
    iso = rest & _matches(text, _ISO)
    if iso.any():
        out[iso] = _local(pd.to_datetime(text[iso], format="ISO8601", errors="coerce"), tz)
    dmy = rest & _matches(text, _DMY)
    if dmy.any():
        sub = text[dmy]
        parsed = pd.to_datetime(sub, format="%d/%m/%Y %H:%M:%S", errors="coerce")
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
            missing = parsed.isna()
            if missing.any():
                parsed[missing] = pd.to_datetime(sub[missing], format=fmt, errors="coerce")
        out[dmy] = _local(parsed, tz)
    serial = rest & _matches(text, _SERIAL)
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        days = days.where((days >= 1) & (days < 2958466))  # Sheets' own range, to year 9999
        naive = _SHEETS_EPOCH + pd.to_timedelta((days * 86400).round(), unit="s")
        out[serial] = _local(naive, tz)
    return out, aware.to_numpy(dtype=bool)


def _us(times: pd.Series) -> pd.Series:
    """Timestamps in the microsecond unit of `parse_times`' result (truncating finer ones)."""
    return times.dt.as_unit("us")


def _local(naive: pd.Series, tz) -> pd.Series:
    naive = pd.to_datetime(naive, errors="coerce")
    if getattr(naive.dt, "tz", None) is not None:
        return _us(naive.dt.tz_convert("UTC"))
    return _us(naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC"))


def iso_local(times: pd.Series, tz) -> pd.Series:
    """UTC timestamps written as local ISO 8601 with offset: 2024-06-12T08:15:00+07:00."""
    local = times.dt.tz_convert(tz)
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    # %z gives +0700; ISO 8601's extended form, used everywhere else, is +07:00
    return text.str.slice(0, -2) + ":" + text.str.slice(-2)


# the stable `reason_code` of each rule (contract v2, section 4), for programs; the `reason`
# beside it is a sentence for people. A new rule adds its code here and passes it to `fail`.
REASON_CODES = ("wrong_survey", "unknown_unit", "bad_answer", "bad_choice", "required_missing",
                "bad_time", "outside_window", "bad_respondent_type", "invalid_token",
                "invalid_ticket", "empty", "malformed")


class _Verdicts:
    """The first failing rule's code and reason per row, filled rule by rule in the contract's
    order."""

    def __init__(self, n: int):
        self.reason = np.full(n, "", dtype=object)
        self.code = np.full(n, "", dtype=object)
        self.bad = np.zeros(n, dtype=bool)

    def fail(self, mask, code: str, reasons) -> None:
        """Mark rows failing the rule `code` (one of REASON_CODES). `reasons`: one text, a
        per-row array, or a function of the selected rows' positions (so reasons are only
        formatted for rows that need one)."""
        if code not in REASON_CODES:
            raise ValueError(f"unknown reason code {code!r}: add it to REASON_CODES")
        mask = np.asarray(mask, dtype=bool)
        new = mask & ~self.bad
        if not new.any():
            return
        self.code[new] = code
        if callable(reasons):
            self.reason[new] = np.asarray(reasons(np.flatnonzero(new)), dtype=object)
        elif isinstance(reasons, np.ndarray):
            self.reason[new] = reasons[new]
        else:
            self.reason[new] = reasons
        self.bad |= new


class _Judged:
    """A column judged value by value: `judge(value) -> (normalised, reason or "")` is called
    once per distinct value; rows get their verdict through the factorized codes."""

    def __init__(self, column: pd.Series, judge: Callable[[str], tuple[str, str]]):
        codes, uniques = factorize(column)
        self.codes = codes
        self.column = column
        self.distinct = pa.array(uniques, type=pa.large_string())
        verdicts = [judge(v) for v in uniques]
        self.norm = [v[0] for v in verdicts]
        self.why = np.array([v[1] for v in verdicts] + [""], dtype=object)
        failing = np.array([bool(v[1]) for v in verdicts] + [False])
        self.failing = failing[codes]
        self.changed = any(a != b for a, b in zip(self.norm, uniques, strict=True))

    def each(self, flags: np.ndarray) -> np.ndarray:
        """Per-row flags from one flag per distinct value (False for a missing cell)."""
        return np.append(np.asarray(flags, dtype=bool), False)[self.codes]

    def reasons(self, at: np.ndarray) -> np.ndarray:
        return self.why[self.codes[at]]

    def normalised(self) -> pd.Series | None:
        """The normalised column (pyarrow-backed, no Python string per row), None if unchanged."""
        if not self.changed:
            return None
        table = pa.array(self.norm + [""], type=pa.large_string())
        codes = np.where(self.codes < 0, len(self.norm), self.codes)
        return pd.Series(table.take(pa.array(codes)), index=self.column.index, dtype="str")


def _whole_number(text: str) -> int | None:
    """The number in 5, " 4 " or 5.0 (spreadsheets export whole numbers so); else None."""
    if not _WHOLE.fullmatch(text):
        return None
    return int(text.strip().split(".")[0])


def validate(frame: pd.DataFrame, survey: Survey, members: dict[str, str] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid, quarantine): valid rows normalised with `_submitted`; quarantine as given + reason.
    `members`: a sample survey's active members {id: unit code} (hailong.survey.sampled)."""
    n = len(frame)
    v = _Verdicts(n)
    normal: dict[str, pd.Series] = {}  # columns whose normalised values differ from the input

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype("str").fillna("")  # a missing cell is an empty one
        return pd.Series("", index=frame.index, dtype="str")

    # survey_id: empty means this survey
    sid = col("survey_id").str.strip()
    same = (sid == survey.id).to_numpy()
    v.fail(~same & (sid != "").to_numpy(), "wrong_survey",
           lambda at: _each(N_("survey_id '{value}' is not this survey ('{survey}')"), sid.iloc[at],
                            survey=survey.id))
    if not same.all():
        normal["survey_id"] = pd.Series(survey.id, index=frame.index, dtype="str")

    # unit_code: trimmed, case-insensitive, normalised to the code in units.csv
    by_upper = {c.upper(): c for c in survey.unit_codes}

    def judge_unit(value: str) -> tuple[str, str]:
        code = by_upper.get(value.strip().upper())
        if code is None:
            return value, _("unit_code '{value}' is not in units.csv", value=value.strip())
        return code, ""

    units = _Judged(col("unit_code"), judge_unit)
    v.fail(units.failing, "unknown_unit", units.reasons)
    _keep(normal, "unit_code", units)

    lo, hi = survey.scale.min, survey.scale.max
    answered = np.zeros(n, dtype=bool)  # rule `empty`, gathered question by question
    for q in survey.questions:
        judged = _Judged(col(q.id), _judge(q, lo, hi))
        v.fail(judged.failing, "bad_choice" if q.type == "choice" else "bad_answer",
               judged.reasons)
        blank = judged.each(_blank(judged.distinct))
        if q.required:
            v.fail(blank, "required_missing",
                   _("{question}: required question left empty", question=q.id))
        given = ~blank
        if q.type == "scale":
            given &= ~judged.each(_found(judged.distinct, _NO_OPINION))
        answered |= given
        _keep(normal, q.id, judged)

    # submitted_at: readable and inside the window (local dates, inclusive)
    raw_times = col("submitted_at")
    stripped = raw_times.str.strip()
    times, aware = _parse(stripped, survey.tz)
    unreadable = times.isna().to_numpy()
    v.fail(unreadable, "bad_time", lambda at: _each(
        N_("submitted_at '{value}' is not a date-time (use ISO 8601, e.g. 2024-06-12T08:15:00+07:00)"),
        raw_times.iloc[at].str.strip()))
    start = pd.Timestamp(survey.start, tz=survey.tz).tz_convert("UTC")
    end = pd.Timestamp(survey.end + dt.timedelta(days=1), tz=survey.tz).tz_convert("UTC")
    outside = (~unreadable) & ((times < start) | (times >= end)).to_numpy()
    v.fail(outside, "outside_window", lambda at: _each(
        N_("submitted_at '{value}' is outside the survey window {start}..{end} (local dates)"),
        raw_times.iloc[at].str.strip(), start=survey.start, end=survey.end))

    # respondent_type: empty means the first type
    types = survey.respondent_types

    def judge_type(value: str) -> tuple[str, str]:
        text = value.strip().lower() or types[0]
        if text in types:
            return text, ""
        return value, _("respondent_type '{value}' is not one of {types}", value=value.strip(),
                        types=", ".join(types))

    rtypes = _Judged(col("respondent_type"), judge_type)
    v.fail(rtypes.failing, "bad_respondent_type", rtypes.reasons)
    _keep(normal, "respondent_type", rtypes)

    # a survey without questions: nothing to answer, nothing is empty
    v.fail(~answered if survey.questions else answered, "empty", _(EMPTY_REASON))

    _check_channel(v, col, normal)

    if survey.access in ("roster", "sample"):
        from hailong.survey.roster import check_keys

        pending = ~v.bad
        keys = col("respondent_key")[pending]
        ok = np.ones(n, dtype=bool)
        if len(keys):
            units = col("unit_code")[pending]
            # a sample survey: only the token of an active member (official or brought in)
            extra = {"roster_ids": members or {}} if survey.access == "sample" else {}
            ok[pending] = check_keys(survey, keys, units=units, **extra).to_numpy(dtype=bool)
        v.fail(~ok, "invalid_token", _("invalid token"))

    if survey.access == "tickets":
        pending = np.flatnonzero(~v.bad)
        codes = normal["unit_code"] if "unit_code" in normal else col("unit_code")
        local = times.dt.tz_convert(survey.tz)
        reasons = _ticket_reasons(survey, col("ticket"), codes, local, pending, n)
        v.fail(reasons != "", "invalid_ticket", reasons)

    good = ~v.bad
    quarantine = rows_where(frame, v.bad)
    quarantine["reason_code"] = pd.Series(v.code[v.bad], index=quarantine.index, dtype="str")
    quarantine["reason"] = pd.Series(v.reason[v.bad], index=quarantine.index, dtype="str")
    valid = rows_where(frame, good)
    for name, values in normal.items():
        valid[name] = values[good]
    # times are written back as read when they carry an offset; Sheets text, serial numbers
    # and naive times become local ISO 8601, so later readers see one form
    kept_times = stripped[good]
    naive = ~aware[good]
    if naive.any():
        kept_times = kept_times.copy()
        kept_times[naive] = iso_local(times[good][naive], survey.tz)
    valid["submitted_at"] = kept_times.astype("str")
    valid[SUBMITTED] = times[good]
    # the columns whose cells may differ from the rows as read (score keeps those cells too)
    valid.attrs[CHANGED] = [*normal, "submitted_at"]
    return valid, quarantine


_CODE = r"^[A-Za-z0-9_-]{1,20}$"  # a clerk's or helper's short code (never a name)


def _check_channel(v: _Verdicts, col, normal: dict[str, pd.Series]) -> None:
    """Contract v3, section 2: `channel` online (or empty) | paper | assisted, any case;
    a paper or assisted row names its clerk or helper in `entered_by`; a paper row says which
    keying it is in `entry` (1, 2, or 3 for a supervisor). A row that breaks these cannot be
    matched with its other keyings nor counted by channel: `malformed`, naming the column."""
    raw = col("channel")
    if not len(raw) or not pc.any(pc.not_equal(pa.array(raw, pa.large_string()), "")).as_py():
        return  # every answer online, as before v3: nothing to check
    channel = raw.str.strip().str.lower()
    known = channel.isin(["", *CHANNELS]).to_numpy()
    v.fail(~known, "malformed", lambda at: _each(
        N_("channel '{value}' is not online, paper or assisted"), raw.iloc[at].str.strip()))
    if not (channel == raw).all():
        normal["channel"] = channel
    staffed = channel.isin(["paper", "assisted"]).to_numpy()
    if not staffed.any():
        return
    clerk = col("entered_by").str.strip()
    v.fail(staffed & ~_matches(clerk, _CODE).to_numpy(), "malformed", lambda at: _each(
        N_("entered_by '{value}': a paper or assisted answer needs the clerk's or helper's "
           "code (1-20 letters, digits, - or _)"), clerk.iloc[at]))
    entry = col("entry").str.strip()
    paper = (channel == "paper").to_numpy()
    v.fail(paper & ~entry.isin(["1", "2", "3"]).to_numpy(), "malformed", lambda at: _each(
        N_("entry '{value}': a paper answer says which keying it is (1, 2, or 3 for a "
           "supervisor's decision)"), entry.iloc[at]))


def _ticket_reasons(survey: Survey, ticket: pd.Series, codes: pd.Series, local: pd.Series,
                    pending: np.ndarray, n: int) -> np.ndarray:
    """The reason per row ("" for a valid ticket) of a tickets survey's rows still valid."""
    from hailong.survey.tickets import check
    from hailong.survey.tokens import signing_key

    key = signing_key(making=False)
    reasons = np.full(n, "", dtype=object)
    if not len(pending):
        return reasons
    # plain lists of the rows still valid: indexing pandas per row costs more than the HMAC
    texts = ticket.to_numpy(dtype=object)[pending].tolist()
    units = codes.to_numpy(dtype=object)[pending].tolist()
    days = local.iloc[pending].dt.date.tolist()
    for at, text, unit, day in zip(pending.tolist(), texts, units, days, strict=True):
        got = check(survey.id, unit, text, day, key, first=survey.start, last=survey.end)
        if not got.ok:
            reasons[at] = _ticket_reason(got, text.strip(), unit)
    return reasons


def _ticket_reason(got, shown: str, unit: str) -> str:
    if got.why == "missing":
        return _("ticket: no ticket (a tickets survey: every answer must carry the code printed "
                 "on the slip handed out at the one-stop office)")
    if got.why == "shape":
        return _("ticket '{shown}': not a ticket code (the code on a slip has 14 letters and "
                 "digits)", shown=shown)
    if got.why == "early":
        return _("ticket '{shown}': a ticket for {day} used before that day", shown=shown,
                 day=f"{got.date:%d/%m/%Y}")
    return _("ticket '{shown}': not a ticket of this survey for unit {unit} (forged, of another "
             "unit or survey, or signed with another key)", shown=shown, unit=unit)


def _each(message: str, values: pd.Series, **fields) -> pd.Series:
    """A reason per row: `message` (marked with N_) translated once, its {value} filled from
    each row's cell."""
    head, tail = _(message, value="\0", **fields).split("\0")
    return head + values + tail


def _blank(texts: pa.Array) -> np.ndarray:
    """Texts that are empty once trimmed (as pandas' str.strip trims)."""
    return pc.equal(pc.utf8_trim_whitespace(texts), "").to_numpy(zero_copy_only=False)


def _found(texts: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(texts, pattern).to_numpy(zero_copy_only=False)


def _keep(normal: dict[str, pd.Series], name: str, judged: _Judged) -> None:
    column = judged.normalised()
    if column is not None:
        normal[name] = column


def _judge(q, lo: int, hi: int) -> Callable[[str], tuple[str, str]]:
    """The per-value check of one question's answers."""
    if q.type == "scale":
        def judge(value: str) -> tuple[str, str]:
            text = value.strip()
            if text == "":
                return "", ""
            number = _whole_number(text)
            if number is None:
                return value, _("{question}: answer '{value}' is not a whole number",
                                question=q.id, value=text)
            if number != 0 and not lo <= number <= hi:
                return value, _("{question}: answer '{value}' outside {lo}..{hi} (0 or empty: no "
                                "opinion)", question=q.id, value=text, lo=lo, hi=hi)
            return str(number), ""
        return judge
    if q.type == "choice":
        options = {o.casefold(): o for o in q.options}

        def judge_choice(value: str) -> tuple[str, str]:
            text = value.strip()
            if text == "":
                return "", ""
            if text.casefold() in options:
                return options[text.casefold()], ""
            return value, _("{question}: '{value}' is not one of the options ({options})",
                            question=q.id, value=text, options=" | ".join(q.options))
        return judge_choice
    return lambda value: (value, "")
