"""The records of a responses CSV body, in bounded memory whatever the body holds.

`arrow_table` is pyarrow's reader (the fast path, for a clean body). `careful_read` walks a
damaged body record by record with the csv module to number the rows exactly and set the bad
ones aside with a reason (moved here from hailong.ingest.responses, which calls it).

Memory stays near the file's own size (issue 13): lines are found as offsets into the file,
never copied all at once; the good records go to pyarrow a slice of about CHUNK bytes at a time;
rows set aside are packed into pyarrow columns every PACK rows; and the csv module never
gathers more than MAX_RECORD bytes for one record. A longer record (a cell far over the
collectors' 2,000 characters, or a quote that never closes) is set aside with its cells cut to
SHOWN characters; the whole row stays in the file read.
"""

from __future__ import annotations

import contextlib
import csv
import io
import mmap
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hailong.i18n import _

ROW = "row"  # the index name: file row number, header = 1
MAX_RECORD = 1 << 16  # bytes of one record: a filled form is a few KB, serve takes 64 KB at most
MAX_CELL = 1 << 16  # bytes of one cell: the collectors take 2,000 characters, 8 KB at most
SHOWN = 1000  # characters of a cell that is far too long, kept in quarantine.csv
CHUNK = 1 << 24  # bytes of good records that pyarrow parses at once
PACK = 50_000  # rows set aside held as Python strings before they are packed


class Damaged(Exception):
    """The fast path met a record pyarrow cannot take: read again with the careful reader."""


class _TooLong(Exception):
    """The csv module has gathered MAX_RECORD bytes without finishing a record."""


def arrow_table(buffer: pa.Buffer, width: int) -> pa.Table | None:
    """pyarrow's reader, every cell text: every record must have `width` cells, else None."""
    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=names, block_size=CHUNK),
            # no invalid_row_handler: pyarrow decodes the row's text for it and, where the row is
            # not UTF-8, prints an "Exception ignored" traceback; a plain error does the same job
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                # large_string is what pandas' str dtype holds: no copy when converting
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None


def _first(rows: int) -> int:
    """The records of the first chunk: a fifth of the others, so that the stages after the
    reader, which wait for it, start sooner (a second at a million rows)."""
    return max(1, rows // 5)


def arrow_chunks(stream, width: int, rows: int | None):
    """(table, file row number of its first record) per chunk of `rows` records (the first
    smaller: _first; None: one chunk) from pyarrow's streaming reader; `stream` is a file or buffer reader at the body, or
    None for an empty body. Raises `Damaged` where a record does not have `width` cells or is
    not UTF-8, or where a record is blank (_blank_rows) or starts with a BOM (_bom_rows)."""
    if stream is None:
        return
    source = stream
    names = [f"c{i}" for i in range(width)]
    try:
        reader = pacsv.open_csv(source, read_options=pacsv.ReadOptions(
            column_names=names, block_size=CHUNK, use_threads=True),
            # a blank line, skipped silently (the default), would shift the row numbers of
            # everything after it: kept, it is a row of empty cells (_blank_rows)
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
            convert_options=_TEXT(names))
    except (pa.ArrowInvalid, pa.ArrowException):
        source.close()
        raise Damaged from None
    batches: list[pa.RecordBatch] = []
    held = 0
    first = 2  # the header is row 1
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, pa.ArrowException):
                raise Damaged from None
            if _blank_rows(batch) or _bom_rows(batch):
                raise Damaged
            batches.append(batch)
            held += batch.num_rows
            while rows is not None and held >= (want := rows if first > 2 else _first(rows)):
                table = pa.Table.from_batches(batches)
                yield table.slice(0, want), first
                first += want
                rest = table.slice(want)
                batches, held = rest.to_batches(), rest.num_rows
        if held or rows is None:
            yield pa.Table.from_batches(batches, schema=reader.schema), first
    finally:
        source.close()


def _blank_rows(batch: pa.RecordBatch) -> bool:
    """Whether some row has every cell empty: a blank line, or a record of commas alone, which
    the careful reader tells apart. The first cell (submitted_at) is looked at first: it is
    empty in almost no row."""
    empty = pc.equal(pc.binary_length(batch.column(0)), 0)
    if not pc.any(empty).as_py():
        return False
    for column in batch.columns[1:]:
        empty = pc.and_(empty, pc.equal(pc.binary_length(column), 0))
    return bool(pc.any(empty).as_py())


def _bom_rows(batch: pa.RecordBatch) -> bool:
    """Whether a record starts with a BOM: a second export joined to the first, whose header
    the careful path sets aside. (A BOM after a line break inside a quoted cell is text a
    respondent sent, and stays as the careful path keeps it.)"""
    return bool(pc.any(pc.starts_with(batch.column(0), "\ufeff")).as_py())


