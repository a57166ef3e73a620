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
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.i18n import N_, _
from hailong.ingest.responses import text_chunks
from hailong.score import queries
from hailong.score.codes import rows_where
from hailong.score.queries import fixed_times
from hailong.survey.load import Survey

SUBMITTED = "_submitted"  # parsed submitted_at (UTC) carried by valid rows for dedupe and reports
# what the validation query read for the tallies, carried by valid rows: the unit's place in
# units.csv (int32), and each scale answer as a number (int16, 0 for none): answer_column(id)
UNIT = "_unit"
ANSWER = "_answer:"
CHANGED = "changed"  # valid.attrs[CHANGED]: the columns validate may have normalised

_AWARE = r"\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"
_ISO = r"^\d{4}-\d\d-\d\d(?:[T ]\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?)?$"
_DMY = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d\d(?::\d\d)?)?$"
_SERIAL = r"^\d{1,6}(?:\.\d+)?$"
_SHEETS_EPOCH = pd.Timestamp("1899-12-30")  # Google Sheets / Excel day 0
_SUB_MICRO = r"([.,]\d{6})\d+"  # digits past the microsecond: pandas would switch to ns
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
    collectors write are read in SQL first (hailong.score.queries.fixed_times); the rest by
    pandas."""
    arr = pa.array(text.fillna(""), type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())
    stamps, fixed = fixed_times(arr)
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


def read_times(frame: pd.DataFrame, survey: Survey) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """What validate reads of submitted_at, which needs no other column: (the texts trimmed,
    parse_times of them, which carry an offset or Z). score reads them on the thread that
    reads the next chunk, so that validation, the longest stage, does not wait for them."""
    stripped = _column(frame, "submitted_at").str.strip()
    return (stripped, *_parse(stripped, survey.tz))


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name].astype("str").fillna("")  # a missing cell is an empty one
    return pd.Series("", index=frame.index, dtype="str")


def validate(frame: pd.DataFrame, survey: Survey, members: dict[str, str] | None = None,
             times: tuple[pd.Series, pd.Series, np.ndarray] | None = None
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid, quarantine): valid rows normalised with `_submitted`; quarantine as given + reason.
    `members`: a sample survey's active members {id: unit code} (hailong.survey.sampled);
    `times`: read_times(frame, survey), when read already.
    The rules are one SQL query (queries.validation_query); Python reads the date-time forms,
    judges the texts Python's case rules compare, and checks tokens and tickets."""
    n = len(frame)
    names = queries.validation_columns(survey)

    stripped, times, aware = times if times is not None else read_times(frame, survey)
    stamps = pd.DatetimeIndex(times).as_unit("us").asi8
    texts = {c: _texts(frame, name, n) for name, c in names.items()}
    start = pd.Timestamp(survey.start, tz=survey.tz).tz_convert("UTC").as_unit("us")
    end = pd.Timestamp(survey.end + dt.timedelta(days=1), tz=survey.tz).tz_convert("UTC")
    con = queries.connect()  # two threads: the reader of the next chunk leaves time spare
    try:
        con.register("rows", pa.table({
            "pos": pa.array(np.arange(n, dtype=np.int64)), **texts,
            "t": pa.array(stamps, mask=stamps == queries.MISSING)}))
        if (scale := queries.scale_read(survey)) is not None:
            con.execute(scale)
        place = {code: i for i, code in enumerate(survey.unit_codes)}
        for c, judge in _judges(survey).items():
            distinct = con.sql(f"SELECT DISTINCT {c} AS raw FROM rows").fetchnumpy()["raw"]
            verdicts = [judge(str(v)) for v in distinct]
            con.register(f"judged_{c}", pa.table({
                "raw": pa.array([str(v) for v in distinct], pa.large_string()),
                "norm": pa.array([v[0] for v in verdicts], pa.large_string()),
                "why": pa.array([v[1] for v in verdicts], pa.large_string()),
                # a unit's place in units.csv (the others' is never read)
                "at": pa.array([-1 if why else place.get(norm, -1) for norm, why in verdicts],
                               pa.int32())}))
        query, rule_codes = queries.validation_query(
            survey, _reasons(survey), start.value // 1000, end.as_unit("us").value // 1000)
        got = con.sql(query).to_arrow_table()
    finally:
        con.close()
    got = _in_row_order(got, n)
    v = _Verdicts(n)
    failed = got.column("failed")
    v.bad = failed.is_valid().to_numpy(zero_copy_only=False)
    v.code = np.array([*rule_codes, ""], dtype=object)[
        pc.fill_null(failed, len(rule_codes)).to_numpy()]
    v.reason = pc.fill_null(got.column("reason"), "").to_numpy(zero_copy_only=False).astype(object)

    if survey.access in ("roster", "sample"):
        from hailong.survey.roster import check_keys

        pending = ~v.bad
        keys = _column(frame, "respondent_key")[pending]
        ok = np.ones(n, dtype=bool)
        if len(keys):
            units = _column(frame, "unit_code")[pending]
            # a sample survey: only the token of an active member (official or brought in)
            extra = {"roster_ids": members or {}} if survey.access == "sample" else {}
            ok[pending] = check_keys(survey, keys, units=units, **extra).to_numpy(dtype=bool)
        v.fail(~ok, "invalid_token", _("invalid token"))

    if survey.access == "tickets":
        pending = np.flatnonzero(~v.bad)
        units = pd.Series(pc.coalesce(got.column("n_unit"), texts["unit"]), index=frame.index,
                          dtype="str")
        local = times.dt.tz_convert(survey.tz)
        reasons = _ticket_reasons(survey, _column(frame, "ticket"), units, local, pending, n)
        v.fail(reasons != "", "invalid_ticket", reasons)

    good = ~v.bad
    quarantine = rows_where(frame, v.bad)
    quarantine["reason_code"] = pd.Series(v.code[v.bad], index=quarantine.index, dtype="str")
    quarantine["reason"] = pd.Series(v.reason[v.bad], index=quarantine.index, dtype="str")
    valid = rows_where(frame, good)
    normal = []  # the columns whose normalised values differ from the input
    keep = pa.array(good)
    for name, c in names.items():
        if "n_" + c not in got.column_names:
            continue
        values = got.column("n_" + c).filter(keep)  # NULL where the text is already normal
        if (name not in frame.columns and name != "channel") or values.null_count < len(values):
            values = pc.coalesce(values, texts[c].filter(keep))
            valid[name] = pd.Series(pd.array(values, dtype="str"), index=valid.index)
            normal.append(name)
    valid[UNIT] = _numbers(got.column("unit_at"), good, np.int32, valid.index)
    for i, q in enumerate(survey.questions):
        if q.type == "scale":
            valid[answer_column(q.id)] = _numbers(got.column(f"v_q{i}"), good, np.int16,
                                                  valid.index)
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


def answer_column(question_id: str) -> str:
    """The column of valid rows holding a scale question's answers as numbers."""
    return ANSWER + question_id


def _numbers(column: pa.ChunkedArray, good: np.ndarray, dtype, index: pd.Index) -> pd.Series:
    """The valid rows' numbers of a query column (NULL, which no valid row has, as 0)."""
    values = (pc.fill_null(column, 0) if column.null_count else column).to_numpy()
    return pd.Series(values[good].astype(dtype, copy=False), index=index)


def _in_row_order(got: pa.Table, n: int) -> pa.Table:
    """The query's rows put back in row order by their `pos` (a gather: cheaper than an
    ORDER BY in the query)."""
    pos = got.column("pos").to_numpy()
    if len(pos) == n and (n < 2 or bool(np.all(pos[1:] > pos[:-1]))):
        return got  # DuckDB kept the order (it mostly does): nothing to move
    at = np.empty(n, dtype=np.int64)
    at[pos] = np.arange(n, dtype=np.int64)
    return got.take(pa.array(at))


def _texts(frame: pd.DataFrame, name: str, n: int) -> pa.ChunkedArray:
    if name not in frame.columns:
        return pa.chunked_array([pa.array([""] * n, pa.large_string())], pa.large_string())
    return text_chunks(frame[name])


def _judges(survey: Survey) -> dict[str, Callable[[str], tuple[str, str]]]:
    """The judges of the texts compared by Python's case rules, per query column: (normalised,
    reason or "") of one distinct text."""
    by_upper = {c.upper(): c for c in survey.unit_codes}

    def judge_unit(value: str) -> tuple[str, str]:
        code = by_upper.get(value.strip().upper())
        if code is None:
            return value, _("unit_code '{value}' is not in units.csv", value=value.strip())
        return code, ""

    types = survey.respondent_types

    def judge_type(value: str) -> tuple[str, str]:
        text = value.strip().lower() or types[0]
        if text in types:
            return text, ""
        return value, _("respondent_type '{value}' is not one of {types}", value=value.strip(),
                        types=", ".join(types))

    judges = {"unit": judge_unit, "rtype": judge_type}
    for i, q in enumerate(survey.questions):
        if q.type == "choice":
            judges[f"q{i}"] = _judge_choice(q)
    return judges


def _reasons(survey: Survey) -> dict[str, tuple[str, str]]:
    """Each reason the query writes, translated: (text before, text after) the value quoted."""
    def around(message: str, **fields) -> tuple[str, str]:
        head, tail = _(message, value="\0", **fields).split("\0")
        return head, tail

    out = {
        "wrong_survey": around(N_("survey_id '{value}' is not this survey ('{survey}')"),
                               survey=survey.id),
        "bad_time": around(N_("submitted_at '{value}' is not a date-time (use ISO 8601, e.g. "
                              "2024-06-12T08:15:00+07:00)")),
        "outside_window": around(N_("submitted_at '{value}' is outside the survey window "
                                    "{start}..{end} (local dates)"),
                                 start=survey.start, end=survey.end),
        "empty": (_(EMPTY_REASON), ""),
        "channel": around(N_("channel '{value}' is not online, paper or assisted")),
        "clerk": around(N_("entered_by '{value}': a paper or assisted answer needs the clerk's "
                           "or helper's code (1-20 letters, digits, - or _)")),
        "entry": around(N_("entry '{value}': a paper answer says which keying it is (1, 2, or 3 "
                           "for a supervisor's decision)")),
    }
    lo, hi = survey.scale.min, survey.scale.max
    for i, q in enumerate(survey.questions):
        out[f"required q{i}"] = (_("{question}: required question left empty",
                                   question=q.id), "")
        out[f"whole q{i}"] = around(N_("{question}: answer '{value}' is not a whole number"),
                                    question=q.id)
        out[f"range q{i}"] = around(N_("{question}: answer '{value}' outside {lo}..{hi} (0 or "
                                       "empty: no opinion)"), question=q.id, lo=lo, hi=hi)
    return out


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


def _judge_choice(q) -> Callable[[str], tuple[str, str]]:
    """One choice question's answer: one of the options, any case (Python's casefold)."""
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
