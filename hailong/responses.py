"""Stage: read a responses CSV (data/raw.csv or any --responses file) without losing a row.

Every cell is read as text. A row keeps its file row number as a spreadsheet shows it (the
header is row 1), which is the frame's index from here to the output files. A malformed row
(wrong number of cells, a broken quote) is not an error: it comes back in `malformed` with a
reason, so the conservation rule still holds.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hailong import config
from hailong.errors import HailongError

REQUIRED_COLUMNS = ("submitted_at", "unit_code")
ROW = "row"  # the index name: file row number, header = 1


@dataclass
class ReadResult:
    """The rows of one responses file.

    `frame`: one row per well-formed record, every column `str`, indexed by file row number;
    it holds the file's columns in file order, then any canonical column the file lacked (empty).
    `malformed`: records that could not be split into the header's columns: the cells that
    could be read (positionally) plus `reason`, indexed by file row number.
    `columns`: the file's header as read (after trimming; known names in lower case).
    """

    path: Path
    frame: pd.DataFrame
    malformed: pd.DataFrame
    columns: list[str]

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.malformed)


def read_responses(path: str | Path, survey) -> ReadResult:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size == 0:
                raise HailongError(f"{path}: the file is empty; it needs a header row")
            # mapped, not read: pyarrow parses straight from the page cache
            data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        raise HailongError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise HailongError(f"{path}: is a folder; give the responses CSV file") from None
    except OSError as exc:
        raise HailongError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
        newline = data.find(b"\n", start)
        header_end = newline if newline >= 0 else len(data)
        try:
            header_text = data[start:header_end].decode("utf-8")
        except UnicodeDecodeError:
            raise _not_utf8(path, bytes(data)) from None
        columns = _columns(path, header_text, survey)
        body = header_end + 1 if newline >= 0 else len(data)
        end = len(data)
        while end > body and data[end - 1:end] in (b"\n", b"\r"):
            end -= 1  # blank lines at the very end shift no row number: not a reason to slow down
        frame = None
        if not _has_blank_line(data, body, end):
            frame = _arrow_read(pa.py_buffer(data)[body:end], columns)
        malformed = None
        if frame is None:
            frame, malformed = _careful_read(path, data, body, columns)
    finally:
        try:
            data.close()
        except BufferError:  # pyarrow still holds a view after a failed parse; GC closes it
            pass
    frame = _normalise(frame)
    for name in _canonical(survey):
        if name not in frame.columns:
            frame[name] = pd.Series("", index=frame.index, dtype="str")
    if malformed is None:
        malformed = empty_like(columns)
        malformed["reason"] = pd.Series([], dtype="str")
    return ReadResult(path, frame, malformed, columns)


def _canonical(survey) -> list[str]:
    return list(survey.response_columns)


def _columns(path: Path, header_text: str, survey) -> list[str]:
    """The header's column names: trimmed, NFC, known names matched case-insensitively."""
    cells = next(csv.reader([header_text.rstrip("\r")]), [])
    known = {c.lower(): c for c in _canonical(survey)}
    columns: list[str] = []
    for i, cell in enumerate(cells, 1):
        name = unicodedata.normalize("NFC", cell).strip()
        name = known.get(name.lower(), name) or f"column_{i}"
        if name in columns:
            if name in known.values():
                raise HailongError(
                    f"{path.name} row 1: column '{name}' appears twice; keep only one of them"
                )
            name = f"{name}_{i}"
        columns.append(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise HailongError(
            f"{path.name} row 1: missing column(s) {', '.join(missing)}; is this a responses "
            f"file? Its header needs {', '.join(config.META_COLUMNS)} and the question ids"
        )
    return columns


def _not_utf8(path: Path, data: bytes) -> HailongError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return HailongError(
            f"{path.name} line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save the "
            "file as 'CSV UTF-8' (Excel) or UTF-8 (other editors)"
        )
    return HailongError(f"{path.name}: not UTF-8 text")


def _has_blank_line(data: mmap.mmap, body: int, end: int) -> bool:
    """A blank line is a spreadsheet row that pyarrow would skip silently, shifting the row
    numbers of everything after it; the careful reader counts it."""
    if data[body:body + 1] == b"\n" or data[body:body + 2] == b"\r\n":
        return True
    return data.find(b"\n\n", body, end) >= 0 or data.find(b"\n\r\n", body, end) >= 0


def _arrow_read(buffer: pa.Buffer, columns: list[str], rows: list[int] | None = None
                ) -> pd.DataFrame | None:
    """pyarrow's reader: every record must have the header's width, else None.

    `rows`: the file row number of each record (default: consecutive from 2)."""
    names = [f"c{i}" for i in range(len(columns))]
    invalid: list[int] = []

    def on_invalid(_row) -> str:
        invalid.append(1)
        return "skip"

    if buffer.size == 0:
        return _frame([], [], columns) if not rows else None
    try:
        table = pacsv.read_csv(
            buffer,
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                # large_string is what pandas' str dtype holds: no copy when converting
                column_types={n: pa.large_string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid or (rows is not None and table.num_rows != len(rows)):
        return None
    arrays = {}
    for name, column in zip(columns, table.columns, strict=True):
        arr = column
        if not pc.all(pc.string_is_ascii(arr)).as_py():
            arr = pc.utf8_normalize(arr, "NFC")
        arrays[name] = arr
    frame = pa.table(arrays).to_pandas()
    if rows is None:
        frame.index = pd.RangeIndex(2, 2 + table.num_rows, name=ROW)
    else:
        frame.index = pd.Index(rows, dtype="int64", name=ROW)
    return frame


def _careful_read(path: Path, data: mmap.mmap, body: int, columns: list[str]
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record by record with the csv module, recovering from malformed rows.

    The csv module only finds where each good record lies; the good records' bytes are then
    parsed together by pyarrow, so a big file with one bad row costs one extra pass, not a
    Python string per cell."""
    lines = data[body:].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    width = len(columns)
    runs: list[list[int]] = []  # [first line, end line) of consecutive good records
    good_numbers: list[int] = []
    bad_rows: list[list[str]] = []
    bad_numbers: list[int] = []
    reasons: list[str] = []
    number = 1  # the header
    position = 0  # index in `lines` where the current reader started

    def text_lines(first: int):
        for i in range(first, len(lines)):
            try:
                yield lines[i].decode("utf-8") + "\n"
            except UnicodeDecodeError as exc:
                raise HailongError(
                    f"{path.name} line {i + 2}: not UTF-8 text (byte 0x{lines[i][exc.start]:02x}); "
                    "save the file as 'CSV UTF-8' (Excel) or UTF-8 (other editors)"
                ) from None

    while position < len(lines):
        reader = csv.reader(text_lines(position), strict=True)
        restart = None
        consumed = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # A quote that never closes (or closes mid-cell) would swallow the rows after
                # it: quarantine only the line it starts on and read on from the next line.
                number += 1
                first = position + consumed
                bad_rows.append(_fit(_split_line(_nfc(lines[first].decode("utf-8"))), width))
                bad_numbers.append(number)
                reasons.append(f"broken quoting ({exc}); check the quotes in this row")
                restart = first + 1
                break
            number += 1
            first, consumed = position + consumed, reader.line_num
            last = position + consumed
            if not cells:
                continue  # a blank line: a row of the sheet, but not a response
            if len(cells) == width:
                if runs and runs[-1][1] == first:
                    runs[-1][1] = last
                else:
                    runs.append([first, last])
                good_numbers.append(number)
                continue
            bad_rows.append(_fit([_nfc(c) for c in cells], width))
            bad_numbers.append(number)
            reasons.append(
                f"{len(cells)} cells but the header has {width}; check for an unquoted comma "
                "or a missing cell"
            )
        if restart is None:
            break
        position = restart

    good = b"".join(b"\n".join(lines[a:b]) + b"\n" for a, b in runs)
    lines.clear()  # free them before pyarrow parses the good bytes
    frame = _arrow_read(pa.py_buffer(good), columns, good_numbers)
    if frame is None:  # pyarrow and the csv module disagree on a record: trust the csv module
        records = csv.reader(io.StringIO(good.decode("utf-8"), newline=""), strict=True)
        frame = _frame([[_nfc(c) for c in r] for r in records], good_numbers, columns)
    malformed = _frame(bad_rows, bad_numbers, columns)
    malformed["reason"] = pd.Series(reasons, index=malformed.index, dtype="str")
    return frame, malformed


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _split_line(line: str) -> list[str]:
    try:
        return next(csv.reader([line.rstrip("\r\n")]), [])
    except csv.Error:
        return [line.rstrip("\r\n")]


def _fit(cells: list[str], width: int) -> list[str]:
    """Cells placed under the header: missing ones empty, extra ones kept in the last column."""
    if len(cells) < width:
        return cells + [""] * (width - len(cells))
    if len(cells) > width and width:
        return cells[: width - 1] + [",".join(cells[width - 1 :])]
    return cells


def _frame(rows: list[list[str]], numbers: list[int], columns: list[str]) -> pd.DataFrame:
    by_column = list(zip(*rows, strict=True)) if rows else [() for _ in columns]
    frame = pd.DataFrame(
        {c: pd.Series(list(v), dtype="str") for c, v in zip(columns, by_column, strict=True)}
    )
    frame.index = pd.Index(numbers, dtype="int64", name=ROW)
    return frame


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    for c in frame.columns:
        if frame[c].dtype != "str":
            frame[c] = frame[c].astype("str")
    return frame


def empty_like(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in columns})
    frame.index = pd.Index([], dtype="int64", name=ROW)
    return frame


def as_read(result: ReadResult, rows: pd.Index) -> pd.DataFrame:
    """The given rows (file row numbers) with the file's own columns, as read."""
    return result.frame.loc[rows, result.columns]


_NEEDS_QUOTES = r'[",\r\n]'


def csv_bytes(frame: pd.DataFrame, chunk_rows: int = 200_000) -> bytes:
    """A frame of text columns as UTF-8 CSV (header, "\\n" line ends, quotes only where needed,
    as the csv module writes them). Built with pyarrow kernels, a slice of rows at a time: a
    million rows in about a second, where DataFrame.to_csv takes several."""
    head = io.StringIO()
    csv.writer(head, lineterminator="\n").writerow([str(c) for c in frame.columns])
    pieces: list = [head.getvalue().encode("utf-8")]
    for start in range(0, len(frame), chunk_rows):
        pieces.append(_csv_body(frame.iloc[start:start + chunk_rows]))
    return b"".join(pieces)


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=pa.large_string())


def _csv_body(frame: pd.DataFrame) -> memoryview:
    cells = []
    for name in frame.columns:
        column = frame[name]
        if column.dtype != "str":
            column = column.astype("str")
        arr = pa.array(column.fillna(""), type=pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        needs = pc.match_substring_regex(arr, _NEEDS_QUOTES)
        if pc.any(needs).as_py():
            quoted = pc.binary_join_element_wise(_text('"'), pc.replace_substring(arr, '"', '""'),
                                                 _text('"'), _text(""))
            arr = pc.if_else(needs, quoted, arr)
        cells.append(arr)
    lines = pc.binary_join_element_wise(*cells, _text(","))
    lines = pc.binary_join_element_wise(lines, _text(""), _text("\n"))  # each line and its "\n"
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    # the values buffer of the joined lines is the CSV text itself
    _, offsets, values = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int64)[lines.offset: lines.offset + len(lines) + 1]
    return memoryview(values)[bounds[0]: bounds[-1]] if values is not None else memoryview(b"")
