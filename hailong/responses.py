"""Stage: read a responses CSV (data/raw.csv or any --responses file) without losing a row.

Every cell is read as text. A row keeps its file row number as a spreadsheet shows it (the
header is row 1), which is the frame's index from here to the output files. A malformed row
(wrong number of cells, a broken quote) is not an error: it comes back in `malformed` with a
reason, so the conservation rule still holds.

Speed: the pyarrow CSV engine reads a clean file (the normal case: raw.csv written by pull).
When it meets anything odd (a malformed row, a blank line, bytes that are not UTF-8) the whole
file is read again by the Python csv module, which can recover row by row and number rows
exactly; that path is slower but only taken for damaged files.
"""

from __future__ import annotations

import csv
import itertools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

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
        data = path.read_bytes()
    except FileNotFoundError:
        raise HailongError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise HailongError(f"{path}: is a folder; give the responses CSV file") from None
    except OSError as exc:
        raise HailongError(f"{path}: cannot read it ({exc.strerror})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    header_line = data.split(b"\n", 1)[0]
    try:
        header_text = header_line.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    columns = _columns(path, header_text, survey)

    frame = _fast_read(data, columns)
    malformed = None
    if frame is None:
        frame, malformed = _careful_read(path, data, columns)
    frame = _normalise(frame)
    for name in _canonical(survey):
        if name not in frame.columns:
            frame[name] = pd.Series("", index=frame.index, dtype="str")
    if malformed is None:
        malformed = pd.DataFrame(
            {**{c: pd.Series([], dtype="str") for c in columns}, "reason": pd.Series([], dtype="str")}
        )
        malformed.index = pd.Index([], dtype="int64", name=ROW)
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


def _fast_read(data: bytes, columns: list[str]) -> pd.DataFrame | None:
    """pyarrow's reader for clean files; None when the file needs the careful path."""
    body_start = data.find(b"\n") + 1 if b"\n" in data else len(data)
    body = data[body_start:]
    # A blank line is a spreadsheet row that pyarrow would skip silently, shifting the row
    # numbers of everything after it; let the careful reader count it.
    if body.startswith((b"\n", b"\r\n")) or b"\n\n" in body or b"\n\r\n" in body:
        return None
    names = [f"c{i}" for i in range(len(columns))]
    invalid: list[int] = []

    def on_invalid(_row) -> str:
        invalid.append(1)
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if invalid:
        return None
    arrays = {}
    for name, column in zip(columns, table.columns, strict=True):
        arr = column
        if not pc.all(pc.string_is_ascii(arr)).as_py():
            arr = pc.utf8_normalize(arr, "NFC")
        arrays[name] = arr
    frame = pa.table(arrays).to_pandas() if arrays else pd.DataFrame()
    frame.index = pd.RangeIndex(2, 2 + table.num_rows, name=ROW)
    return frame


def _careful_read(path: Path, data: bytes, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Record by record with the csv module, recovering from malformed rows."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(path, data) from None
    text = unicodedata.normalize("NFC", text)
    # split on "\n" only: str.splitlines would also split inside cells at \u2028 and friends
    lines = [piece + "\n" for piece in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    width = len(columns)
    good_rows: list[list[str]] = []
    good_numbers: list[int] = []
    bad_rows: list[list[str]] = []
    bad_numbers: list[int] = []
    reasons: list[str] = []
    number = 1  # the header
    line = 1
    while line < len(lines):
        reader = csv.reader(itertools.islice(lines, line, None))
        restart = None
        consumed = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # e.g. a runaway quote reaching the field size limit: lose only its first line
                number += 1
                first_line = line + consumed
                bad_rows.append(_fit(_split_line(lines[first_line]), width))
                bad_numbers.append(number)
                reasons.append(f"unreadable row ({exc}); check its quotes")
                restart = first_line + 1
                break
            number += 1
            spanned = reader.line_num - consumed
            first_line = line + consumed
            consumed = reader.line_num
            if not cells:
                continue  # a blank line: a row of the sheet, but not a response
            if len(cells) == width:
                good_rows.append(cells)
                good_numbers.append(number)
                continue
            if spanned > 1:
                # an opening quote that never closed swallowed the next lines: give up only
                # the first of them and read on from the line after it
                cells = _split_line(lines[first_line])
                reason = "broken quoting: a quote opened in this row is never closed"
                restart = first_line + 1
            else:
                reason = (
                    f"{len(cells)} cells but the header has {width}; check for an unquoted "
                    "comma or a missing cell"
                )
            bad_rows.append(_fit(cells, width))
            bad_numbers.append(number)
            reasons.append(reason)
            if restart is not None:
                break
        if restart is None:
            break
        line = restart
    frame = _frame(good_rows, good_numbers, columns)
    malformed = _frame(bad_rows, bad_numbers, columns)
    malformed["reason"] = pd.Series(reasons, index=malformed.index, dtype="str")
    return frame, malformed


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
