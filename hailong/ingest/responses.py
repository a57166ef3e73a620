"""Stage: read a responses CSV (data/raw.csv or any --responses file) without losing a row.

Every cell is read as text. A row keeps its file row number as a spreadsheet shows it (the
header is row 1), which is the frame's index from here to the output files. A malformed row
(wrong number of cells, a broken quote, bytes that are not UTF-8, the header again where two
exports were joined) is not an error: it comes back in `malformed` with a reason, so the
conservation rule still holds. Only a header that cannot be read is an error (HailongError).
Tolerated as spreadsheets write them: a BOM (also in mid-file), lone-CR line ends, empty cells
past the header's width.

Speed: the pyarrow CSV engine reads a clean file (the normal case: raw.csv written by pull).
When it meets anything odd (a malformed row, a blank line inside the file, bytes that are not
UTF-8) the csv module walks the file record by record to number the rows exactly and set the
bad ones aside; the good records' bytes then go back to pyarrow, so even a damaged file of a
million rows costs seconds, not a Python string per cell.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong import cells as sheetcells
from hailong.errors import HailongError
from hailong.i18n import N_, _
from hailong.ingest.records import (
    ROW,
    Damaged,
    arrow_chunks,
    careful_read,
    frame_of,
    normalise,
    release,
    table_frame,
)
from hailong.survey import config

REQUIRED_COLUMNS = ("submitted_at", "unit_code")


@dataclass
class ReadResult:
    """The rows of one responses file.

    `frame`: one row per well-formed record, every column `str`, indexed by file row number;
    it holds the file's columns in file order, then any canonical column the file lacked (empty).
    `malformed`: records that could not be split into the header's columns: the cells that
    could be read (positionally) plus `reason`, indexed by file row number.
    `columns`: the file's header as read (after trimming; known names in lower case).
    `missing_questions`: the survey's question ids that are not among the file's columns.
    """

    path: Path
    frame: pd.DataFrame
    malformed: pd.DataFrame
    columns: list[str]
    missing_questions: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def read_responses(path: str | Path, survey) -> ReadResult:
    """The whole file at once: `ResponseChunks` with one unbounded chunk."""
    with ResponseChunks(path, survey, None) as source:
        try:
            parts = list(source.chunks())
        except Damaged:
            parts = list(source.chunks(careful=True))
    if parts:
        frame, malformed = (pd.concat(p).sort_index(kind="stable") if len(p) > 1 else p[0]
                            for p in zip(*parts, strict=True))
    else:
        frame, malformed = source.empty()
    return ReadResult(source.path, frame, malformed, source.columns, source.missing_questions)


class ResponseChunks:
    """A responses file read as chunks of about `rows` records (None: one chunk), in file order.

    Opening reads the header (a HailongError for a file that is not a responses file) and
    `columns`, `missing_questions`; `chunks()` then yields (frame, malformed) per chunk, as
    `ReadResult` describes them, each holding a contiguous run of file rows, so that chunk by
    chunk the rows come out exactly as the whole file read at once would give them.
    The fast path streams pyarrow's CSV reader from the file (never the whole body in memory)
    and raises `Damaged` at the first record it cannot take, possibly after chunks were given:
    the caller starts again with `chunks(careful=True)`, which reads the body with the careful
    reader whole (damaged files are small in practice) and cuts its result into chunks.
    """

    def __init__(self, path: str | Path, survey, rows: int | None):
        self.path = Path(path)
        self.survey = survey
        self.rows = rows
        self._mapped = _mapped(self.path)
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self, scan: bool = False) -> None:
        """The header and where the body lies. A file whose bytes can be read as they are is
        not scanned here unless `scan` (scanning a 2 GB map cost seconds before the first row
        was read): the fast path meets a blank line or a joined export as a record of empty
        cells or one starting with a BOM, and gives up (Damaged); the careful path scans."""
        path, mapped = self.path, self._mapped
        data, start = _repaired(mapped, scan)
        newline = data.find(b"\n", start)
        header_end = newline if newline >= 0 else len(data)
        try:
            header_text = data[start:header_end].decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(path, bytes(data[start:header_end])) from None
        with _big_fields():
            self.columns, self.header = _columns(path, header_text, self.survey)
        body = header_end + 1 if newline >= 0 else len(data)
        end = len(data)
        while end > body and data[end - 1:end] in (b"\n", b"\r"):
            end -= 1  # blank lines at the very end shift no row number: no reason to slow down
        self._data, self._body, self._end = data, body, end
        self._watch = data is mapped and not scan
        self._clean = self._watch or not _has_blank_line(data, body, end)
        self.missing_questions = [q.id for q in self.survey.questions if q.id not in self.columns]

    def __enter__(self) -> ResponseChunks:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._data = None  # a copy, or the map itself
        try:
            self._mapped.close()
        except BufferError:  # pyarrow still holds a view after a failed parse; GC closes it
            pass

    def empty(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return self._finish(frame_of([], [], self.columns), None)

    def chunks(self, careful: bool = False):
        if careful and self._watch:
            self._open(scan=True)  # the careful reader needs the file repaired as a whole
        if careful or not self._clean:
            yield from self._careful()
            return
        for table, first in arrow_chunks(self._stream(), len(self.columns), self.rows):
            frame, aside = table_frame(table, self.columns,
                                       np.arange(first, first + table.num_rows), self.path.name)
            yield self._finish(frame, aside)

    def _stream(self):
        """pyarrow's streaming reader over the body: from the file itself where the bytes are
        the file's (the page cache, not this process, holds them), else from the repaired copy."""
        if self._end == self._body:
            return None
        if self._data is self._mapped:
            # read by Arrow itself, up to the last record (trailing line ends are not rows);
            # what it must not be given is found in the records read (arrow_chunks)
            return pa.OSFile(str(self.path)).get_stream(self._body, self._end - self._body)
        return pa.BufferReader(pa.py_buffer(self._data)[self._body:self._end])

    def _careful(self):
        with _big_fields():
            frame, malformed = careful_read(self.path, self._data, self._body, self.columns)
        frame, malformed = self._finish(frame, malformed)
        step = self.rows or max(len(frame), 1)
        rows = np.asarray(frame.index, dtype=np.int64)
        bad = np.asarray(malformed.index, dtype=np.int64)
        done = 0  # malformed rows given so far
        for at in range(0, max(len(frame), 1), step):
            last = at + step >= len(frame)
            upto = len(bad) if last else int(np.searchsorted(bad, rows[at + step - 1], "right"))
            yield frame.iloc[at:at + step], malformed.iloc[done:upto]
            done = upto

    def _finish(self, frame: pd.DataFrame, malformed: pd.DataFrame | None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = normalise(frame)
        if malformed is None:
            malformed = empty_like(self.columns)
            malformed["reason"] = pd.Series([], dtype="str")
        frame, malformed = _set_aside_headers(frame, malformed, self.columns, self.header)
        frame, malformed = _set_aside_swallowed(frame, malformed, len(self.columns))
        for name in _canonical(self.survey):
            if name not in frame.columns:
                frame[name] = pd.Series("", index=frame.index, dtype="str")
        return frame, malformed


def _mapped(path: Path) -> mmap.mmap:
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise HailongError(_("{path}: the file is empty; it needs a header row", path=path))
            # mapped, not read: the header checks look at it without reading it all
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise HailongError(_("{path}: file not found", path=path)) from None
    except IsADirectoryError:
        raise HailongError(_("{path}: is a folder; give the responses CSV file",
                             path=path)) from None
    except OSError as exc:
        raise HailongError(_("{path}: cannot read it ({strerror})",
                             path=path, strerror=exc.strerror)) from None


def _canonical(survey) -> list[str]:
    return list(survey.response_columns)


_BOM = b"\xef\xbb\xbf"


def _repaired(data: mmap.mmap, scan: bool = True) -> tuple[mmap.mmap | bytes, int]:
    """(the file's bytes, where the header starts): the map itself for a normal file; a
    repaired copy, made only when needed, for a BOM starting a header line inside the file (two
    exports joined together: it would stick to the first cell of that row) or old Mac / Excel
    line ends (a lone CR, which the csv module and pyarrow do not take as the end of a line).
    Any other U+FEFF is text a respondent sent, and stays. Without `scan` a mapped file is not
    searched for joined exports (the fast path's stream watches for them instead)."""
    start = len(_BOM) if data[:len(_BOM)] == _BOM else 0
    newline = data.find(b"\n", start)
    cr = data.find(b"\r", start, newline if newline >= 0 else len(data))
    cr_only = cr >= 0 and data[cr + 1:cr + 2] != b"\n"
    text: mmap.mmap | bytes = data
    if cr_only:
        text = data[start:].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        start = 0
    elif not scan:
        return text, start
    joined = _joined_boms(text, start)
    if not joined:
        return text, start
    pieces, last = [], start
    for at in joined:
        pieces.append(text[last:at])
        last = at + len(_BOM)
    pieces.append(text[last:])
    return b"".join(pieces), 0


def _joined_boms(data, start: int) -> list[int]:
    """Where a BOM starts a record that is a header again (submitted_at in its line); a BOM
    inside a quoted cell, after a line break in it, is text."""
    found = []
    quotes, counted = 0, start
    at = _find(data, b"\n" + _BOM, start)
    while at >= 0:
        for piece in range(counted, at, 1 << 24):  # a slice at a time: no copy of the file
            quotes += data[piece:min(piece + (1 << 24), at)].count(b'"')
        counted = at
        end = data.find(b"\n", at + 1)
        line = data[at + 1:end if end >= 0 else len(data)]
        if quotes % 2 == 0 and b"submitted_at" in line.lower():
            found.append(at + 1)
        at = _find(data, b"\n" + _BOM, at + 1)
    return found


@contextmanager
def _big_fields():
    """The csv module refuses cells over 128 KB by default ("field larger than field limit");
    a long comment is still a cell as read, not broken quoting."""
    previous = csv.field_size_limit(_FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


_FIELD_LIMIT = 1 << 30


def _columns(path: Path, header_text: str, survey) -> tuple[list[str], list[str]]:
    """The header's column names (trimmed, NFC, known names matched case-insensitively) and
    its cells as written (trimmed, NFC)."""
    try:
        cells = next(csv.reader([header_text.rstrip("\r")], strict=True), [])
    except csv.Error as exc:
        raise HailongError(
            _("{name} row 1: the header cannot be read ({exc}); check the quotes in the first "
              "line", name=path.name, exc=exc)
        ) from None
    known = {c.lower(): c for c in _canonical(survey)}
    columns: list[str] = []
    header: list[str] = []
    for i, cell in enumerate(cells, 1):
        name = unicodedata.normalize("NFC", cell).strip()
        header.append(name)
        name = known.get(name.lower(), name) or f"column_{i}"
        if name in columns:
            if name in known.values():
                raise HailongError(
                    _("{name} row 1: column '{name2}' appears twice; keep only one of them",
                      name=path.name, name2=name)
                )
            name = f"{name}_{i}"
        columns.append(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise HailongError(
            _("{name} row 1: missing column(s) {value}; is this a responses file? Its header "
              "needs {value2} and the question ids",
              name=path.name, value=', '.join(missing), value2=', '.join(config.META_COLUMNS))
        )
    scale = [q.id for q in survey.scale_questions]
    if scale and not any(q in columns for q in scale):
        raise HailongError(
            _("{name} row 1: none of the survey's question columns is in the header; it needs "
              "{value} but has {value2}; is this file from another survey?",
              name=path.name, value=_listed(scale), value2=_listed(columns))
        )
    return columns, header


def _listed(names: list[str], most: int = 25) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


_REPEATED_HEADER = N_("repeated header (files joined together?); not a response")


def _set_aside_headers(frame: pd.DataFrame, malformed: pd.DataFrame, columns: list[str],
                       header: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows that are a header again (two exports joined together) go to `malformed` with that
    reason, not on to validation, which would call them a bad date."""
    if len(malformed):
        # a header with another number of columns is malformed already: say what it is
        looks = np.zeros(len(malformed), dtype=bool)
        for name in columns:
            looks |= _is_header_cell(malformed[name])
        if looks.any():
            malformed = malformed.copy()
            malformed.loc[looks, "reason"] = _("repeated header, with another number of columns "
                                                "(files joined together?); check the rows after it")
    found = _is_header_cell(frame["submitted_at"])
    if found.any():
        rows = frame[found]
        same = np.ones(len(rows), dtype=bool)
        for name, cell in zip(columns, header, strict=True):
            same &= (rows[name].str.strip().str.lower() == cell.lower()).to_numpy()
        reasons = np.where(same, _(_REPEATED_HEADER), _("repeated header, with other columns than "
                                                        "row 1 (files joined together?); check "
                                                        "the columns of the rows after it"))
        rows = rows.assign(reason=pd.Series(reasons, index=rows.index, dtype="str"))
        frame = frame[~found]
        malformed = pd.concat([malformed, rows]).sort_index(kind="stable")
    return frame, malformed


def swallowed_lines(text: str, width: int) -> int:
    """How many lines after the first of a cell look like whole rows of a file `width` cells
    wide (at least width - 1 commas): the rows a quote left open has swallowed."""
    return sum(1 for line in text.replace("\r", "\n").split("\n")[1:]
               if width > 2 and line.count(",") >= width - 1)


def _set_aside_swallowed(frame: pd.DataFrame, malformed: pd.DataFrame, width: int
                         ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule for a quote left open: a cell holding a line break followed by a line with
    at least as many commas as the header has separators (width - 1) swallowed the rows
    below it. A comment written over several lines never has that many commas on a line;
    rows merged into one comment do. The record is set aside as malformed, whole, so the
    swallowed rows are neither lost silently nor counted as one answer."""
    found: dict[object, int] = {}
    for name in frame.columns:
        column = frame[name]
        if not len(column) or not _may_break_lines(column):
            continue
        multi = column.str.contains("\n", regex=False) | column.str.contains("\r", regex=False)
        for row, text in column[multi.to_numpy(dtype=bool, na_value=False)].items():
            count = swallowed_lines(text, width)
            if count:
                found[row] = max(found.get(row, 0), count)
    if not found:
        return frame, malformed
    rows = frame.loc[list(found)]
    rows = rows.assign(reason=pd.Series(
        [_("a quote opened in this row is not closed: its cell holds {count} more lines that "
           "look like rows (as many commas as the header); close the quote in the file and score "
           "again", count=found[r]) for r in rows.index], index=rows.index, dtype="str"))
    frame = frame.drop(index=rows.index)
    malformed = pd.concat([malformed, rows[[*malformed.columns]]]).sort_index()
    return frame, malformed


def _may_break_lines(column: pd.Series) -> bool:
    """Whether any cell of the column may hold a line break: its Arrow bytes, searched whole
    (a few milliseconds for 500,000 cells, where searching cell by cell took a tenth of a
    second a column); bytes of a larger buffer that the column only shares may say yes
    where it is no, which costs only the exact search."""
    for chunk in text_chunks(column).chunks:
        data = chunk.buffers()[2]
        if data is not None and data.size:
            found = np.frombuffer(data, dtype=np.uint8)
            if (found == 10).any() or (found == 13).any():
                return True
    return False


def _is_header_cell(column: pd.Series) -> np.ndarray:
    """Where a column holds the text submitted_at (trimmed, any case), found by pyarrow."""
    arr = pa.array(column.astype("str"), type=pa.large_string())
    found = pc.match_substring_regex(arr, r"^\s*submitted_at\s*$", ignore_case=True)
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _not_utf8(path: Path, data: bytes) -> HailongError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return HailongError(
            _("{name} line {line}: not UTF-8 text (byte 0x{value:02x}); save the file as 'CSV "
              "UTF-8' (Excel) or UTF-8 (other editors)",
              name=path.name, line=line, value=data[exc.start])
        )
    return HailongError(_("{name}: not UTF-8 text", name=path.name))


def _has_blank_line(data: mmap.mmap, body: int, end: int) -> bool:
    """A blank line is a spreadsheet row that pyarrow would skip silently, shifting the row
    numbers of everything after it; the careful reader counts it."""
    if data[body:body + 1] == b"\n" or data[body:body + 2] == b"\r\n":
        return True
    return _find(data, b"\n\n", body, end) >= 0 or _find(data, b"\n\r\n", body, end) >= 0


_SLICE = 1 << 26


def _find(data, needle: bytes, start: int, end: int | None = None) -> int:
    """data.find a slice at a time, letting go of each slice of a mapped file once searched:
    a scan of a 2 GB file then holds 64 MB of it in this process, not all of it."""
    end = len(data) if end is None else end
    for at in range(start, end, _SLICE):
        stop = min(at + _SLICE + len(needle) - 1, end)
        found = data.find(needle, at, stop)
        release(data, at, stop - at)
        if found >= 0:
            return found
    return -1


def empty_like(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
    frame.index = pd.Index([], dtype="int64", name=ROW)
    return frame


def as_read(result: ReadResult, rows: pd.Index) -> pd.DataFrame:
    """The given rows (file row numbers) with the file's own columns, as read."""
    return result.frame.loc[rows, result.columns]


def csv_head(columns) -> bytes:
    """The BOM and header line of a CSV file hailong writes (its body: score's SQL,
    hailong.score.queries.csv_body)."""
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([sheetcells.safe(str(c)) for c in columns])
    return (sheetcells.BOM + head.getvalue()).encode("utf-8")


def arrow_cells(column: pd.Series) -> pa.Array:
    """The column as one large_string array, empty where missing; pandas' Arrow-backed
    strings are taken as they are, not copied (a column of several chunks is joined)."""
    arr = text_chunks(column)
    if arr.num_chunks == 1:
        return arr.chunk(0)
    return arr.combine_chunks() if arr.num_chunks else pa.array([], pa.large_string())


def text_chunks(column: pd.Series) -> pa.ChunkedArray:
    """The column's texts as Arrow large_string chunks, empty where missing, not copied where
    pandas holds them in Arrow already (a column gathered from chunks stays in them)."""
    if column.dtype != "str":
        column = column.astype("str")
    arrow = getattr(column.array, "__arrow_array__", None)
    arr = arrow() if arrow is not None else pa.array(column.fillna(""), type=pa.large_string())
    if not isinstance(arr, pa.ChunkedArray):
        arr = pa.chunked_array([arr], type=arr.type)
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def text_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A large_string array's own buffers, read by numpy without a copy: (offsets, len(arr)
    + 1 of them: cell i is data[offsets[i]:offsets[i + 1]]; data: the values buffer as bytes)."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    values = arr.buffers()[2]
    data = np.frombuffer(values, dtype=np.uint8) if values is not None else np.zeros(0, np.uint8)
    return offsets, data
