"""Cells that open right in a spreadsheet (contract v2, section 4): a UTF-8 byte-order mark at
the start of every CSV hailong writes, because Excel on Windows reads a CSV without one in the
ANSI code page and shows "XÃ£" for "Xã"; and text that can never run as a formula.

The formula-safe scheme is reversible. Writing: a text cell that starts with = + - @, a tab or
a carriage return gets one leading apostrophe, so a spreadsheet shows it as text; so does a
cell that already starts with an apostrophe. Reading back (`restore`): one leading apostrophe
is dropped from every cell that has one, which gives back exactly the text that was sent.
A plain number (-3.2, +5, -1e3) is not a formula and is written as it is: hailong's own
negative figures stay numbers in Excel. An XLSX cell needs no apostrophe: its type says text
(`xlsx_value`).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from hailong import csvtext

BOM = "\ufeff"
BOM_BYTES = BOM.encode("utf-8")
# what a spreadsheet would run (or evaluate) if a cell began with it; the apostrophe is the
# escape itself, so a cell beginning with one is escaped too
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")
TRIGGER_PATTERN = r"^[=+\-@\t\r']"
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
# the whole text, as the SQL and Arrow writers read the pattern (RE2): Python's `$` also matches
# before a final line break, which left "-1\n" unescaped here and escaped in the data files
_NUMBER = re.compile(NUMBER_PATTERN[:-1] + r"\Z")


def safe(text: str) -> str:
    """The cell as written to a CSV: an apostrophe before a text that could run as a formula."""
    if text[:1] in TRIGGERS and not _NUMBER.match(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The text a `safe` cell was made from."""
    return text[1:] if text[:1] == "'" else text


def safe_column(values: pd.Series) -> pd.Series:
    """`safe` over a column of text; other columns (numbers) are returned as they are."""
    if not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return values
    text = values.astype("str").where(values.notna(), "")
    needs = text.str.match(TRIGGER_PATTERN) & ~text.str.match(_NUMBER.pattern)
    if not needs.any():
        return values
    return values.where(~needs, "'" + text)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text column made formula-safe (a copy only where needed)."""
    out = frame
    for name in frame.columns:
        column = safe_column(frame[name])
        if column is not frame[name]:
            if out is frame:
                out = frame.copy()
            out[name] = column
    return out


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame read from a hailong CSV as text, with every cell back as it was sent."""
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_string_dtype(column) or column.dtype == object:
            quoted = column.astype("str").str.startswith("'", na=False)
            if quoted.any():
                frame[name] = column.where(~quoted, column.astype("str").str.slice(1))
    return frame


def read_csv(path: Path, **kwargs) -> pd.DataFrame:
    """A CSV that hailong wrote, all text, BOM or not, neutralised cells restored.
    Errors are the caller's to word (each knows which command writes the file)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
    frame.columns = [restore(str(c)) for c in frame.columns]
    return restore_frame(frame)


def csv_text(frame: pd.DataFrame, **kwargs) -> str:
    """A frame as the text of a hailong CSV: BOM, no index, "\n" line ends, formula-safe."""
    safe_head = [safe(str(c)) for c in frame.columns]
    body = safe_frame(frame).set_axis(safe_head, axis=1)
    text = body.to_csv(index=False, lineterminator="\n", **kwargs)
    if "\r" in text:
        # under "\n" line ends the csv module leaves a cell with a lone CR unquoted, which
        # readers split into two rows: CRLF line ends make it quote every CR, then each record
        # is written again with "\n" (csvtext.line quotes what holds CR or LF)
        crlf = body.to_csv(index=False, lineterminator="\r\n", **kwargs)
        text = "".join(csvtext.line(r) for r in csv.reader(io.StringIO(crlf, newline="")))
    return BOM + text


def xlsx_value(cell, value) -> None:
    """Put `value` into an openpyxl cell so that text stays text: openpyxl would otherwise
    store a string starting with "=" as a live formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


# Times New Roman: the font of Vietnamese official documents (Decree 30/2020/ND-CP), with every
# Vietnamese glyph on Windows; LibreOffice shows it as the metric-compatible Liberation Serif.
XLSX_FONT = "Times New Roman"
_DEFAULT_WIDTH = 8.43  # Excel's default column width, in widths of "0"
_LINE = 1.4  # line height per point of font size: stacked diacritics (ể, ỗ) need the room


def xlsx_finish(ws) -> None:
    """The last touch on every sheet hailong gives staff: the named font on each written cell,
    and each row as tall as its tallest wrapped cell. Neither Excel nor LibreOffice grows a
    row for wrapped text on opening a file, and neither ever grows one for a merged cell."""
    from copy import copy

    from openpyxl.cell.cell import MergedCell
    from openpyxl.utils import get_column_letter

    def width(col: int) -> float:
        dim = ws.column_dimensions.get(get_column_letter(col))
        return dim.width if dim is not None and dim.width else _DEFAULT_WIDTH

    spans = {}
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = sum(width(c) for c in range(rng.min_col, rng.max_col + 1))
    # a sheet of 10,000 rows has a handful of distinct fonts and alignments: renaming a font
    # (openpyxl hashes it on every assignment) is done once per font, not once per cell
    fonts: dict[int, tuple[int, float, bool]] = {}  # font id -> (renamed font id, size, bold)
    wraps: dict[int, bool] = {}  # alignment id -> wraps text
    for row in ws.iter_rows():
        tallest = 0.0
        for cell in row:
            if isinstance(cell, MergedCell) or cell.value is None:
                continue
            style = cell._style
            key = style.fontId
            if key not in fonts:
                font = copy(cell.font)
                font.name = XLSX_FONT
                cell.font = font
                fonts[key] = (style.fontId, float(font.sz or 11), bool(font.b))
            renamed, size, bold = fonts[key]
            style.fontId = renamed
            if style.alignmentId not in wraps:
                wraps[style.alignmentId] = cell.alignment is not None and bool(cell.alignment.wrap_text)
            lines = 1
            if wraps[style.alignmentId]:
                room = spans.get((cell.row, cell.column)) or width(cell.column)
                lines = wrapped_lines(str(cell.value), room, size, bold)
            tallest = max(tallest, lines * size * _LINE)
        if tallest > 15:
            ws.row_dimensions[row[0].row].height = round(tallest + 4)


def wrapped_lines(text: str, width: float, size: float = 11, bold: bool = False) -> int:
    """How many lines `text` takes in a column `width` characters wide, wrapped at spaces.
    Generous on purpose: a row a little too tall reads fine, one too short cuts text off."""
    pixels = 7 * width + 5 - 6  # a column's pixels, less the cell's padding
    per_char = 7 * size / 11 * (1.1 if bold else 1.0)
    room = max(1, int(pixels / per_char))
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0
        for word in paragraph.split():
            need = len(word) if used == 0 else used + 1 + len(word)
            if used and need > room:
                lines += 1 + (len(word) - 1) // room
                used = len(word) % room or room
            elif not used and len(word) > room:
                lines += (len(word) - 1) // room
                used = len(word) % room or room
            else:
                used = need
    return lines
