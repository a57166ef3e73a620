"""Stage: validate response rows (contract, section 5 "Validation").

`validate(frame, survey)` splits the rows read into valid rows (values normalised: the unit's
canonical code, whole-number answers, the first respondent type for an empty one) and
quarantined rows (as given, plus the `reason` of the first rule they fail). Rules are checked
in the contract's order, so the reason names the first one that fails.

Vectorised: a column's distinct values are few (answers 0..5, a few thousand unit codes), so
each distinct value is judged once in Python and the verdicts are spread to the rows by code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from hailong.survey import Survey

SUBMITTED = "_submitted"  # parsed submitted_at (UTC) carried by valid rows for dedupe and reports

_AWARE = r"\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)$"
_ISO = r"^\d{4}-\d\d-\d\d(?:[T ]\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?)?$"
_DMY = r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d\d(?::\d\d)?)?$"
_SERIAL = r"^\d{1,6}(?:\.\d+)?$"
_SHEETS_EPOCH = pd.Timestamp("1899-12-30")  # Google Sheets / Excel day 0


def parse_times(values: pd.Series, tz) -> pd.Series:
    """submitted_at strings as UTC timestamps; NaT where unreadable.

    Accepts ISO 8601 with an offset, naive ISO 8601 (local time), Google Sheets date-time text
    (day first, as a Vietnamese-locale sheet writes it: 12/06/2024 08:15:00) and Sheets serial
    day numbers (45455.34); naive forms are read in the survey's time zone `tz`.
    """
    text = values.astype("str").str.strip()
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    aware = text.str.contains(_AWARE, regex=True)
    if aware.any():
        out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
    rest = ~aware
    iso = rest & text.str.match(_ISO)
    if iso.any():
        out[iso] = _local(pd.to_datetime(text[iso], format="ISO8601", errors="coerce"), tz)
    dmy = rest & text.str.match(_DMY)
    if dmy.any():
        sub = text[dmy]
        parsed = pd.to_datetime(sub, format="%d/%m/%Y %H:%M:%S", errors="coerce")
        for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y"):
            missing = parsed.isna()
            if missing.any():
                parsed[missing] = pd.to_datetime(sub[missing], format=fmt, errors="coerce")
        out[dmy] = _local(parsed, tz)
    serial = rest & text.str.match(_SERIAL)
    if serial.any():
        days = pd.to_numeric(text[serial], errors="coerce")
        days = days.where((days >= 1) & (days < 2958466))  # Sheets' own range, to year 9999
        naive = _SHEETS_EPOCH + pd.to_timedelta((days * 86400).round(), unit="s")
        out[serial] = _local(naive, tz)
    return out


def _local(naive: pd.Series, tz) -> pd.Series:
    naive = pd.to_datetime(naive, errors="coerce")
    if getattr(naive.dt, "tz", None) is not None:
        return naive.dt.tz_convert("UTC")
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")


def iso_local(times: pd.Series, tz) -> pd.Series:
    """UTC timestamps written as local ISO 8601 with offset: 2024-06-12T08:15:00+07:00."""
    local = times.dt.tz_convert(tz)
    text = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return text.str.replace(r"([+-]\d\d)(\d\d)$", r"\1:\2", regex=True).astype("str")


class _Verdicts:
    """The first failing rule's reason per row, filled rule by rule in the contract's order."""

    def __init__(self, n: int):
        self.reason = np.full(n, "", dtype=object)
        self.bad = np.zeros(n, dtype=bool)

    def fail(self, mask, reasons) -> None:
        """Mark rows failing a rule. `reasons`: one text, a per-row array, or a function of
        the selected rows' positions (so reasons are only formatted for rows that need one)."""
        mask = np.asarray(mask, dtype=bool)
        new = mask & ~self.bad
        if not new.any():
            return
        if callable(reasons):
            self.reason[new] = np.asarray(reasons(np.flatnonzero(new)), dtype=object)
        elif isinstance(reasons, np.ndarray):
            self.reason[new] = reasons[new]
        else:
            self.reason[new] = reasons
        self.bad |= new


