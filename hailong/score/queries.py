"""score's SQL: the contract's rules that are relational (dedupe, the CSV cells), on DuckDB.

One module for the queries, so that a newcomer who changes a rule reads SQL, each part under
a comment naming the contract rule it is. What SQL is the wrong tool for stays in Python:
texts judged one distinct value at a time (a ticket's typed form, Python's own upper case),
the exact interval and rank ranges (hailong.score.scoring, hailong.stats).

Texts are trimmed as Python's str.strip trims (and pandas' and Arrow's, which agree): the
macro `strip` takes the same set of white-space characters (WHITESPACE).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from hailong.ingest.responses import csv_head, text_chunks
from hailong.survey.tickets import normalise as read_ticket

# every character str.isspace() holds, which str.strip, pandas and Arrow all trim (written
# out: finding them among all of Unicode at import cost each command 60 ms;
# tests/test_queries.py checks the list against str.isspace)
WHITESPACE = "".join(map(chr, (
    0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
    *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000)))
_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
MEMORY_ENV = "HAILONG_SCORE_MEMORY"  # DuckDB's memory_limit, e.g. "1.5GB"
MEMORY_LIMIT = "1GB"  # beyond it DuckDB spills to the temporary folder
MISSING = np.iinfo(np.int64).min  # no time (NaT's own int64 value)


def connect(work: Path | None = None, threads: int = 2) -> duckdb.DuckDBPyConnection:
    """A DuckDB database of its own with score's macros: two threads (the staff PC's cores),
    memory bounded, spilling into `work` (score's temporary folder) rather than growing.
    A CSV writer takes one thread (`writer`)."""
    con = duckdb.connect(config={"threads": threads, "preserve_insertion_order": True})
    con.execute(f"SET memory_limit = '{os.environ.get(MEMORY_ENV, MEMORY_LIMIT)}'")
    # DuckDB draws a bar of its own on stderr for a query past two seconds (dedupe at ten
    # million rows): the command's own steps are what staff should see
    con.execute("SET enable_progress_bar = false")
    if work is not None:
        con.execute("SET temp_directory = ?", [str(work)])
    # a text trimmed as str.strip() trims it; trim() with a set of characters is slow, so only
    # a text that starts or ends with one is trimmed
    con.execute(f"CREATE MACRO strip(x) AS CASE WHEN regexp_matches(x, '^{_SPACE}|{_SPACE}$') "
                f"THEN trim(x, {_literal(WHITESPACE)}) ELSE x END")
    con.execute(CSV_MACROS)
    return con


# -- CSV cells (contract, section 4: every CSV hailong writes) ---------------------------------
# `safe`: a text a spreadsheet would run as a formula (it starts with = + - @, a tab, a carriage
# return, or the apostrophe that is the escape itself) gets an apostrophe in front; a number
# (-5, +1.5e3) is left as it is (hailong.cells.safe).
CSV_MACROS = r"""
CREATE MACRO safe(x) AS
    -- first a comparison of bytes, cheap: only a text starting below '0' (tab, CR, ', +, -
    -- and others) or with = > ? @ is looked at further (the whole macro then cost half as much)
    CASE WHEN (x < '0' OR (x >= '=' AND x < 'A'))
              AND ascii(x) IN (61, 43, 45, 64, 9, 13, 39)  -- = + - @ tab CR '
              AND NOT regexp_full_match(x, '[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?')
         THEN '''' || x ELSE x END;
"""
# DuckDB's CSV writer quotes as Python's csv module does (a quote, comma or line end inside;
# quotes doubled) except that it writes an empty text as "" (an empty cell goes as NULL) and,
# unless told there is no comment character, quotes a text holding its default one, #.
COPY_CSV = "(HEADER false, QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n', COMMENT '')"


def writer(work: Path | None = None) -> duckdb.DuckDBPyConnection:
    """A connection for one CSV writer (csv_blocks): one thread, a database of its own (the
    pipeline's writers run beside each other and beside the rest, each on a thread of its
    own; with two threads each and the cursors of one database the peak at a million rows was
    1.25 GiB instead of 0.85)."""
    return connect(work, threads=1)


def csv_blocks(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, scratch: Path,
               block: int = 1 << 22, rows: int = 100_000, plain: frozenset[str] = frozenset()):
    """The lines of a CSV file for `frame`'s rows, its columns in order (every cell `safe`,
    quoted where needed, "\\n" line ends), in blocks of bytes: the file after its header (the
    pipeline writes the BOM and header). DuckDB's COPY writes `rows` rows at a time into
    `scratch` (a folder), from where they are handed on a block at a time: the Arrow batch
    each COPY reads (below) and the text are held for that many rows only. `plain`: columns
    whose texts cannot start a formula, so `safe` is not run on them (numbers, normalised
    answers, dates: half of the cost of a COPY was `safe`)."""
    for start in range(0, len(frame) if len(frame.columns) else 0, rows):
        yield from _copied(con, frame.iloc[start:start + rows], scratch, block, plain)


def _copied(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, scratch: Path, block: int,
            plain: frozenset[str]):
    names = [f"c{i}" for i in range(len(frame.columns))]
    # one Arrow batch: DuckDB scans a batch in order and writes the rows in the order scanned
    # (preserve_insertion_order). A table of several chunks was seen, even on one thread, to
    # move a run of 35 rows of 500,000 to the end (3M-row bench); sorting the rows back cost
    # a second a million rows
    table = pa.table({c: _cells(frame, name) for c, name in zip(names, frame.columns,
                                                                strict=True)}).combine_chunks()
    cells = ", ".join(c if pa.types.is_integer(table.schema.field(c).type)  # digits, or empty
                      else f"nullif({c if name in plain else f'safe({c})'}, '') AS {c}"
                      for c, name in zip(names, frame.columns, strict=True))
    path = Path(scratch) / f"chunk-{threading.get_ident()}.csv"
    con.register("csv_rows", table)
    try:
        con.execute(f"COPY (SELECT {cells} FROM csv_rows) TO '{_path(path)}' {COPY_CSV}")
        con.unregister("csv_rows")
        del table
        with open(path, "rb") as fh:
            yield from iter(lambda: fh.read(block), b"")
    finally:
        with contextlib.suppress(Exception):
            con.unregister("csv_rows")
        path.unlink(missing_ok=True)


def _cells(frame: pd.DataFrame, name: str) -> pa.Array | pa.ChunkedArray:
    """A column as COPY reads it: whole numbers (nullable) as numbers, which DuckDB writes as
    digits and a missing one as an empty cell; anything else as its texts."""
    column = frame[name] if name in frame.columns else None
    if column is not None and pd.api.types.is_integer_dtype(column.dtype):
        return pa.array(column.to_numpy(dtype=np.int64, na_value=0),
                        mask=column.isna().to_numpy(), type=pa.int64())
    return _texts(frame, name)


def csv_body(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, scratch: Path,
             plain: frozenset[str] = frozenset()) -> bytes:
    """csv_blocks joined."""
    return b"".join(csv_blocks(con, frame, scratch, plain=plain))


def csv_bytes(frame: pd.DataFrame, plain: frozenset[str] = frozenset()) -> bytes:
    """A whole CSV file for a frame of text (or whole-number) columns: BOM, header, csv_body
    (a file held in memory: the tests' fixtures, the bench)."""
    with (tempfile.TemporaryDirectory(prefix="hailong-csv-") as scratch,
          connect(threads=1) as con):
        return csv_head(frame.columns) + csv_body(con, frame, Path(scratch), plain)


def _path(path: Path) -> str:
    return str(path).replace("'", "''")


# -- Date-times the collectors write (contract, section 2: submitted_at) -----------------------
# The collector's 2024-06-12T08:15:00+07:00 and the page's 2024-06-12T01:15:00Z or
# 2024-06-12T01:15:00.123Z, read as UTC microseconds; NULL for any other text, and for a date
# that does not exist (try_cast), an hour past 23, an offset past 14 hours or a year outside
# 1900..2200: those go to validate.parse_times, the one definition of a date-time, which gives
# the same instant for every text read here (tests/test_queries_times.py).
FIXED_TIME = r"""
CREATE MACRO fixed_time(x) AS CASE
    WHEN regexp_full_match(x, '(19\d\d|2[01]\d\d|2200)-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d'
                              || '([+-](0\d|1[0-4]):[0-5]\d|Z|\.\d\d\dZ)')
    THEN CASE length(x)  -- one of three forms, told apart by their length
        WHEN 25 THEN epoch_us(try_strptime(x, '%Y-%m-%dT%H:%M:%S%z'))  -- an offset: +07:00
        WHEN 20 THEN epoch_us(try_strptime(x, '%Y-%m-%dT%H:%M:%SZ'))
        ELSE epoch_us(try_strptime(x, '%Y-%m-%dT%H:%M:%S.%gZ'))  -- milliseconds
    END
END
"""


def fixed_times(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 UTC microseconds, which texts were read: the others are MISSING) for an array of
    texts without nulls, by `fixed_time`."""
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(FIXED_TIME)
        con.register("stamps", pa.table({"x": arr, "place": np.arange(len(arr), dtype=np.int64)}))
        # in whatever order DuckDB gives them, put back in place here (cheaper than ORDER BY)
        got = con.sql("SELECT place, fixed_time(x) AS t FROM stamps").fetchnumpy()
    finally:
        con.close()
    values = np.full(len(arr), MISSING, dtype=np.int64)
    read = np.zeros(len(arr), dtype=bool)
    if len(arr):
        place = np.asarray(got["place"], dtype=np.int64)
        read[place] = ~np.ma.getmaskarray(got["t"])
        values[place] = np.ma.getdata(got["t"]).astype(np.int64, copy=False)
        values[~read] = MISSING
    return values, read


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# -- Dedupe (contract, section 5 "Dedupe") ----------------------------------------------------
# The valid rows' keys, one row each: `pos` their place among the valid rows (file order),
# `row` their file row, `t` submitted_at (UTC microseconds), the key texts trimmed, and the
# unit and ticket as typed tickets are read (`tunit`, `tticket`: Python, per distinct text).
# Each rule is one UPDATE over the rows the rules before it kept (`rule IS NULL`), in time order
# (`s`: the position by submitted_at, ties by file row).
KEYS = """
CREATE OR REPLACE TEMP TABLE every_key AS
SELECT pos, row, t, strip(response_id) AS rid, strip(unit_code) AS unit,
       strip(respondent_key) AS rkey,
       CASE WHEN channel IN ('paper', 'assisted') THEN '' ELSE strip(device_id) END AS device,
       strip(ticket) AS ticket
FROM keys
"""
# Only a row that shares a key with another row can be dropped or be kept in another's place:
# any other row is alone in every rule's group, whatever the rules before it dropped. So the
# rules run over those rows only (a few in a hundred), found by grouping, not by sorting all
# of them; a row with a ticket always takes part (tickets are compared as read by Python).
SHARED = """
CREATE OR REPLACE TEMP TABLE dk AS
WITH shared AS (
    SELECT pos FROM every_key WHERE ticket <> ''
    UNION
    SELECT pos FROM every_key SEMI JOIN (SELECT rid FROM every_key WHERE rid <> ''
                                         GROUP BY rid HAVING count(*) > 1) USING (rid)
    UNION
    SELECT pos FROM every_key SEMI JOIN (SELECT unit, rkey FROM every_key WHERE rkey <> ''
                                         GROUP BY unit, rkey HAVING count(*) > 1)
                              USING (unit, rkey)
    {device}
)
SELECT pos, row_number() OVER (ORDER BY t, row) - 1 AS s, rid, unit, rkey, device, ticket,
       NULL::VARCHAR AS rule, NULL::BIGINT AS kept
FROM every_key SEMI JOIN shared USING (pos)
"""
SHARED_DEVICE = """
    UNION
    SELECT pos FROM every_key SEMI JOIN (SELECT unit, device FROM every_key WHERE device <> ''
                                         GROUP BY unit, device HAVING count(*) > 1)
                              USING (unit, device)
"""
# 1. replay: the same response_id again: keep the earliest
REPLAY = """
UPDATE dk SET rule = 'replay', kept = g.first
FROM (SELECT s, min(s) OVER (PARTITION BY rid) AS first FROM dk WHERE rid <> '') g
WHERE dk.s = g.s AND g.first <> g.s
"""
# 2. (v3) one (unit_code, ticket) carried by two or more responses: none of them counts; they
# go to quarantine as contested_ticket. Compared as typed tickets are read (tickets_read).
CONTESTED = """
UPDATE dk SET rule = 'contested_ticket', kept = dk.s
FROM (SELECT s, count(*) OVER (PARTITION BY tunit, tticket) AS carried
      FROM dk JOIN tickets_read USING (unit, ticket)
      WHERE rule IS NULL AND tticket <> '') g
WHERE dk.s = g.s AND g.carried >= 2
"""
# 3. respondent: the same (unit_code, respondent_key), key not empty: keep per dedupe.keep
# (`{keep}`: min for the first in time order, max for the last)
RESPONDENT = """
UPDATE dk SET rule = 'respondent', kept = g.chosen
FROM (SELECT s, {keep}(s) OVER (PARTITION BY unit, rkey) AS chosen
      FROM dk WHERE rule IS NULL AND rkey <> '') g
WHERE dk.s = g.s AND g.chosen <> g.s
"""
# 4. device: when dedupe.by_device, the same (unit_code, device_id), id not empty; paper and
# assisted rows never (v3: a clerk's computer, a helper's phone: their device is blank above)
DEVICE = """
UPDATE dk SET rule = 'device', kept = g.chosen
FROM (SELECT s, {keep}(s) OVER (PARTITION BY unit, device) AS chosen
      FROM dk WHERE rule IS NULL AND device <> '') g
WHERE dk.s = g.s AND g.chosen <> g.s
"""
# the dropped rows in file order, with the response_id kept in each one's place
DROPPED = """
SELECT d.pos, d.rule, CASE WHEN d.rule = 'contested_ticket' THEN '' ELSE k.rid END AS kept_id
FROM dk d JOIN dk k ON k.s = d.kept
WHERE d.rule IS NOT NULL
ORDER BY d.pos
"""


def duplicate_rows(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame, survey,
                   times: np.ndarray) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(positions of the dropped rows among `keys`, ascending; their rule; the response_id kept
    in their place, empty for contested_ticket rows, which go to quarantine).
    `keys`: response_id, unit_code, ticket, respondent_key, device_id, channel, indexed by file
    row; `times`: submitted_at as UTC microseconds."""
    table = pa.table({
        "pos": pa.array(np.arange(len(keys), dtype=np.int64)),
        "row": pa.array(np.asarray(keys.index, dtype=np.int64)),
        "t": pa.array(np.asarray(times, dtype=np.int64)),
        **{name: _texts(keys, name) for name in
           ("response_id", "unit_code", "ticket", "respondent_key", "device_id", "channel")},
    })
    con.register("keys", table)
    try:
        keep = "max" if survey.dedupe.keep == "last" else "min"
        con.execute(KEYS)
        con.execute(SHARED.format(device=SHARED_DEVICE if survey.dedupe.by_device else ""))
        con.execute("DROP TABLE every_key")
        con.execute(REPLAY)
        _tickets_read(con)
        con.execute(CONTESTED)
        con.execute(RESPONDENT.format(keep=keep))
        if survey.dedupe.by_device:
            con.execute(DEVICE.format(keep=keep))
        found = con.sql(DROPPED).to_arrow_table()
    finally:
        con.unregister("keys")
        con.execute("DROP TABLE IF EXISTS every_key; DROP TABLE IF EXISTS dk; "
                    "DROP TABLE IF EXISTS tickets_read")
    gone = found.column("pos").to_numpy().astype(np.int64)
    rules = pd.Series(found.column("rule").to_pylist(), dtype="str")
    kept_ids = pd.Series(found.column("kept_id").to_pylist(), dtype="str")
    return gone, rules, kept_ids


def _tickets_read(con: duckdb.DuckDBPyConnection) -> None:
    """Each distinct (unit, ticket) as typed tickets are read: the unit in Python's upper case,
    the ticket normalised (hailong.survey.tickets) or else upper case; Python, because these
    are Python's rules and the distinct pairs are few."""
    pairs = con.execute("SELECT DISTINCT unit, ticket FROM dk "
                        "WHERE rule IS NULL AND ticket <> ''").fetchall()
    units = {u: u.upper() for u in {p[0] for p in pairs}}
    tickets = {t: read_ticket(t) or t.upper() for t in {p[1] for p in pairs}}
    table = pa.table({
        "unit": pa.array([p[0] for p in pairs], pa.string()),
        "ticket": pa.array([p[1] for p in pairs], pa.string()),
        "tunit": pa.array([units[p[0]] for p in pairs], pa.string()),
        "tticket": pa.array([tickets[p[1]] for p in pairs], pa.string()),
    })
    con.register("pairs_read", table)
    con.execute("CREATE OR REPLACE TEMP TABLE tickets_read AS SELECT * FROM pairs_read")
    con.unregister("pairs_read")


def _texts(frame: pd.DataFrame, name: str) -> pa.ChunkedArray:
    """A column's texts as Arrow, empty where missing: pandas' own Arrow chunks, not copied."""
    if name not in frame.columns:
        return pa.chunked_array([pa.array([""] * len(frame), pa.large_string())])
    return text_chunks(frame[name])


# -- Validation (contract, section 5 "Validation") --------------------------------------------
# One row per response row (`pos`: its place in the chunk), its texts as read ('' for a missing
# cell) in columns named by `validation_columns`, `t` its submitted_at in UTC microseconds (NULL
# when unreadable: the forms are read by validate.parse_times), and for the texts judged by
# Python's own case rules (unit_code: str.upper; a choice: str.casefold; respondent_type:
# str.lower) a table per column of its distinct texts, `judged_<column>(raw, norm, why)`.
# The first rule a row fails names its reason: one CASE, the contract's rules in its order.
NO_OPINION = r"^\s*-?0+(?:\.0+)?\s*$"  # a scale answer of 0 (also 0.0, as sheets export it)
CLERK = r"^[A-Za-z0-9_-]{1,20}$"  # a clerk's or helper's short code (never a name)


def validation_columns(survey) -> dict[str, str]:
    """{file column: its name in the validation query}: questions become q0, q1, ..."""
    names = {"survey_id": "sid", "unit_code": "unit", "submitted_at": "stamp",
             "respondent_type": "rtype", "channel": "channel", "entered_by": "clerk",
             "entry": "entry"}
    names.update({q.id: f"q{i}" for i, q in enumerate(survey.questions)})
    return names


def judged_columns(survey) -> list[str]:
    """The query columns whose texts Python judges, one distinct text at a time."""
    return ["unit", "rtype", *(f"q{i}" for i, q in enumerate(survey.questions)
                               if q.type == "choice")]


def validation_query(survey, reasons: dict[str, tuple[str, str]], start_us: int,
                     end_us: int) -> tuple[str, list[str]]:
    """(the SELECT giving each row's `pos`, `failed` rule (its number) and `reason`, NULL for a
    valid row, its normalised texts n_<column> (NULL where the text is already so), its unit's
    place in units.csv `unit_at` and its scale answers as numbers v_<column> (for a valid
    row), in any order (validate puts them back by pos); the reason_code of each rule).
    `reasons`: each message translated, the text before and after the value it quotes
    (validate._reasons); [start_us, end_us): the window in UTC microseconds."""
    def quoting(key: str, value: str) -> str:
        head, tail = reasons[key]
        return f"{_literal(head)} || {value} || {_literal(tail)}"

    rules: list[tuple[str, str, str]] = []  # (condition, reason_code, reason)
    norms = [f"nullif({_literal(survey.id)}, sid) AS n_sid", "nullif(j_unit.norm, unit) AS n_unit"]
    given = []  # rule `empty`: a question answered
    # survey_id: empty means this survey
    rules.append((f"s_sid <> '' AND s_sid <> {_literal(survey.id)}", "wrong_survey",
                  quoting("wrong_survey", "s_sid")))
    # unit_code: trimmed, case-insensitive (Python's upper case), the code in units.csv
    rules.append(("j_unit.why <> ''", "unknown_unit", "why_unit"))
    for i, q in enumerate(survey.questions):
        c, s = f"q{i}", f"s_q{i}"
        if q.type == "scale":
            # a whole number (5, " 4 ", 5.0, as sheets export it) in the scale, or 0 or empty:
            # no opinion (judged once per distinct text: scale_read)
            s = f"a_{c}.s"
            rules.append((f"{s} <> '' AND NOT a_{c}.whole", "bad_answer",
                          quoting(f"whole {c}", f"s_{c}")))
            rules.append((f"{s} <> '' AND NOT a_{c}.inside", "bad_answer",
                          quoting(f"range {c}", f"s_{c}")))
            norms.append(f"nullif(a_{c}.number, {c}) AS n_{c}")
            given.append(f"a_{c}.given")
        elif q.type == "choice":
            # one of the options, any case (Python's casefold)
            rules.append((f"j_{c}.why <> ''", "bad_choice", f"why_{c}"))
            norms.append(f"nullif(j_{c}.norm, {c}) AS n_{c}")
            given.append(f"{s} <> ''")
        else:
            given.append(f"{s} <> ''")
        if q.required:
            rules.append((f"{s} = ''", "required_missing", _literal(reasons[f"required {c}"][0])))
    # submitted_at: readable, and inside the window (local dates, inclusive)
    rules.append(("t IS NULL", "bad_time", quoting("bad_time", "strip(stamp)")))
    rules.append((f"t < {start_us} OR t >= {end_us}", "outside_window",
                  quoting("outside_window", "strip(stamp)")))
    # respondent_type: empty means the first type (Python's lower case)
    rules.append(("j_rtype.why <> ''", "bad_respondent_type", "why_rtype"))
    norms.append("nullif(j_rtype.norm, rtype) AS n_rtype")
    # a row answering no question; a survey without questions: nothing is empty
    if given:
        rules.append((f"NOT ({' OR '.join(given)})", "empty", _literal(reasons["empty"][0])))
    # (v3) channel online (or empty) | paper | assisted, any case (an ASCII text: no other
    # text is one of them in lower case); paper and assisted name their clerk or helper;
    # paper says which keying it is (1, 2, or 3 for a supervisor)
    rules.append(("NOT (NOT regexp_matches(s_channel, '[^\\x00-\\x7f]') AND lower(s_channel) "
                  "IN ('', 'online', 'paper', 'assisted'))", "malformed",
                  quoting("channel", "s_channel")))
    rules.append((f"lower(s_channel) IN ('paper', 'assisted') AND NOT regexp_matches(strip(clerk),"
                  f" {_literal(CLERK)})", "malformed", quoting("clerk", "strip(clerk)")))
    rules.append(("lower(s_channel) = 'paper' AND strip(entry) NOT IN ('1', '2', '3')",
                  "malformed", quoting("entry", "strip(entry)")))
    norms.append("nullif(lower(s_channel), channel) AS n_channel")

    first = "\n".join(f"        WHEN {w} THEN {i}" for i, (w, _, _) in enumerate(rules))
    reason = "\n".join(f"        WHEN {i} THEN {r}" for i, (_, _, r) in enumerate(rules))
    stripped = ", ".join(f"strip({c}) AS s_{c}" for c in
                         ["sid", "channel", *(f"q{i}" for i, q in enumerate(survey.questions)
                                              if q.type != "scale")])
    joins = "\n".join([*(f"LEFT JOIN judged_{c} j_{c} ON j_{c}.raw = v.{c}"
                          for c in judged_columns(survey)),
                        *(f"JOIN scale_read a_q{i} ON a_q{i}.raw = v.q{i}"
                          for i, q in enumerate(survey.questions) if q.type == "scale")])
    # the texts the reasons quote, by names of their own
    quoted = ", ".join([*(f"j_{c}.why AS why_{c}" for c in judged_columns(survey)),
                        *(f"a_q{i}.s AS s_q{i}" for i, q in enumerate(survey.questions)
                          if q.type == "scale")])
    # what the tallies after dedupe count, read here once: the unit's place in units.csv and
    # each scale answer as a number (0: none)
    scale = [f"q{i}" for i, q in enumerate(survey.questions) if q.type == "scale"]
    numbers = ", ".join(["unit_at", *(f"v_{c}" for c in scale)])
    numbers_from = ", ".join(["j_unit.at AS unit_at", *(f"a_{c}.value AS v_{c}" for c in scale)])
    # `failed`: the number of the first rule failed; its reason is formatted for those rows only
    query = f"""
SELECT pos, failed,
       CASE failed
{reason}
       END AS reason,
       COLUMNS('^n_'), {numbers}
FROM (SELECT pos, s_sid, s_channel, stamp, clerk, entry, {quoted}, {numbers_from},
             CASE
{first}
             END AS failed,
             {', '.join(norms)}
      FROM (SELECT *, {stripped} FROM rows) v
{joins})
"""
    return query, [k for _, k, _ in rules]


def scale_read(survey) -> str | None:
    """The statement making `scale_read`: each distinct text of the scale questions, judged:
    `s` trimmed, `whole` a whole number, `inside` in the scale or 0, `number` normalised ('' when
    empty), `value` that number as a SMALLINT (0 when empty; 0 too for a text that is not a
    valid answer, whose row is quarantined), `given` an answer (not empty, not 0: the rule
    `empty`)."""
    scale = [f"q{i}" for i, q in enumerate(survey.questions) if q.type == "scale"]
    if not scale:
        return None
    lo, hi = survey.scale.min, survey.scale.max
    texts = " UNION ".join(f"SELECT DISTINCT {c} AS raw FROM rows" for c in scale)
    return f"""
CREATE OR REPLACE TEMP TABLE scale_read AS
SELECT raw, s, whole, inside, number,
       CASE WHEN whole AND inside THEN coalesce(sign * try_cast(d AS SMALLINT), 0)
            ELSE 0 END::SMALLINT AS value,
       given
FROM (SELECT raw, s, whole, d, sign,
             d = '' OR (length(d) <= 9 AND sign * try_cast(d AS BIGINT) BETWEEN {lo} AND {hi})
                 AS inside,
             CASE WHEN s = '' THEN '' WHEN d = '' THEN '0' WHEN sign < 0 THEN '-' || d
                  ELSE d END AS number,
             s <> '' AND NOT regexp_matches(raw, {_literal(NO_OPINION)}) AS given
      FROM (SELECT raw, s, regexp_full_match(s, '-?[0-9]+(?:\\.0+)?') AS whole,
                   -- the digits without sign, fraction and leading zeros: '' for 0
                   ltrim(split_part(ltrim(s, '-'), '.', 1), '0') AS d,
                   CASE WHEN starts_with(s, '-') THEN -1 ELSE 1 END AS sign
            FROM (SELECT raw, strip(raw) AS s FROM ({texts}))))
"""


# -- Tallies (contract, section 5 "Scoring, exactly": what steps 1 and 6 count) ----------------
# Per unit (its place in units.csv), over its accepted responses: `n` the responses, and per
# scale question j: `answers_j` the answers in the scale (empty and 0 are no opinion, never an
# answer), `satisfied_j` those at or above satisfied_min, `total_j` their sum (mean_score).
# `tallied` holds one row per accepted response: `unit`, and a0, a1, ... its answers as
# numbers (0 for none).
TALLY = """
SELECT unit, count(*) AS n,
{counts}
FROM tallied
GROUP BY unit
"""
TALLY_QUESTION = """\
       count_if({a} BETWEEN {lo} AND {hi}) AS answers_{j},
       count_if({a} BETWEEN {low_satisfied} AND {hi}) AS satisfied_{j},
       sum(CASE WHEN {a} BETWEEN {lo} AND {hi} THEN {a} ELSE 0 END)::BIGINT AS total_{j}"""


def unit_tallies(unit: np.ndarray, answers: list[np.ndarray], units: int, lo: int, hi: int,
                 satisfied_min: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n per unit, and answers, satisfied, total per unit × question) by TALLY, over one
    response per entry of `unit` (places in units.csv, 0..units-1) with `answers[j]` its
    answer to scale question j (small ints, 0 for none); units without responses count 0."""
    con = connect(threads=1)  # score runs it beside the signals, which take the other core
    try:
        con.register("tallied", pa.table({"unit": pa.array(unit),
                                          **{f"a{j}": pa.array(a) for j, a in enumerate(answers)}}))
        counts = ",\n".join(TALLY_QUESTION.format(a=f"a{j}", j=j, lo=lo, hi=hi,
                                                   low_satisfied=max(lo, satisfied_min))
                             for j in range(len(answers)))
        got = con.sql(TALLY.format(counts=counts or "       0 AS none")).fetchnumpy()
    finally:
        con.close()
    at = np.asarray(got["unit"], dtype=np.int64)
    n = np.zeros(units, dtype=np.int64)
    n[at] = got["n"]
    tables = []
    for name in ("answers", "satisfied", "total"):
        table = np.zeros((units, len(answers)))
        for j in range(len(answers)):
            table[at, j] = got[f"{name}_{j}"]
        tables.append(table)
    return n, *tables


# -- Respondent types (respondent_types.csv: accepted responses per unit and type) -------------
# A chunk of accepted rows at a time (`typed`: `unit` its place in units.csv, -1 unknown, `rtype`
# as written, `pos` its place in the file's accepted rows): the count per unit and type, an
# empty type being the survey's first (`{first}`), and where each was first seen.
TYPE_PART = """
SELECT unit, coalesce(nullif(strip(rtype), ''), {first}) AS rtype,
       sum(responses) AS responses, min(first) AS first
FROM (SELECT unit, rtype, count(*) AS responses, min(pos) AS first  -- the texts as written,
      FROM typed WHERE unit >= 0 GROUP BY ALL)                      -- trimmed once each
GROUP BY ALL
"""
# Then the chunks' counts added up (`type_parts`), per unit in units.csv order and, within a
# unit, the types in the order the file first shows them.
TYPES = """
WITH counted AS (SELECT unit, rtype, sum(responses)::BIGINT AS responses, min(first) AS first
                 FROM type_parts GROUP BY unit, rtype),
     kinds AS (SELECT rtype, min(first) AS seen FROM counted GROUP BY rtype)
SELECT unit, rtype, responses FROM counted JOIN kinds USING (rtype) ORDER BY unit, seen
"""


class TypeTally:
    """TYPE_PART a chunk at a time (`add`), TYPES at the end (`counts`), on one connection of
    its own (what it holds is a few rows per unit)."""

    def __init__(self, first: str):
        self.first = first
        self.con = connect(threads=1)
        self.con.execute("CREATE TEMP TABLE type_parts (unit INTEGER, rtype VARCHAR, "
                         "responses BIGINT, first BIGINT)")
        self.rows = 0
        self.result: pa.Table | None = None

    def add(self, unit: np.ndarray, rtype: pa.ChunkedArray | pa.Array) -> None:
        self.con.register("typed", pa.table({
            "unit": pa.array(unit, pa.int32()), "rtype": rtype,
            "pos": pa.array(np.arange(self.rows, self.rows + len(unit), dtype=np.int64))}))
        self.con.execute("INSERT INTO type_parts "
                         + TYPE_PART.format(first=_literal(self.first)))
        self.con.unregister("typed")
        self.rows += len(unit)

    def counts(self) -> pa.Table:
        """unit (place in units.csv), rtype, responses: one row per unit and type counted (the
        connection is closed after the first call: no chunk may follow)."""
        if self.result is None:
            try:
                self.result = self.con.sql(TYPES).to_arrow_table()
            finally:
                self.con.close()
        return self.result


# -- Participation (participation.csv: responses against visitors, per unit and day) ----------
# One table per kind of count, `k_<kind>(unit, d, n)`, one row per unit and covered day d that
# has one: responses, visitors, issued and used (tickets), and the channels; `units`: every
# unit's place. A unit-day has a row where it has responses, visitors or tickets; each unit a
# total row after its days (d = the number of days). The bounds are whole numbers, worked out
# exactly on the tolerance as a fraction p/q: min_expected = max(minimum, ceil(v (q - p) / q)),
# max_expected = floor(v (q + p) / q), `minimum` min_busy past busy_visitors, else
# min_responses; a total's minimum is the sum of its days' (min_responses for a day without a
# visitor count), and a total without a count for every day has no bounds of its own.
PARTICIPATION = """
CREATE OR REPLACE TEMP MACRO fdiv(a, b) AS  -- floor(a / b), b > 0, in whole numbers
    CASE WHEN a >= 0 THEN a // b ELSE -((-a + b - 1) // b) END;
CREATE OR REPLACE TEMP MACRO judged_low(v, minimum) AS
    CASE WHEN v IS NULL THEN minimum ELSE greatest(minimum, -fdiv(-v * ({q} - {p}), {q})) END;
CREATE OR REPLACE TEMP MACRO judged_high(v) AS fdiv(v * ({q} + {p}), {q});
CREATE OR REPLACE TEMP MACRO judged(responses, v, low, high) AS CASE
    WHEN v IS NULL THEN 'no_visitor_count'
    WHEN responses > high THEN 'too_many'
    WHEN responses < low THEN 'too_few'
    ELSE 'ok' END;
CREATE OR REPLACE TEMP TABLE day_rows AS
SELECT *, judged_low(visitors, minimum) AS low,
       CASE WHEN visitors IS NOT NULL THEN judged_high(visitors) END AS high
FROM (SELECT unit, d, coalesce(r.n, 0) AS responses, v.n AS visitors,
             coalesce(i.n, 0) AS issued, coalesce(u.n, 0) AS used, {channels_day},
             CASE WHEN v.n > {busy} THEN {min_busy} ELSE {min_responses} END AS minimum
      FROM k_responses r FULL JOIN k_visitors v USING (unit, d)
           FULL JOIN k_issued i USING (unit, d) FULL JOIN k_used u USING (unit, d)
           {channel_joins});
"""
PARTICIPATION_ROWS = """
SELECT unit, d, responses, visitors, low AS min_expected, high AS max_expected,
       judged(responses, visitors, low, high) AS status, issued, used, {channels}
FROM day_rows
UNION ALL
SELECT unit, {days} AS d, responses,
       CASE WHEN NOT (missing AND visitors = 0) THEN visitors END AS visitors,
       low AS min_expected, high AS max_expected,
       judged(responses, CASE WHEN NOT missing THEN visitors END, low, high) AS status,
       issued, used, {channels}
FROM (SELECT *, judged_low(CASE WHEN NOT missing THEN visitors END, minimum) AS low,
             CASE WHEN NOT missing THEN judged_high(visitors) END AS high
      FROM (SELECT unit, coalesce(sum(responses), 0)::BIGINT AS responses,
                   coalesce(sum(visitors), 0)::BIGINT AS visitors,
                   count(visitors) < {days} AS missing,
                   (coalesce(sum(CASE WHEN visitors IS NOT NULL THEN minimum END), 0)
                       + ({days} - count(visitors)) * {min_responses})::BIGINT AS minimum,
                   coalesce(sum(issued), 0)::BIGINT AS issued,
                   coalesce(sum(used), 0)::BIGINT AS used,
                   {channels_total}
            FROM units LEFT JOIN day_rows USING (unit)
            GROUP BY unit))
ORDER BY unit, d
"""
PARTICIPATION_KINDS = ("responses", "visitors", "issued", "used")


@contextlib.contextmanager
def _participation(kinds: dict[str, pa.Table], units: int, days: int, tolerance, busy: int,
                   min_busy: int, min_responses: int, channels: list[str], threads: int = 2):
    """A connection holding PARTICIPATION's day_rows, and PARTICIPATION_ROWS' text for it."""
    t = Fraction(str(tolerance))
    fields = {"p": t.numerator, "q": t.denominator, "busy": busy, "min_busy": min_busy,
              "min_responses": min_responses, "days": days,
              "channels_day": ", ".join(f"coalesce(k_{c}.n, 0) AS {c}" for c in channels),
              "channel_joins": " ".join(f"LEFT JOIN k_{c} USING (unit, d)" for c in channels),
              "channels": ", ".join(channels),
              "channels_total": ", ".join(f"coalesce(sum({c}), 0)::BIGINT AS {c}"
                                          for c in channels)}
    empty = pa.table({"unit": pa.array([], pa.int64()), "d": pa.array([], pa.int64()),
                      "n": pa.array([], pa.int64())})
    with connect(threads=threads) as con:
        for kind in (*PARTICIPATION_KINDS, *channels):
            con.register(f"k_{kind}", kinds.get(kind, empty))
        con.register("units", pa.table({"unit": pa.array(np.arange(units, dtype=np.int64))}))
        con.execute(PARTICIPATION.format(**fields))
        yield con, PARTICIPATION_ROWS.format(**fields)


def participation_rows(kinds: dict[str, pa.Table], units: int, days: int, tolerance, busy: int,
                       min_busy: int, min_responses: int, channels: list[str]) -> pa.Table:
    """PARTICIPATION over `kinds` ({kind: (unit int64, d int64, n int64), one row per unit and
    day}, a missing kind empty): the rows of participation.csv as numbers, ordered by unit
    then day (the total last, d = days)."""
    with _participation(kinds, units, days, tolerance, busy, min_busy, min_responses,
                        channels) as (con, rows):
        return con.sql(rows).to_arrow_table()


# participation.csv itself, from those rows: the unit's code (`safe`) and the day's text put in
# place of their numbers, the ticket columns empty unless the survey hands out tickets
PARTICIPATION_FILE = """
COPY (SELECT nullif(safe(code), '') AS unit_code, day AS date, responses, visitors,
             min_expected, max_expected, status,
             CASE WHEN {tickets} THEN issued END AS tickets_issued,
             CASE WHEN {tickets} THEN used END AS tickets_used, {channels}
      FROM ({rows}) JOIN codes USING (unit) JOIN day_texts USING (d)
      ORDER BY unit, d) TO '{path}' {options}
"""
# the rows a district must look at before publishing, for score's notes
PARTICIPATION_TOO_MANY = """
SELECT code AS unit_code, day AS date, responses, visitors, max_expected
FROM ({rows}) JOIN codes USING (unit) JOIN day_texts USING (d)
WHERE status = 'too_many' ORDER BY unit, d
"""


def participation_csv(kinds: dict[str, pa.Table], codes: list[str], day_texts: list[str],
                      tolerance, busy: int, min_busy: int, min_responses: int,
                      channels: list[str], columns: list[str], tickets: bool
                      ) -> tuple[bytes, int, pd.DataFrame]:
    """participation.csv written by DuckDB straight from PARTICIPATION (on two threads: score
    writes it beside the small files only): (the file's bytes, its records, the `too_many`
    rows). `day_texts`: each covered day's text, then the total's."""
    with (_participation(kinds, len(codes), len(day_texts) - 1, tolerance, busy, min_busy,
                         min_responses, channels) as (con, rows),
          tempfile.TemporaryDirectory(prefix="hailong-csv-") as scratch):
        con.register("codes", pa.table({"unit": pa.array(np.arange(len(codes), dtype=np.int64)),
                                        "code": pa.array(codes, pa.string())}))
        con.register("day_texts", pa.table({
            "d": pa.array(np.arange(len(day_texts), dtype=np.int64)),
            "day": pa.array(day_texts, pa.string())}))
        path = Path(scratch) / "participation.csv"
        con.execute(PARTICIPATION_FILE.format(
            rows=rows, tickets="true" if tickets else "false", channels=", ".join(channels),
            path=_path(path), options=COPY_CSV))
        written = con.fetchone()[0]
        too_many = con.sql(PARTICIPATION_TOO_MANY.format(rows=rows)).df()
        return csv_head(columns) + path.read_bytes(), int(written), too_many


# -- Signals (contract, section 4: signals.csv) ------------------------------------------------
# `answers`: the accepted rows of known units as the signals prepared them
# (hailong.score.signals.base.Rows, base.answers): `unit` the place in units.csv, `device` a
# hash of device_id (0: none), `vector` a key of the answer set (equal keys, equal answers),
# `answered` how many scale and choice questions the row answered, `lined` how many scale
# answers it gave when all are one level (else 0), `took` microseconds from started_at to
# submitted_at (NULL without both), `weekday` (1 = Monday) and `minute` of the local day it was
# sent (NULL where submitted_at is unreadable). Each query gives the unit's count of answers
# showing the sign; the share rule (at least min_count, above a share of the unit's answers)
# is base.share_counts. burst and helper stay numpy: their windows cost five times as much as
# RANGE windows in SQL, on the run's critical path (their docstrings).
# straightline: one level for every scale question, at least {min_answers} of them
STRAIGHTLINE = """
SELECT unit, count(*) AS count FROM answers WHERE lined >= {min_answers} GROUP BY unit
"""
# speed: fewer than {seconds} seconds per question answered from opening the form to sending
# it; not judged without started_at, nor where started_at is after submitted_at (a phone clock
# ahead). In DOUBLE, as the threshold is often met exactly and must fall as numpy's does
SPEED = """
SELECT unit, count(*) AS count FROM answers
WHERE took >= 0 AND took / CAST(1000000 AS DOUBLE) < CAST({seconds} AS DOUBLE) * answered
GROUP BY unit
"""
# off_hours: sent on a day the office is closed ({open_day}: the days it opens), or outside
# its hours (from minute {open} of the day, before minute {close}); an unreadable time is not
# judged
OFF_HOURS = """
SELECT unit, count(*) AS count FROM answers
WHERE weekday IS NOT NULL AND NOT ({open_day} AND minute >= {open} AND minute < {close})
GROUP BY unit
"""
# device: per unit, the devices that sent more than {most} answers: how many answers they sent
# in all, how many such devices, and the most one of them sent.
MANY_PER_DEVICE = """
SELECT unit, sum(sent)::BIGINT AS count, count(*) AS devices, max(sent) AS most
FROM (SELECT unit, device, count(*) AS sent FROM answers WHERE device <> 0
      GROUP BY unit, device HAVING count(*) > {most})
GROUP BY unit ORDER BY unit
"""
# identical: per unit, how often its answers long enough (at least {min_answers} questions
# answered) gave each answer set
IDENTICAL_PAIRS = """
CREATE TEMP TABLE pairs AS
SELECT vector, unit, count(*) AS given FROM answers WHERE answered >= {min_answers}
GROUP BY vector, unit
"""
# per unit: its answers long enough, and the distinct sets they gave
IDENTICAL_UNITS = """
SELECT unit, sum(given)::BIGINT AS answers, count(*) AS sets FROM pairs GROUP BY unit
"""
# the pairs of the sets given at least {least} times over all units (only such a set can be
# suspect by chance; most sets are given once)
IDENTICAL_COMMON = """
SELECT vector, unit, given FROM pairs
WHERE vector IN (SELECT vector FROM pairs GROUP BY vector HAVING sum(given) >= {least})
ORDER BY vector, unit
"""


def identical_counts(answers: pa.Table, min_answers: int, least: int
                     ) -> tuple[pa.Table, pa.Table]:
    """(IDENTICAL_UNITS, IDENTICAL_COMMON) over the signals' prepared rows."""
    with connect(threads=1) as con:
        con.register("answers", answers)
        con.execute(IDENTICAL_PAIRS.format(min_answers=int(min_answers)))
        return (con.sql(IDENTICAL_UNITS).to_arrow_table(),
                con.sql(IDENTICAL_COMMON.format(least=int(least))).to_arrow_table())


def signal_query(answers: pa.Table, query: str) -> pa.Table:
    """One of the signals' queries over their prepared rows, on a connection of its own (one
    thread: the signals run on the second core while scoring takes the first)."""
    with connect(threads=1) as con:
        con.register("answers", answers)
        return con.sql(query).to_arrow_table()
