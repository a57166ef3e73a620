"""The `score` command: read → validate → dedupe → score, and the data files, in chunks.

Files at the edges only: this module reads the responses file and writes data/responses.csv,
quarantine.csv, duplicates.csv, ranking.csv, questions.csv and signals.csv (contract, section 4),
each atomically, and last run.json (hailong.score.runfile: the set's records and SHA-256, so
publish renders one run's files; the old run.json is removed before anything else), and two counts-only files the published pages need and may not compute from
responses.csv themselves: block_answers.csv (`unit_code,block_id,answers`, for withholding
small cells), respondent_types.csv (`unit_code,respondent_type,responses`) and intervals.csv
(`unit_code,k,d,deff,effective_n`: what each interval stands on, for the method page). Every row read
ends in exactly one of the first three (conservation, checked before anything is moved into
place).

Bounded memory (issue 10): the responses file is read as chunks of `chunk_rows` records
(CHUNK_ROWS, or HAILONG_SCORE_CHUNK; tests force tiny chunks), in two passes, one engine
whatever the file's size:
1. per chunk (hailong.ingest.responses.ResponseChunks): validate; its quarantined and
   malformed rows go straight to quarantine.csv (a temporary file); its valid rows are spilled
   to an Arrow IPC file in a temporary folder beside data/ (normalised, plus any cell as read
   that validation changed, for duplicates.csv); only the dedupe keys stay in memory
   (response_id, unit_code, ticket, respondent_key, device_id, parsed submitted_at);
2. the paper keyings are matched first (hailong.score.keying, on the valid paper rows kept
   from every chunk: few), then dedupe runs once on all the other keys
   (dedupe.duplicate_rows: the rules need every row); keying's quarantined rows and dedupe's
   contested tickets (rule 2, contract v3) go to quarantine.csv in the second pass, after the
   first pass's, in file order whatever the chunk size;
3. per spilled chunk again: accepted rows → responses.csv, dropped rows → duplicates.csv, and
   compact state for the rest: scoring's unit position and small-int answers (as the
   validation query read them: validate.UNIT, validate.answer_column), respondent types (scoring.TypeCounts), participation's daily
   counts (participation.DailyTally: a grid of units × days, not rows; the rows' few columns
   only where participation needs them: tickets, roster and sample access), and the signals'
   prepared rows (Rows.of per chunk, 44 bytes a row, joined with Rows.concat).
Each chunk is a contiguous run of file rows and every per-row stage is per row, so the files
are byte-identical whatever the chunk size. The temporary folder is removed on success and on
failure; the output files are renamed into data/ only after conservation holds.
Engines (issue 26): DuckDB SQL (hailong.score.queries, one module for the queries)
judges each row by the validation rules (one CASE naming the first rule failed, per chunk, on a
two-thread connection of validate's own; it also reads each valid row's unit place and scale
answers as numbers for the tallies), finds the duplicates (one UPDATE per dedupe rule over
window functions, run only over the rows that share a key with another), counts what scoring
steps 1 and 6 count and the respondent types (GROUP BY), makes participation.csv (the
counts joined per unit and day, bounds on the tolerance's exact fraction, written by COPY
straight from that query), counts the signs the signals look for (GROUP BY), reads
the collectors' date-times and writes every data file's cells (COPY, with formula text made
safe). Dedupe has a database of its own (two threads, memory_limit, spilling into the
temporary folder), closed as soon as it is done so that its memory is back before the second
pass. Python stays in
validation for the date-time forms other than the collectors', the texts compared by Python's
case rules (unit codes, choices, respondent types: judged once per distinct text, joined in
SQL), tokens and tickets. Still pandas, numpy and pyarrow: reading (pyarrow's streaming CSV
reader; the careful reader for damaged files), the Arrow IPC spill between the passes, keying,
scoring's arithmetic after the counts (block and unit indices, the exact interval, ranks),
participation's daily counts gathered chunk by chunk, the signals' time windows (burst,
helper: five times cheaper than RANGE windows in DuckDB), local times and the chance rule's
statistics. The engine before
DuckDB is frozen under tests/reference_engine: every data file must stay the same bytes as its
(tests/test_engine_reference.py, bench/score_bench.py). Two cores: the next chunk and its
submitted_at times are read while this one is validated (hailong.score.ahead,
validate.read_times; the first chunk is a fifth of the others so that validation starts
sooner), the spill files, the CSV files and the
signals' prepared rows are made by threads of their own (each CSV writer with a DuckDB
connection of its own, queries.writer), and the signals run beside the scoring; the
participation reports after them, beside the small files (the three together held 4.4 GiB at
ten million rows).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.errors import HailongError
from hailong.fsutil import move_into_place
from hailong.i18n import _
from hailong.ingest.responses import Damaged, ResponseChunks, csv_head, text_chunks
from hailong.layout import Layout
from hailong.numbers import two_decimals_array
from hailong.score import queries
from hailong.score.ahead import ahead
from hailong.score.codes import rows_where
from hailong.score.dedupe import CONTESTED, contested_sizes, duplicate_rows
from hailong.score.keying import AT, match_keyings
from hailong.score.keying import columns as keying_columns
from hailong.score.runfile import (
    Entry,
    Hasher,
    entry_of_bytes,
    entry_of_file,
    forget,
    identity,
    write_run,
)
from hailong.score.scoring import TypeCounts, score_arrays
from hailong.score.signals.base import Rows
from hailong.score.signals.run import COLUMNS_READ, signals_frame
from hailong.score.signals.ticketing import evidence
from hailong.score.validate import (
    CHANGED,
    SUBMITTED,
    UNIT,
    answer_column,
    read_times,
    validate,
)
from hailong.survey.keycheck import refuse_other_key
from hailong.survey.load import Survey
from hailong.survey.sampled import load_state
from hailong.survey.tokens import signing_key
from hailong.ui import steps

RANKING_HEAD = ["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high", "band", "ranked",
                "rank_low", "rank_high"]
QUESTIONS_HEAD = ["unit_code", "question_id", "answers", "satisfied", "index"]
CHUNK_ROWS = 500_000  # records per chunk: about 250 MB of working memory at 15 questions
CHUNK_ENV = "HAILONG_SCORE_CHUNK"
KEYS = ["response_id", "unit_code", "ticket", "respondent_key", "device_id", "channel"]
READ = "read:"  # prefix of a spilled column holding the cells as read, where validate changed them
WORK_PREFIX = ".score-"  # the temporary folder beside data/
REPORTS = ("participation.csv", "completion.csv")  # written by participation.write_reports


def score(survey: Survey, out: Path, responses: Path | None = None,
          chunk_rows: int | None = None) -> str:
    """Score `responses` (default: the pulled data/raw.csv) into the data files; a summary.
    `chunk_rows`: records per chunk (default: HAILONG_SCORE_CHUNK or CHUNK_ROWS)."""
    layout = Layout(Path(out), survey.id)
    path = Path(responses) if responses is not None else layout.raw_csv
    if responses is None and not path.exists():
        raise HailongError(
            _("{path}: no responses pulled yet; run `hailong pull {path2}` first (or give a "
              "file with --responses)", path=path, path2=survey.path)
        )
    if survey.access in ("roster", "tickets", "sample"):
        # a wrong key would quarantine every answer and rank nobody: refuse before anything
        refuse_other_key(layout, signing_key(making=False), _("score the answers"))
    rows = chunk_rows or _chunk_from_environment()
    threading.Thread(target=_warm_imports, name="imports", daemon=True).start()
    with steps(_("Scoring"), 6) as advance:
        with ResponseChunks(path, survey, max(rows, 1)) as source:
            try:
                # the next chunk read (and its times) while this one is validated
                with ahead(_with_times(source.chunks(), survey)) as chunks:
                    return _score(survey, layout, source, chunks, advance)
            except Damaged:  # met before any step is counted: start again on the careful path
                return _score(survey, layout, source,
                              _with_times(source.chunks(careful=True), survey), advance)


def _with_times(chunks, survey: Survey):
    """Each chunk with its submitted_at read (validate.read_times)."""
    with contextlib.closing(chunks):
        for frame, malformed in chunks:
            yield frame, malformed, read_times(frame, survey)


def _warm_imports() -> None:
    """Import what the last stages need (scipy's special functions for the intervals: 0.3 s)
    while the first ones run: an import that waits for the GIL costs the other threads little,
    as they spend their time in DuckDB, Arrow and numpy."""
    with contextlib.suppress(ImportError):
        import scipy.special  # noqa: F401

        import hailong.score.participation  # noqa: F401


class _Behind:
    """Work done by a thread of its own, one job at a time: at most one job (and the data it
    holds) waits. Its failure is raised in the caller at the next submit, wait or close."""

    def __init__(self, name: str):
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self.pending: Future | None = None
        self.results: list = []  # what each job returned, in order

    def submit(self, work, *args) -> None:
        self.wait()
        self.pending = self.thread.submit(work, *args)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.results.append(pending.result())

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self.thread.shutdown(wait=True)


class _Out(_Behind):
    """A CSV file written a chunk at a time into the temporary folder, by a thread of its own:
    the CSV text is pyarrow kernels, which let go of the GIL, so the second core writes one
    chunk while the first reads, validates or tallies the next."""

    def __init__(self, folder: Path, name: str, columns: list[str], con,
                 plain: frozenset[str] = frozenset()):
        super().__init__(f"write-{name}")
        self.name, self.columns, self.rows = name, list(columns), 0
        self.plain = plain  # columns that cannot start a formula (queries.csv_blocks)
        self.con = con  # this thread's DuckDB connection (queries.writer)
        self.path = folder / name
        self.hasher = Hasher()  # run.json's SHA-256, taken as the bytes go by
        self.fh = open(self.path, "wb")  # noqa: SIM115 (closed by close(), or with the folder)
        self._put(csv_head(self.columns))

    def _put(self, data: bytes) -> None:
        self.fh.write(data)
        self.hasher.update(data)

    def write(self, frame: pd.DataFrame) -> None:
        if len(frame):
            self.submit(self._write, frame[self.columns])
            self.rows += len(frame)

    def _write(self, frame: pd.DataFrame) -> None:
        for block in queries.csv_blocks(self.con, frame, self.path.parent, plain=self.plain):
            self._put(block)

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.fh.close()
        self.con.close()


def _score(survey: Survey, layout: Layout, source: ResponseChunks, chunks, advance) -> str:
    layout.data.mkdir(parents=True, exist_ok=True)
    # first of all: from here until the new run.json, data/ may hold files of two runs
    forget(layout)
    work = Path(tempfile.mkdtemp(prefix=WORK_PREFIX, dir=layout.data))
    outs: list[_Behind] = []  # closed whatever happens
    try:
        return _passes(survey, layout, source, chunks, advance, work, outs)
    finally:
        for out in outs:
            with contextlib.suppress(Exception):  # the failure that got here is the one to see
                out.close()
        shutil.rmtree(work, ignore_errors=True)


def _passes(survey: Survey, layout: Layout, source: ResponseChunks, chunks, advance,
            work: Path, outs: list[_Behind]) -> str:
    columns = source.columns
    quarantine = _Out(work, "quarantine.csv", [*columns, "reason_code", "reason"],
                      queries.writer(work))
    # validated answers (whole numbers) and channels (three words) need no formula guard
    responses = _Out(work, "responses.csv", survey.response_columns, queries.writer(work),
                     frozenset([*(q.id for q in survey.scale_questions), "channel"]))
    dropped = _Out(work, "duplicates.csv", [*columns, "rule", "kept_response_id"],
                   queries.writer(work))
    outs += [quarantine, responses, dropped]
    # a malformed row cannot be found by its response_id: its reason says where it stands
    before, after = _(" (row {row})", row="\0").split("\0")
    members = (load_state(layout).active_units() if survey.access == "sample" else None)
    rows_read = 0
    reasons: dict[str, int] = {}
    keys: list[pd.DataFrame] = []
    spilled: list[tuple[Path, int]] = []
    paper: list[pd.DataFrame] = []  # the valid paper rows, few, for keying (section 9)
    valid_rows = 0
    spiller = _Behind("spill")  # the spill files' writes are system time, without the GIL
    outs.append(spiller)
    for k, (frame, malformed, times) in enumerate(chunks):
        rows_read += len(frame) + len(malformed)
        valid, quarantined = validate(frame, survey, members, times)
        bad = malformed.drop(columns="reason").assign(
            reason_code="malformed",
            reason=malformed["reason"] + before + malformed.index.astype(str) + after)
        quarantine.write(pd.concat([quarantined[quarantine.columns], bad[quarantine.columns]])
                         .sort_index(kind="stable"))
        for code, count in quarantined["reason_code"].value_counts().items():
            reasons[code] = reasons.get(code, 0) + int(count)
        keys.append(valid[[*KEYS, SUBMITTED]])
        paper.append(_paper_rows(valid, survey, valid_rows))
        valid_rows += len(valid)
        spilled.append((work / f"chunk{k}.arrow", len(valid)))
        spiller.submit(_write_ipc, spilled[-1][0], _spilled(frame, valid, columns, survey))
        del frame, malformed, times, valid, quarantined, bad
    spiller.close()
    _give_back()
    advance(2)

    every = (pd.concat(keys) if keys else
             pd.DataFrame({**{c: pd.Series([], dtype="str") for c in KEYS},
                           SUBMITTED: pd.Series([], dtype="datetime64[us, UTC]")}))
    del keys
    keyed = match_keyings(pd.concat(paper) if paper else pd.DataFrame(
        columns=[*keying_columns(survey), AT]), survey)  # before dedupe: one row per paper form
    del paper
    # a database of its own, spilling into the work folder, closed as soon as dedupe is done:
    # its memory (up to memory_limit) goes back before the second pass needs its own
    with queries.connect(work) as con:
        gone, rules, kept_ids = _dedupe_rest(every, keyed, survey, con)
    sizes = _contested(every, gone, rules)
    del every
    _give_back()
    held, held_codes, held_reasons = keyed.quarantined_at, keyed.codes, keyed.reasons
    for code in held_codes:
        reasons[code] = reasons.get(code, 0) + 1
    advance()

    tally: list[tuple[np.ndarray, np.ndarray]] = []
    types = TypeCounts(survey)
    # participation's counts, gathered chunk by chunk; its rows too only where it needs them
    daily, rows_kept = _daily(survey)
    lean: list[pd.DataFrame] = []
    times: list[pd.Series] = []
    # the signals' rows of each chunk, prepared on a thread of their own (numpy and Arrow
    # kernels, which let go of the GIL) while this one goes on to the next chunk
    signal_parts = _Behind("signal-rows")
    outs.append(signal_parts)
    wanted = _participation_columns(survey)
    contested_units: list[str] = []  # the unit_code cell of each contested row
    kept_columns = [*survey.response_columns, SUBMITTED, *_numbers(survey)]
    scale = [answer_column(q.id) for q in survey.scale_questions]
    offset = 0
    for path, size in spilled:
        chunk = _unspill(path)
        path.unlink()
        at = np.searchsorted(gone, [offset, offset + size])
        mine = gone[at[0]:at[1]] - offset
        hat = np.searchsorted(held, [offset, offset + size])
        kept_back = held[hat[0]:hat[1]] - offset
        alive = np.ones(size, dtype=bool)
        alive[mine] = False
        alive[kept_back] = False
        # what the writers and tallies read: the canonical columns (not the file's others, nor
        # the cells as read), so only those are copied
        lean_chunk = chunk[kept_columns]
        accepted = rows_where(lean_chunk, alive) if len(mine) or len(kept_back) else lean_chunk
        if len(kept_back):  # keying's quarantine: the rows as read, and why
            back = _as_read(chunk.iloc[kept_back], columns)
            back["reason_code"] = pd.Series(held_codes[hat[0]:hat[1]], index=back.index,
                                            dtype="str")
            back["reason"] = pd.Series(held_reasons[hat[0]:hat[1]], index=back.index,
                                       dtype="str")
            quarantine.write(back)
        responses.write(accepted)
        copies = _as_read(chunk.iloc[mine], columns)
        copies["rule"] = pd.Series(rules.iloc[at[0]:at[1]].to_numpy(), index=copies.index,
                                   dtype="str")
        copies["kept_response_id"] = pd.Series(kept_ids.iloc[at[0]:at[1]].to_numpy(),
                                               index=copies.index, dtype="str")
        copies = _quarantine_contested(copies, sizes[at[0]:at[1]], quarantine, reasons,
                                       contested_units)
        dropped.write(copies)
        # the unit's place and the answers as the validation query read them
        tally.append((accepted[UNIT].to_numpy(), [accepted[name].to_numpy() for name in scale]))
        types.add(accepted)
        if rows_kept:
            lean.append(accepted[wanted])
            times.append(accepted[SUBMITTED])
        signal_parts.submit(_chunk_side, accepted, survey, daily)
        offset += size
        del chunk, lean_chunk, accepted, copies
    accepted_count = responses.rows  # counted as rows were handed to the writers
    if rows_read != accepted_count + quarantine.rows + dropped.rows:
        raise AssertionError(  # a bug, not a user error: never publish a result that lost rows
            f"conservation broken: read {rows_read}, accepted {accepted_count}, "
            f"quarantined {quarantine.rows}, duplicates {dropped.rows}"
        )

    _give_back()
    unit = np.concatenate([t[0] for t in tally]) if tally else np.zeros(0, np.int32)
    answers = [np.concatenate([t[1][j] for t in tally]) if tally else np.zeros(0, np.int16)
               for j in range(len(scale))]
    del tally
    # the signals (flags only: they read accepted, change nothing) on the second core while
    # this one scores; both are numpy on whole columns, which lets go of the GIL, and the
    # writers finish their last chunks meanwhile. Then, once their arrays are gone, the
    # participation reports on that core while this one writes the small files (the three
    # side by side held 4.4 GiB at ten million rows)
    signal_parts.close()
    before = {name: identity(layout.data_file(name)) for name in REPORTS}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="side") as side:
        tickets = (layout.tickets / "issued.csv", _joined(lean, wanted), _joined_times(times)) \
            if survey.access == "tickets" else (None, None, None)
        flagged = side.submit(_signals, signal_parts.results, survey, contested_units, *tickets)
        del tickets, signal_parts
        ranking, questions, block_answers = score_arrays(unit, answers, survey)
        del unit, answers
        signals = flagged.result()
        written: dict[str, Entry] = {}  # participation.csv's entry, from the bytes it wrote
        reported = side.submit(_participation, survey, layout,
                               _joined(lean, wanted) if rows_kept else None,
                               _joined_times(times) if rows_kept else None, daily, written)
        del lean, times, daily
        for out in outs:
            out.close()
        advance()
        files = _small_files(work, layout, ranking, questions, block_answers, types, signals,
                             (responses, quarantine, dropped))
        advance()
        notes = reported.result()
    for name in REPORTS:
        path = layout.data_file(name)
        now = identity(path)
        if now is not None and now != before[name]:
            files[name] = written.get(name) or entry_of_file(path)
        elif now is not None:  # an earlier run's (another access, say): not part of this set
            path.unlink()
    # last: run.json vouches for the set only once every file of it is in place
    write_run(layout, survey, ranking.attrs.get("design_effect", 1.0), files)
    advance()
    ranked = int(ranking["ranked"].sum())
    return _summary(survey, layout, source, rows_read, accepted_count, quarantine.rows,
                    dropped.rows, len(ranking), ranked, signals, reasons, notes)


def _small_files(work: Path, layout: Layout, ranking: pd.DataFrame, questions: pd.DataFrame,
                 block_answers: pd.DataFrame, types: TypeCounts, signals: pd.DataFrame,
                 written: tuple[_Out, ...]) -> dict[str, Entry]:
    """The files after the three large ones, written into `work`, then every data file moved
    into data/: what run.json says of each (records and SHA-256)."""
    files: dict[str, Entry] = {out.name: out.hasher.entry(out.rows) for out in written}
    # exactly the contract's columns: the rows as read, plus reason_code and reason (or rule,
    # kept_response_id)
    with queries.writer(work) as small:
        for name, frame in (("ranking.csv", ranking_for_file(ranking)),
                            ("questions.csv", questions_for_file(questions)),
                            ("block_answers.csv", _counts_for_file(block_answers, "answers")),
                            ("respondent_types.csv", _counts_for_file(types.table(), "responses")),
                            ("intervals.csv", intervals_for_file(ranking)),
                            ("signals.csv", signals)):
            data = csv_head(frame.columns) + queries.csv_body(small, frame, work)
            files[name] = entry_of_bytes(data, len(frame))
            (work / name).write_bytes(data)
    for name in ("responses.csv", "quarantine.csv", "duplicates.csv", "ranking.csv",
                 "questions.csv", "block_answers.csv", "respondent_types.csv", "intervals.csv",
                 "signals.csv"):
        move_into_place(work / name, layout.data_file(name))
    return files


def _write_ipc(path: Path, table: pa.Table) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _spilled(frame: pd.DataFrame, valid: pd.DataFrame, columns: list[str],
             survey: Survey) -> pa.Table:
    """What one chunk spills of its valid rows: the columns as validated, SUBMITTED, and
    READ + name for each file column whose cells validation changed (the rows as read are what
    duplicates.csv shows)."""
    kept = valid[[*dict.fromkeys([*columns, *survey.response_columns]), SUBMITTED,
                  *_numbers(survey)]]
    at = frame.index.get_indexer(valid.index)
    extra = {}
    changed = set(valid.attrs.get(CHANGED, columns))  # the others are the cells as read
    for name in columns:
        if name in valid.columns and name in changed and len(valid):
            cells = frame[name].iloc[at]
            if not pc.all(pc.equal(pa.array(cells), pa.array(valid[name]))).as_py():
                extra[READ + name] = cells
    if extra:
        kept = kept.assign(**extra)
    return pa.Table.from_pandas(kept, preserve_index=True)


def _numbers(survey: Survey) -> list[str]:
    """The columns of valid rows holding what the validation query read for the tallies."""
    return [UNIT, *(answer_column(q.id) for q in survey.scale_questions)]


def _unspill(path: Path) -> pd.DataFrame:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def _as_read(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Spilled rows with the file's own columns, as read."""
    return pd.DataFrame({c: rows[READ + c] if READ + c in rows.columns else rows[c]
                         for c in columns}, index=rows.index)


def _paper_rows(valid: pd.DataFrame, survey: Survey, offset: int) -> pd.DataFrame:
    """The valid paper rows of one chunk, with what keying reads and their position (AT)
    among all valid rows."""
    # Arrow's comparison on the texts as validate wrote them (pandas' == gives a nullable
    # mask, whose numpy form cost more than the comparison)
    paper = pc.equal(text_chunks(valid["channel"]), "paper").to_numpy(zero_copy_only=False)
    rows = valid.iloc[np.flatnonzero(paper)][keying_columns(survey)]
    return rows.assign(**{AT: np.flatnonzero(paper) + offset})


def _dedupe_rest(every: pd.DataFrame, keyed, survey: Survey, con
                 ) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """duplicate_rows over the rows keying left, with keying's own duplicates joined in:
    (positions ascending, rules, kept response_ids)."""
    removed = keyed.removed
    if not len(removed):
        return duplicate_rows(every, survey, con)
    rest = np.ones(len(every), dtype=bool)
    rest[removed] = False
    rest = np.flatnonzero(rest)
    gone, rules, kept_ids = duplicate_rows(every.iloc[rest], survey, con)
    at = np.concatenate([rest[gone], keyed.dropped_at])
    order = np.argsort(at, kind="stable")
    rules = pd.Series(np.concatenate([rules.to_numpy(dtype=object),
                                      np.asarray(keyed.rules, dtype=object)])[order], dtype="str")
    kept_ids = pd.Series(np.concatenate([kept_ids.to_numpy(dtype=object),
                                         np.asarray(keyed.kept_ids, dtype=object)])[order],
                         dtype="str")
    return at[order], rules, kept_ids


def _participation_columns(survey: Survey) -> list[str]:
    """The accepted columns participation reads besides the parsed times."""
    wanted = ["unit_code", "channel"]
    if survey.access == "tickets":
        wanted += ["ticket", "submitted_at"]
    if survey.access in ("roster", "sample"):
        wanted += ["respondent_key"]
    return wanted


def _joined(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _joined_times(parts: list[pd.Series]) -> pd.Series:
    if not parts:
        return pd.Series([], dtype="datetime64[us, UTC]")
    return pd.concat(parts) if len(parts) > 1 else parts[0]



def _give_back() -> None:
    """Memory a pass freed back to the system before the next stage needs its own (dedupe
    after the first pass, scoring and signals after the second): Arrow's pool is the system's malloc (hailong/__init__.py), whose
    malloc_trim this calls, and numpy's and pandas' blocks are in the same heap."""
    pa.default_memory_pool().release_unused()


def _chunk_from_environment() -> int:
    text = os.environ.get(CHUNK_ENV, "").strip()
    if not text:
        return CHUNK_ROWS
    if not text.isdigit() or int(text) < 1:
        raise HailongError(_("{name}={value}: give the number of records read at a time as a "
                             "whole number from 1 up, e.g. {default}, or unset it",
                             name=CHUNK_ENV, value=text, default=CHUNK_ROWS))
    return int(text)

def _chunk_side(accepted: pd.DataFrame, survey: Survey, daily) -> Rows | None:
    """What one chunk's accepted rows leave for the end, on the signal-rows thread: their
    participation counts (into `daily`) and the signals' prepared rows (_signal_part)."""
    if daily is not None:
        daily.add(accepted[["unit_code", "channel", UNIT]], accepted[SUBMITTED])
    return _signal_part(accepted, survey)


def _daily(survey: Survey):
    """(participation's DailyTally, whether it needs the accepted rows too); (None, False)
    where the participation stage is not part of this build."""
    try:
        from hailong.score.participation import DailyTally, needs_rows
    except ImportError:
        return None, False
    return DailyTally(survey), needs_rows(survey)


def _signal_part(accepted: pd.DataFrame, survey: Survey) -> Rows | None:
    """What the signals keep of one chunk's accepted rows: their prepared, compact `Rows`."""
    if not survey.signals.checks:
        return None
    lean = accepted[[*COLUMNS_READ(survey, times=True), UNIT]]
    return Rows.of(lean, survey, accepted[SUBMITTED])


def _signals(parts: list[Rows | None], survey: Survey, contested_units: list[str],
             issued_csv: Path | None, accepted: pd.DataFrame | None,
             times: pd.Series | None) -> pd.DataFrame:
    """signals.csv from every chunk's part (_signal_part), joined, and the ticket signals'
    evidence: the contested rows' units, issued.csv and the accepted tickets (tickets access)."""
    parts = [p for p in parts if p is not None]
    ev = evidence(survey, contested_units, issued_csv, accepted, times)
    return signals_frame(Rows.concat(parts), survey, ev)


def _contested(every: pd.DataFrame, gone: np.ndarray, rules: pd.Series) -> np.ndarray:
    """For each dropped row (dedupe's order), how many responses carried its ticket when it is
    contested, else 0."""
    sizes = np.zeros(len(gone), dtype=np.int64)
    mask = (rules == CONTESTED).to_numpy()
    if mask.any():
        rows = every.iloc[gone[mask]]
        sizes[mask] = contested_sizes(rows["unit_code"], rows["ticket"])
    return sizes


def _quarantine_contested(copies: pd.DataFrame, sizes: np.ndarray, quarantine: _Out,
                          reasons: dict[str, int], units: list[str]) -> pd.DataFrame:
    """Send one chunk's contested rows (dedupe rule 2, contract v3) to quarantine with their
    reason; the duplicates that remain."""
    mask = sizes > 0
    if not mask.any():
        return copies
    bad = copies[mask].drop(columns=["rule", "kept_response_id"])
    units += bad["unit_code"].astype("str").str.strip().tolist()
    bad["reason_code"] = pd.Series(CONTESTED, index=bad.index, dtype="str")
    bad["reason"] = pd.Series(
        [_("ticket '{shown}': carried by {count} different responses at unit {unit}; a ticket "
           "counts for one visitor, so none of them counts: ask who held this slip (signals.csv: "
           "ticket_reuse)",
           shown=t.strip(), count=int(c), unit=u.strip())
         for t, c, u in zip(bad["ticket"], sizes[mask], bad["unit_code"], strict=True)],
        index=bad.index, dtype="str")
    quarantine.write(bad)
    reasons[CONTESTED] = reasons.get(CONTESTED, 0) + int(mask.sum())
    return copies[~mask]


def _summary(survey: Survey, layout: Layout, source: ResponseChunks, rows_read: int,
             accepted: int, quarantined: int, dropped: int, units: int, ranked: int,
             signals: pd.DataFrame, reasons: dict[str, int], notes: list[str]) -> str:
    summary = (
        _("read {rows_read} rows: {accepted} accepted, {quarantine} quarantined, {dropped} "
          "duplicates; {ranking} units, {ranked} ranked → {data}/",
          rows_read=rows_read, accepted=accepted, quarantine=quarantined,
          dropped=dropped, ranking=units, ranked=ranked, data=layout.data)
    )
    if source.missing_questions:
        summary += (_("\n  {name} has no column for question(s) {value}: their answers count as "
                      "empty",
                      name=source.path.name, value=', '.join(source.missing_questions)))
    if len(signals):
        summary += _("\n  {count} sign(s) of ballot stuffing at {units} unit(s): see {path}",
                     count=len(signals), units=signals["unit_code"].nunique(),
                     path=layout.data_file("signals.csv"))
    contested = reasons.get(CONTESTED, 0)
    if contested:
        summary += _("\n  {count} answers carried a ticket that another answer carried too: none "
                     "of them counts (quarantine.csv, contested_ticket); `hailong progress` lists "
                     "them first", count=contested)
    if quarantined:
        summary += _("\n  see {value} for the rejected rows and why",
                     value=layout.data_file('quarantine.csv'))
    invalid = reasons.get("invalid_token", 0)
    bad_tickets = reasons.get("invalid_ticket", 0)
    if survey.access == "tickets" and bad_tickets and bad_tickets * 2 >= rows_read:
        summary += _("\n  {bad} of {rows_read} rows have an invalid ticket: is "
                     "HAILONG_SIGNING_KEY the key `hailong tickets` signed the slips with, and "
                     "were the slips handed out?", bad=bad_tickets, rows_read=rows_read)
    if survey.access == "roster" and invalid and invalid * 2 >= rows_read:
        summary += (_("\n  {invalid} of {rows_read} rows have an invalid personal link: is "
                      "HAILONG_SIGNING_KEY the same key `hailong links` signed the letters with?",
                      invalid=invalid, rows_read=rows_read))
    return "\n".join([summary, *(f"  {n}" for n in notes)])


def ranking_for_file(ranking: pd.DataFrame) -> pd.DataFrame:
    """ranking.csv cells: numbers with two decimals, empty where no value, ranked true/false."""
    out = pd.DataFrame(index=ranking.index)
    out["rank"] = ranking["rank"].astype("Int64").astype("str").replace("<NA>", "")
    out["unit_code"] = ranking["unit_code"]
    out["unit_name"] = ranking["unit_name"]
    out["n"] = ranking["n"].astype(np.int64).astype("str")
    blocks = [c for c in ranking.columns if c.startswith("block:")]
    for c in ["index", "ci_low", "ci_high"]:
        out[c] = _two_decimals(ranking[c])
    out["band"] = ranking["band"]
    out["ranked"] = np.where(ranking["ranked"].to_numpy(dtype=bool), "true", "false")
    for c in ("rank_low", "rank_high"):
        out[c] = ranking[c].astype("Int64").astype("str").replace("<NA>", "")
    for c in blocks:
        out[c] = _two_decimals(ranking[c])
    return out[RANKING_HEAD + blocks]


def intervals_for_file(ranking: pd.DataFrame) -> pd.DataFrame:
    """intervals.csv, what each unit's interval stands on (section 5, step 5), so the method
    page can work one through without responses.csv: `unit_code,k,d,deff,effective_n`
    (k respondents with a score; d empty unless the unit is informative; deff and the
    effective size empty where k < 2), in ranking.csv's order, four decimals."""
    out = pd.DataFrame({"unit_code": ranking["unit_code"],
                        "k": ranking["k"].astype(np.int64).astype("str")})
    for c in ("d", "deff", "effective_n"):
        values = ranking[c].to_numpy(dtype=float)
        out[c] = pd.Series([f"{v:.4f}" if np.isfinite(v) else "" for v in values],
                           index=ranking.index, dtype="str")
    return out


def questions_for_file(table: pd.DataFrame) -> pd.DataFrame:
    """questions.csv cells: counts as integers, the index with two decimals or empty."""
    out = table[QUESTIONS_HEAD].copy()
    for c in ("answers", "satisfied"):
        out[c] = table[c].astype(np.int64).astype("str")
    out["index"] = _two_decimals(table["index"])
    return out


def _counts_for_file(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return table.assign(**{column: table[column].astype(np.int64).astype("str")})


def _two_decimals(values: pd.Series) -> pd.Series:
    # the distinct values only: a question index repeats across units (8/10 is 8/10 anywhere)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.append(two_decimals_array(np.asarray(uniques, dtype=float)), "")
    return pd.Series(texts[codes], index=values.index, dtype="str")


def _participation(survey: Survey, layout: Layout, accepted: pd.DataFrame | None,
                   times: pd.Series | None, daily, written: dict[str, Entry]) -> list[str]:
    try:
        from hailong.score.participation import write_reports
    except ImportError:  # the participation stage is not part of this build
        return []
    notes = write_reports(survey, layout, accepted, times=times, daily=daily, entries=written)
    return list(notes or [])