def _by_value(column: pd.Series, judge: Callable[[str], tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    """Judge each distinct value once: `judge(value) -> (normalised, reason or "")`."""
    codes, uniques = pd.factorize(column.astype("str"))
    verdicts = [judge(v) for v in uniques]
    norm = np.array([v[0] for v in verdicts] + [""], dtype=object)
    why = np.array([v[1] for v in verdicts] + [""], dtype=object)
    return norm[codes], why[codes]


def _whole_number(text: str) -> int | None:
    if "_" in text:  # int() reads "1_0" as 10; a person did not mean that
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def validate(frame: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(valid, quarantine): valid rows normalised with `_submitted`; quarantine as given + reason."""
    n = len(frame)
    v = _Verdicts(n)
    normal: dict[str, np.ndarray | pd.Series] = {}

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype("str")
        return pd.Series("", index=frame.index, dtype="str")

    # survey_id: empty means this survey
    sid = col("survey_id").str.strip()
    v.fail(((sid != "") & (sid != survey.id)).to_numpy(),
           lambda at: "survey_id '" + sid.iloc[at] + f"' is not this survey ('{survey.id}')")
    normal["survey_id"] = np.full(n, survey.id, dtype=object)

    # unit_code: trimmed, case-insensitive, normalised to the code in units.csv
    codes = np.array(survey.unit_codes + [""], dtype=object)
    lookup = pd.Index([c.upper() for c in survey.unit_codes])
    given = col("unit_code").str.strip()
    at = lookup.get_indexer(given.str.upper())
    unknown = at < 0
    v.fail(unknown, lambda at: "unit_code '" + given.iloc[at] + "' is not in units.csv")
    normal["unit_code"] = codes[at]

    lo, hi = survey.scale.min, survey.scale.max
    for q in survey.questions:
        cells = col(q.id)
        if q.type == "scale":
            def judge(value: str, qid=q.id) -> tuple[str, str]:
                text = value.strip()
                if text == "":
                    return "", ""
                number = _whole_number(text)
                if number is None:
                    return text, f"{qid}: answer '{text}' is not a whole number"
                if number != 0 and not lo <= number <= hi:
                    return text, f"{qid}: answer '{text}' outside {lo}..{hi} (0 or empty: no opinion)"
                return str(number), ""
        elif q.type == "choice":
            options = {o.casefold(): o for o in q.options}

            def judge(value: str, qid=q.id, options=options) -> tuple[str, str]:
                text = value.strip()
                if text == "":
                    return "", ""
                if text.casefold() in options:
                    return options[text.casefold()], ""
                return text, f"{qid}: '{text}' is not one of the options"
        else:
            def judge(value: str) -> tuple[str, str]:
                return value, ""

        norm, why = _by_value(cells, judge)
        v.fail(why != "", why)
        if q.required:
            v.fail(cells.str.strip().to_numpy() == "", f"{q.id}: required question left empty")
        normal[q.id] = norm

    # submitted_at: readable and inside the window (local dates, inclusive)
    raw_times = col("submitted_at")
    times = parse_times(raw_times, survey.tz)
    unreadable = times.isna().to_numpy()
    v.fail(unreadable, lambda at: "submitted_at '" + raw_times.iloc[at].str.strip()
           + "' is not a date-time (use ISO 8601, e.g. 2024-06-12T08:15:00+07:00)")
    start = pd.Timestamp(survey.start, tz=survey.tz).tz_convert("UTC")
    end = pd.Timestamp(survey.end + dt.timedelta(days=1), tz=survey.tz).tz_convert("UTC")
    outside = (~unreadable) & ((times < start) | (times >= end)).to_numpy()
    v.fail(outside, lambda at: "submitted_at '" + raw_times.iloc[at].str.strip()
           + f"' is outside the survey window {survey.start}..{survey.end} (local dates)")

    # respondent_type: empty means the first type
    rtype = col("respondent_type").str.strip().str.lower()
    rtype = rtype.where(rtype != "", survey.respondent_types[0])
    v.fail((~rtype.isin(survey.respondent_types)).to_numpy(),
           lambda at: "respondent_type '" + rtype.iloc[at] + "' is not one of "
           + ", ".join(survey.respondent_types))
    normal["respondent_type"] = rtype.to_numpy(dtype=object)

    if survey.access == "roster":
        from hailong.tokens import check_keys

        pending = ~v.bad
        keys = col("respondent_key")[pending]
        ok = np.ones(n, dtype=bool)
        if len(keys):
            ok[pending] = check_keys(survey, keys).to_numpy(dtype=bool)
        v.fail(~ok, "invalid token")

    good = ~v.bad
    quarantine = frame[v.bad].copy()
    quarantine["reason"] = pd.Series(v.reason[v.bad], index=quarantine.index, dtype="str")
    valid = frame[good].copy()
    for name, values in normal.items():
        valid[name] = pd.Series(np.asarray(values, dtype=object)[good], index=valid.index, dtype="str")
    stamps = times[good]
    aware = raw_times[good].str.strip().str.contains(_AWARE, regex=True)
    if (~aware).any():
        # Sheets text, serial numbers and naive times are written back in one ISO form
        fixed = iso_local(stamps[~aware], survey.tz)
        submitted = raw_times[good].str.strip().copy()
        submitted[~aware] = fixed
        valid["submitted_at"] = submitted.astype("str")
    else:
        valid["submitted_at"] = raw_times[good].str.strip()
    valid[SUBMITTED] = stamps
    return valid, quarantine
