"""What every signal reads: the accepted rows prepared once, as plain numpy arrays.

A signal module gets a `Rows` and the survey, and returns `Fired` records: the unit, how many
of its answers show the sign, and a Vietnamese sentence for staff. run.py adds the share.

Every entry of a `Rows` depends on its own row alone (units by their place in units.csv,
answers by the survey's list of answers, device ids by a hash of their text, no codes numbered
in the order values turn up), so rows prepared chunk by chunk join with `Rows.concat` into
exactly what `Rows.of` gives for the whole frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.ingest.responses import arrow_cells
from hailong.score.codes import Cells, text_hash
from hailong.score.queries import signal_query
from hailong.score.signals.answers import encode
from hailong.score.signals.clock import MISSING, micros, parse_micros
from hailong.score.validate import UNIT
from hailong.survey.load import Survey


@dataclass(frozen=True)
class Fired:
    unit: int  # place in survey.units
    count: int
    detail: str
    total: int | None = None  # what `share` divides by; None: the unit's accepted rows


def COLUMNS_READ(survey: Survey, times: bool = False) -> list[str]:  # noqa: N802 (named by issue 10)
    """The columns of accepted that Rows.of reads (without submitted_at when the parsed
    `times` are given), so a chunked reader can keep a lean frame."""
    counted = [q.id for q in survey.questions if q.type in ("scale", "choice")]
    return ["unit_code", *([] if times else ["submitted_at"]), "started_at", "device_id",
            "channel", "entered_by", *counted]


@dataclass
class Rows:
    """Accepted rows of known units, one entry per row in each array."""

    unit: np.ndarray  # int16 (int32 past 32,767 units): place in survey.units
    submitted: np.ndarray  # int64 UTC microseconds since 1970; MISSING where unreadable
    took: np.ndarray  # int64 microseconds from started_at to submitted_at; MISSING without both
    answered: np.ndarray  # int8: questions answered (scale and choice)
    lined: np.ndarray  # int8: scale answers given when all are the same level, else 0
    vector: np.ndarray  # uint64: key of the answer set, equal iff same answers
    device: np.ndarray  # uint64: hash of device_id (stripped), 0 where empty
    helper: np.ndarray  # uint64: hash of an assisted row's entered_by (lower case), else 0
    n: np.ndarray  # int64 per place in survey.units: accepted rows of the unit

    def __len__(self) -> int:
        return len(self.unit)

    @classmethod
    def of(cls, accepted: pd.DataFrame, survey: Survey, times: pd.Series | None = None) -> Rows:
        """`times`: submitted_at already parsed (UTC timestamps, accepted's index), so it is
        not parsed twice; `accepted` needs only COLUMNS_READ(survey, times is not None)."""
        unit = _places(accepted, survey)
        known = unit >= 0
        if not known.all():
            accepted, unit = accepted[known], unit[known]
            times = None if times is None else times[known]

        def text(name: str):
            if name in accepted.columns:
                return arrow_cells(accepted[name])
            return arrow_cells(pd.Series("", index=accepted.index, dtype="str"))

        if times is not None:
            if not times.index.equals(accepted.index):
                times = times.reindex(accepted.index)
            submitted = micros(times)
        else:
            submitted = parse_micros(text("submitted_at"), survey.tz)
        started = parse_micros(text("started_at"), survey.tz)
        took = np.where((submitted == MISSING) | (started == MISSING), MISSING,
                        submitted - started)
        answers = encode(accepted, survey)
        return cls(unit=unit, submitted=submitted, took=took, answered=answers.answered,
                   lined=answers.lined, vector=answers.vector,
                   device=text_hash(Cells.stripped(text("device_id"))),
                   helper=_helpers(text("channel"), text("entered_by")),
                   n=np.bincount(unit, minlength=len(survey.units)).astype(np.int64))

    @classmethod
    def concat(cls, parts: list[Rows]) -> Rows:
        """Rows of consecutive chunks as one (what Rows.of gives for the joined frame). `parts`
        is emptied as its arrays are joined, so the rows are not held twice (ten million rows
        hold 430 MB)."""
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return cls(unit=empty.astype(np.int16), submitted=empty, took=empty,
                       answered=empty.astype(np.int8), lined=empty.astype(np.int8),
                       vector=empty.astype(np.uint64), device=empty.astype(np.uint64),
                       helper=empty.astype(np.uint64), n=empty)
        n = np.sum([p.n for p in parts], axis=0)
        joined = {}
        for name in ("unit", "submitted", "took", "answered", "lined", "vector", "device",
                     "helper"):
            joined[name] = np.concatenate([getattr(p, name) for p in parts])
            for p in parts:
                setattr(p, name, None)
        parts.clear()
        return cls(**joined, n=n)


def answers(rows: Rows, tz=None) -> pa.Table:
    """The rows as the signals' queries read them (hailong.score.queries: `answers`); the local
    `weekday` and `minute` only where `tz` is given (converting ten million times costs a
    second)."""
    columns = {"unit": pa.array(rows.unit.astype(np.int32, copy=False)),
               "device": pa.array(rows.device), "vector": pa.array(rows.vector),
               "answered": pa.array(rows.answered), "lined": pa.array(rows.lined),
               "took": pa.array(rows.took, mask=rows.took == MISSING)}
    if tz is not None:
        has = rows.submitted != MISSING
        utc = (rows.submitted[has] // 1_000_000).astype("datetime64[s]")
        local = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(tz).tz_localize(None)
        seconds = local.as_unit("s").asi8
        minute = np.zeros(len(rows), dtype=np.int16)
        weekday = np.zeros(len(rows), dtype=np.int8)
        minute[has] = seconds % 86400 // 60
        weekday[has] = (seconds // 86400 + 3) % 7 + 1  # 1970-01-01 was a Thursday; 1 = Monday
        columns["minute"] = pa.array(minute, mask=~has)
        columns["weekday"] = pa.array(weekday, mask=~has)
    return pa.table(columns)


def counted(rows: Rows, query: str, tz=None) -> np.ndarray:
    """A signal's query (each unit's count of answers showing the sign) as a count per place
    in survey.units, for share_counts."""
    found = signal_query(answers(rows, tz), query)
    counts = np.zeros(len(rows.n), dtype=np.int64)
    counts[found.column("unit").to_numpy()] = found.column("count").to_numpy()
    return counts


def _helpers(channel, entered_by) -> np.ndarray:
    """The helper of each assisted row as a hash of their code (codes compared in lower case,
    as a helper types it either way); 0 for every other row."""
    if not len(channel) or not pc.any(pc.not_equal(channel, "")).as_py():
        return np.zeros(len(channel), dtype=np.uint64)  # every answer online: no helper
    assisted = pc.equal(pc.utf8_lower(pc.utf8_trim_whitespace(channel)), "assisted")
    assisted = assisted.fill_null(False).to_numpy(zero_copy_only=False)
    if not assisted.any():
        return np.zeros(len(channel), dtype=np.uint64)
    codes = text_hash(Cells.stripped(pc.utf8_lower(entered_by)))
    return np.where(assisted, codes, np.uint64(0))


def _places(accepted: pd.DataFrame, survey: Survey) -> np.ndarray:
    """Each row's place in survey.units (unit_code trimmed, any case), -1 for an unknown unit."""
    kind = np.int16 if len(survey.units) < 2**15 else np.int32
    if UNIT in accepted.columns:  # read once, by the validation query
        return accepted[UNIT].to_numpy().astype(kind, copy=False)
    if "unit_code" not in accepted.columns or not len(accepted):
        return np.full(len(accepted), -1, dtype=kind)
    enc = pc.dictionary_encode(arrow_cells(accepted["unit_code"]))
    spelled = pd.Series(enc.dictionary.to_pylist(), dtype="str").str.strip().str.upper()
    place = {u.code.upper(): i for i, u in enumerate(survey.units)}
    lookup = np.array([place.get(s, -1) for s in spelled], dtype=kind)
    return lookup[enc.indices.to_numpy(zero_copy_only=False)]


def share_counts(rows: Rows, counts: np.ndarray, min_count: int, share: float) -> list[tuple[int, int]]:
    """Units where at least `min_count` rows show the sign (`counts`: per place in
    survey.units) and they are more than `share` of the unit's rows: (place, count) each."""
    hit = np.flatnonzero((counts >= min_count) & (counts > share * rows.n) & (counts > 0))
    return [(int(u), int(counts[u])) for u in hit]


def percent(count: int, total: int) -> str:
    """"42%" as staff read it; never 0% or 100% for a share that is neither."""
    value = 100 * count / total
    text = f"{value:.0f}"
    if text == "100" and count < total:
        text = "99"
    return text + "%"
