"""Reading the small CSV files people edit by hand (units, roster, visitors, transactions).

Errors name the file, the row (as a spreadsheet shows it: the header is row 1) and the column.
Every text is NFC-normalised; a BOM, Windows line endings and stray spaces around cells are fine.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import HailongError
from hailong.i18n import _


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def read_text(path: Path) -> str:
    """A file's text as UTF-8 (a BOM is dropped), NFC-normalised, or a HailongError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise HailongError(_("{path}: file not found", path=path)) from None
    except OSError as exc:
        raise HailongError(_("{path}: cannot read it ({strerror})",
                             path=path, strerror=exc.strerror)) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]  # so error offsets below count from the text
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HailongError(
            _("{name} line {line}: not UTF-8 text (byte 0x{value:02x}); save the file as 'CSV "
              "UTF-8' (Excel) or UTF-8 (other editors)",
              name=path.name, line=line, value=data[exc.start])
        ) from None
    return nfc(text)


@dataclass(frozen=True)
class Row:
    """One data row of a table: `number` is its row number as a spreadsheet shows it."""

    number: int
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values.get(key, "")


class Table:
    """The rows of one hand-edited CSV file, with helpers for clear error messages."""

    def __init__(self, path: Path, rows: list[Row], columns: list[str]):
        self.path = path
        self.rows = rows
        self.columns = columns

    @property
    def name(self) -> str:
        return self.path.name

    def error(self, row: Row | int, column: str | None, message: str) -> HailongError:
        number = row.number if isinstance(row, Row) else row
        where = _("{name} row {number}", name=self.name, number=number) + (
            _(", column '{column}'", column=column) if column else "")
        return HailongError(_("{where}: {message}", where=where, message=message))

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def integer(self, row: Row, column: str, *, default: int | None = None, minimum: int = 0):
        text = row[column].strip()
        if text == "":
            return default
        try:
            number = float(text)  # spreadsheets export 15 as "15.0"
            if not number.is_integer():
                raise ValueError
            value = int(number)
        except ValueError:
            raise self.error(row, column, _("'{text}' is not a whole number", text=text)) from None
        if value < minimum:
            raise self.error(row, column, _("{value} is below {minimum}",
                                            value=value, minimum=minimum))
        return value


def read_table(
    path: Path,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    allow_extra: bool = True,
) -> Table:
    """Read a CSV file whose header must hold `required` (any order, any case, trimmed)."""
    text = read_text(path)
    # strict: a quote opened and never closed is an error, not rows silently run together
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise HailongError(_("{name}: the file is empty; it needs a header row",
                             name=path.name)) from None
    except csv.Error as exc:
        raise HailongError(_("{name} row 1: {exc}", name=path.name, exc=exc)) from None
    columns = [h.strip().lower() for h in header]
    required = list(required)
    known = set(required) | set(optional)
    missing = [c for c in required if c not in columns]
    if missing and len(columns) == 1 and ";" in columns[0]:
        raise HailongError(
            _("{name} row 1: the columns are separated by ';' (Excel with Vietnamese regional "
              "settings); save it as 'CSV UTF-8 (Comma delimited)' or replace ';' with ','",
              name=path.name)
        )
    if missing:
        raise HailongError(
            _("{name} row 1: missing column(s) {value}; the header needs {value2}",
              name=path.name, value=', '.join(repr(m) for m in missing),
              value2=', '.join(required))
        )
    seen: set[str] = set()
    for c in columns:
        if c in seen and c:
            raise HailongError(_("{name} row 1: column '{c}' appears twice", name=path.name, c=c))
        seen.add(c)
        if not allow_extra and c and c not in known:
            raise HailongError(
                _("{name} row 1: unknown column '{c}'; allowed: {value}",
                  name=path.name, c=c, value=', '.join(sorted(known)))
            )
    rows: list[Row] = []
    number = 1
    try:
        for cells in reader:
            number += 1
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are common at the end of exported files
            if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
                raise HailongError(
                    _("{name} row {number}: {value} cells but the header has {value2}; check for "
                      "an unquoted comma",
                      name=path.name, number=number, value=len(cells), value2=len(columns))
                )
            values = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns)}
            rows.append(Row(number, values))
    except csv.Error as exc:
        hint = ""
        if "end of data" in str(exc):
            hint = "; a quote (\") is opened and never closed"
        raise HailongError(_("{name} row {value}: {exc}{hint}",
                             name=path.name, value=number + 1, exc=exc, hint=hint)) from None
    return Table(path, rows, columns)


def parse_bool(text: str) -> bool | None:
    """true/false, 1/0, có/không, yes/no, x/empty as people type them; None if unreadable."""
    t = nfc(text).strip().lower()
    if t in {"true", "1", "có", "co", "yes", "y", "x", "đúng", "rồi"}:
        return True
    if t in {"false", "0", "không", "khong", "no", "n", "", "sai", "chưa"}:
        return False
    return None


_DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATE_FORMATS = "YYYY-MM-DD or DD/MM/YYYY"


def parse_date(text: str) -> dt.date | None:
    """A date of a hand-edited table: ISO YYYY-MM-DD, or day first as Excel saves it under
    Vietnamese settings (DD/MM/YYYY, also D/M/YYYY); None if it is neither."""
    t = text.strip()
    if m := _DAY_FIRST.match(t):
        day, month, year = (int(g) for g in m.groups())
        try:
            return dt.date(year, month, day)
        except ValueError:
            return None
    if not _ISO.match(t):  # fromisoformat also takes 20240612 and week dates, nobody types them
        return None
    try:
        return dt.date.fromisoformat(t)
    except ValueError:
        return None


def check_each(table: Table, column: str, check: Callable[[str], bool], message: str) -> None:
    for row in table:
        if not check(row[column]):
            raise table.error(row, column, message.format(value=row[column]))