def _TEXT(names: list[str]) -> pacsv.ConvertOptions:
    # large_string is what pandas' str dtype holds: no copy when converting
    return pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                strings_can_be_null=False, quoted_strings_can_be_null=False)


def table_frame(table: pa.Table, columns: list[str], rows, source: str = ""
                ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(a frame of the table's text columns (NFC) under `columns`, indexed by file row `rows`;
    the rows with a cell over MAX_CELL bytes, set aside with a reason, or None).

    Long cells are found and cut before anything else touches them: normalising or copying
    them is what made damaged files cost many times their size."""
    numbers = np.asarray(rows, dtype=np.int64)
    long = np.zeros(table.num_rows, dtype=bool)
    first = np.full(table.num_rows, -1, dtype=np.int64)
    for i, column in enumerate(table.columns):
        over = pc.greater(pc.binary_length(column), MAX_CELL).to_numpy(zero_copy_only=False)
        first[over & ~long] = i
        long |= over
    aside = None
    if long.any():
        cut = table.filter(pa.array(long))
        table = table.filter(pa.array(~long))
        aside = _frame_nfc(pa.table({c: _shown(a) for c, a in zip(cut.column_names, cut.columns,
                                                                       strict=True)}),
                           columns, numbers[long])
        lengths = {i: pc.utf8_length(cut.column(i)).to_numpy(zero_copy_only=False)
                   for i in set(first[long].tolist())}
        aside["reason"] = pd.Series(
            [_("{column}: a cell of {length} characters, far longer than the collectors take "
               "(2,000); set aside with long cells cut to {shown} characters, the whole row "
               "stays in {source}", column=columns[i], length=f"{int(lengths[i][k]):,}",
               shown=f"{SHOWN:,}", source=source or _("the file read"))
             for k, i in enumerate(first[long].tolist())], index=aside.index, dtype="str")
        numbers = numbers[~long]
    return _frame_nfc(table, columns, numbers), aside


def _shown(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells cut to SHOWN characters, "…" marking a cut."""
    long = pc.greater(pc.utf8_length(column), SHOWN)
    cut = pc.binary_join_element_wise(pc.utf8_slice_codeunits(column, 0, SHOWN),
                                      pa.scalar("…", pa.large_string()),
                                      pa.scalar("", pa.large_string()))
    return pc.if_else(long, cut, column)


def _frame_nfc(table: pa.Table, columns: list[str], numbers: np.ndarray) -> pd.DataFrame:
    arrays = {}
    for name, column in zip(columns, table.columns, strict=True):
        arr = column
        if arr.num_chunks and not pc.all(pc.string_is_ascii(arr)).as_py():
            arr = pc.utf8_normalize(arr, "NFC")
        arrays[name] = arr
    frame = pa.table(arrays).to_pandas()
    frame.index = pd.Index(numbers, dtype="int64", name=ROW)
    return normalise(frame)


def rows_table(rows: list[list[str]], width: int) -> pa.Table:
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in range(width)]
    return pa.table({f"c{i}": pa.array(list(v), type=pa.large_string())
                     for i, v in enumerate(by_column)})


def frame_of(rows: list[list[str]], numbers: list[int], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {c: pd.Series(list(v), dtype="str")
         for c, v in zip(columns, list(zip(*rows, strict=True)) if rows else [() for _ in columns],
                         strict=True)})
    frame.index = pd.Index(numbers, dtype="int64", name=ROW)
    return frame


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    for c in frame.columns:
        if frame[c].dtype != "str":
            frame[c] = frame[c].astype("str")
    return frame


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _line_bounds(data, body: int) -> tuple[np.ndarray, np.ndarray]:
    """(starts, stops) of the lines of data[body:] ("\\n" excluded), found a slice at a time
    so that no copy of the file is made."""
    size = len(data)
    step = 1 << 26
    found = [np.zeros(0, dtype=np.int64)]
    for at in range(body, size, step):
        view = np.frombuffer(data, dtype=np.uint8, count=min(step, size - at), offset=at)
        found.append(np.flatnonzero(view == 10).astype(np.int64) + at)
        del view
        release(data, at, min(step, size - at))
    newlines = np.concatenate(found)
    starts = np.concatenate([np.array([body], dtype=np.int64), newlines + 1])
    stops = np.concatenate([newlines, np.array([size], dtype=np.int64)])
    if starts[-1] >= size:  # the body ends with "\n": no line after it
        starts, stops = starts[:-1], stops[:-1]
    return starts, stops


def release(data, start: int, length: int) -> None:
    """Let the kernel drop pages of a mapped file already read from this process's memory (they
    stay in the page cache): a pass over a big file then holds a slice of it, not all of it."""
    if isinstance(data, mmap.mmap) and hasattr(mmap, "MADV_DONTNEED"):  # not on Windows
        page = mmap.PAGESIZE
        first = start - start % page
        with contextlib.suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED, first, start + length - first)


_QUOTED = re.compile(rb'"[^"]*(?:""[^"]*)*"')


def split_long(raw: bytes) -> list[str]:
    """The cells of a record too long for the csv module, each cut to SHOWN characters
    ("…" marks a cut), without decoding more than that of any cell."""
    cells: list[str] = []
    pos, size = 0, len(raw)
    while True:
        quoted = _QUOTED.match(raw, pos) if raw[pos:pos + 1] == b'"' else None
        if quoted and (quoted.end() == size or raw[quoted.end():quoted.end() + 1] == b","):
            end = quoted.end()
            piece = raw[pos + 1:min(end - 1, pos + 1 + 4 * SHOWN + 8)].replace(b'""', b'"')
        else:
            end = raw.find(b",", pos)
            end = size if end < 0 else end
            piece = raw[pos:min(end, pos + 4 * SHOWN)]
        text = nfc(piece.decode("utf-8", "replace"))
        cells.append(text[:SHOWN] + "…" if len(text) > SHOWN or end - pos > 4 * SHOWN else text)
        if end >= size:
            return cells
        pos = end + 1


def split_line(line: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def fit(cells: list[str], width: int) -> list[str]:
    """Cells placed under the header: missing ones empty, extra ones kept in the last column."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if len(cells) > width and width:
        return cells[: width - 1] + [",".join(cells[width - 1:])]
    return cells


class _Packed:
    """Rows (and a reason each) gathered as Python strings, packed into pyarrow every PACK."""

    def __init__(self, width: int):
        self.width = width
        self.tables: list[pa.Table] = []
        self.rows: list[list[str]] = []
        self.numbers: list[int] = []
        self.reasons: list[str] = []

    def add(self, cells: list[str], number: int, reason: str = "") -> None:
        self.rows.append(cells)
        self.numbers.append(number)
        self.reasons.append(reason)
        if len(self.rows) >= PACK:
            self._pack()

    def _pack(self) -> None:
        self.tables.append(rows_table(self.rows, self.width))
        self.rows = []

    def frame(self, columns: list[str], with_reason: bool) -> pd.DataFrame:
        self._pack()
        table = pa.concat_tables(self.tables)
        if with_reason:  # rows set aside already: show them cut, but do not judge them again
            frame = _frame_nfc(pa.table({c: _shown(a) for c, a in zip(
                table.column_names, table.columns, strict=True)}), columns, np.asarray(
                self.numbers, dtype=np.int64))
            frame["reason"] = pd.Series(self.reasons, index=frame.index, dtype="str")
            return frame
        return table_frame(table, columns, self.numbers)


def careful_read(path: Path, data, body: int, columns: list[str]
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record by record with the csv module, recovering from malformed rows.

    The csv module only finds where each good record lies; the good records' bytes are then
    parsed by pyarrow, so a big file with bad rows costs one extra pass, not a Python string
    per cell. Set aside, each with its reason: a record with too few or too many cells
    (trailing empty cells, as Excel adds them, are dropped instead), a quote that never
    closes, bytes that are not UTF-8, a record over MAX_RECORD bytes."""
    starts, stops = _line_bounds(data, body)
    count = len(starts)
    width = len(columns)
    runs: list[list[int]] = []  # [first line, end line, records] of consecutive good records
    good_numbers: list[int] = []
    trimmed = _Packed(width)  # good records with empty cells past the header's width
    bad = _Packed(width)
    not_utf8: dict[int, str] = {}  # line index -> reason, for lines that are not UTF-8
    gathered = [0]  # bytes the csv module has taken since the last whole record
    number = 1  # the header
    position = 0  # index of the line where the current reader started

    def line(i: int) -> bytes:
        return bytes(data[int(starts[i]):int(stops[i])])

    def text_lines(first: int):
        for i in range(first, count):
            raw = line(i)
            gathered[0] += len(raw) + 1
            if gathered[0] > MAX_RECORD:
                raise _TooLong
            try:
                yield raw.decode("utf-8") + "\n"
            except UnicodeDecodeError as exc:
                # read on with U+FFFD in place of the bad bytes, so the record is still split
                # into its cells (a bad byte is never a comma, quote or line end)
                not_utf8[i] = _("not UTF-8 text (byte 0x{value:02x}); save the file as 'CSV "
                                "UTF-8' (Excel) or UTF-8 (other editors)", value=raw[exc.start])
                yield raw.decode("utf-8", "replace") + "\n"

    def record_end(first: int) -> int | None:
        """The line after the record starting at line `first`, by quote parity; None when its
        quote never closes."""
        odd = False
        for i in range(first, count):
            if line(i).count(b'"') & 1:
                odd = not odd
            if not odd:
                return i + 1
        return None

    while position < count:
        gathered[0] = 0
        reader = csv.reader(text_lines(position), strict=True)
        restart = None
        consumed = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except _TooLong:
                number += 1
                first = position + consumed
                end = record_end(first)
                if end is None:  # a quote opened here never closes: only this line is bad
                    bad.add(fit(split_long(line(first)), width), number,
                            _("broken quoting (a quote opened in this row never closes); check "
                              "the quotes in this row"))
                    restart = first + 1
                else:
                    size = int(stops[end - 1] - starts[first])
                    bad.add(fit(split_long(bytes(data[int(starts[first]):int(stops[end - 1])])),
                                width), number,
                            _("a row of {size} bytes, far longer than a filled form (the "
                              "collectors take at most 2,000 characters a cell); set aside with "
                              "long cells cut to {shown} characters, the whole row stays in "
                              "{name}", size=f"{size:,}", shown=f"{SHOWN:,}", name=path.name))
                    restart = end
                break
            except csv.Error as exc:
                # A quote that never closes (or closes mid-cell) would swallow the rows after
                # it: quarantine only the line it starts on and read on from the next line.
                number += 1
                first = position + consumed
                bad.add(fit([nfc(c) for c in split_line(line(first).decode("utf-8", "replace"))],
                            width), number, not_utf8.get(first)
                        or _("broken quoting ({exc}); check the quotes in this row", exc=exc))
                restart = first + 1
                break
            gathered[0] = 0
            number += 1
            first, consumed = position + consumed, reader.line_num
            last = position + consumed
            if not cells:
                continue  # a blank line: a row of the sheet, but not a response
            if not_utf8:
                reason = next((not_utf8[i] for i in range(first, last) if i in not_utf8), None)
                if reason:
                    bad.add(fit([nfc(c) for c in cells], width), number, reason)
                    continue
            if len(cells) == width:
                if runs and runs[-1][1] == first:
                    runs[-1][1] = last
                    runs[-1][2] += 1
                else:
                    runs.append([first, last, 1])
                good_numbers.append(number)
                continue
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                trimmed.add([nfc(c) for c in cells[:width]], number)
                continue
            bad.add(fit([nfc(c) for c in cells], width), number,
                    _("{cells} cells but the header has {width}; check for an unquoted "
                      "comma or a missing cell", cells=len(cells), width=width))
        if restart is None:
            break
        position = restart

    frame, aside = _good_frame(data, starts, stops, runs, good_numbers, columns, path.name)
    parts = [bad.frame(columns, True), aside]
    if trimmed.numbers:
        more, more_aside = trimmed.frame(columns, False)
        frame = pd.concat([frame, more]).sort_index(kind="stable")
        parts.append(more_aside)
    malformed = pd.concat([p for p in parts if p is not None]).sort_index(kind="stable")
    return frame, malformed


def _good_frame(data, starts, stops, runs: list[list[int]], numbers: list[int],
                columns: list[str], source: str) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The good records' bytes parsed by pyarrow, about CHUNK bytes at a time."""
    width = len(columns)
    tables: list[pa.Table] = []
    pieces: list[bytes] = []
    size = expected = 0

    def flush() -> None:
        nonlocal size, expected
        if not pieces:
            return
        chunk = b"".join(pieces)
        pieces.clear()
        table = arrow_table(pa.py_buffer(chunk), width)
        if table is None or table.num_rows != expected:
            # pyarrow and the csv module disagree on a record: trust the csv module
            records = csv.reader(io.StringIO(chunk.decode("utf-8"), newline=""), strict=True)
            table = rows_table([list(r) for r in records], width)
        tables.append(table)
        size = expected = 0

    done = 0
    for first, end, records in runs:
        pieces.append(bytes(data[int(starts[first]):int(stops[end - 1])]) + b"\n")
        size += len(pieces[-1])
        expected += records
        if size >= CHUNK:
            flush()
            release(data, done, int(stops[end - 1]) - done)
            done = int(stops[end - 1])
    flush()
    table = pa.concat_tables(tables) if tables else rows_table([], width)
    return table_frame(table, columns, numbers, source)
