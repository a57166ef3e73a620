"""The embedded local sheet: `<out>/<id>/sheet.csv`, the shared sheet of collector.kind = "local".

Several writers may append at once (threads of `hailong serve`, a demo, a second server), so
every append takes a lock file beside the sheet and writes the whole row in one `os.write`,
then fsyncs. A value is kept as sent, line breaks included (quoted, see hailong.csvtext), so a
row torn by a crash is the part after the last "\n" outside quotes. The next append, holding
the lock, cuts that half row off before writing; readers ignore it. A torn row is at most one
append long; a longer unterminated stretch is a quote opened by hand, and is refused rather
than cut.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from hailong import csvtext
from hailong.cells import BOM_BYTES
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.survey.tables import nfc

LOCK_TIMEOUT = 30  # seconds; an append holds the lock for a few milliseconds
MAX_TORN = 1 << 20  # bytes; one row is far shorter (serve takes 64 KB), a longer tail is no torn row

# (inode, size, mtime) of sheets this process left ending on a whole record: the next append
# need not read the file again to find a torn tail
_clean: dict[str, tuple[int, int, int]] = {}
_clean_guard = threading.Lock()


def lock_for(path: Path) -> FileLock:
    return FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT)


def _cell(value: object) -> str:
    if value is None:
        return ""
    return csvtext.clean(nfc(str(value)))


def _line(cells: Sequence[str]) -> bytes:
    return csvtext.line(cells).encode("utf-8")


def _read_header(fd: int) -> list[str] | None:
    """The sheet's header, or None when the file has no complete first line."""
    os.lseek(fd, 0, os.SEEK_SET)
    data = b""
    while b"\n" not in data:
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        data += chunk
    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return next(csv.reader([first]), [])


def _stat_key(fd: int) -> tuple[int, int, int]:
    st = os.fstat(fd)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _unclosed(path: Path, data: bytes, end: int) -> HailongError:
    line = data.count(b"\n", 0, end) + 1
    return HailongError(
        _("{path} line {line}: a quote opened in this row never closes, so the rows after it "
          "cannot be told apart; open the file in a text editor, close or remove that quote, "
          "and save it as UTF-8", path=path, line=line)
    )


def _whole_end(path: Path, data: bytes) -> int:
    """Where the last whole record of the sheet's bytes ends (a torn row after it is cut)."""
    end = csvtext.record_end(data)
    if len(data) - end > MAX_TORN:
        raise _unclosed(path, data, end)
    return end


def _repair(fd: int, path: Path) -> int:
    """Cut off a half-written last row (a writer died mid-write); return the new size."""
    key = _stat_key(fd)
    size = key[1]
    if size == 0:
        return 0
    with _clean_guard:
        if _clean.get(str(path)) == key:
            return size
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    keep = _whole_end(path, b"".join(chunks))
    if keep < size:
        os.ftruncate(fd, keep)
        os.fsync(fd)
    return keep


def _remember_clean(fd: int, path: Path) -> None:
    with _clean_guard:
        _clean[str(path)] = _stat_key(fd)


def append_row(path: str | Path, columns: Sequence[str], row: Mapping[str, object]) -> None:
    """Append one response to the sheet at `path` (created with the header `columns`).

    Values are written under the sheet's existing header; a column of `row` that the header
    lacks is an error rather than a silent loss (the survey changed after answers came in).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_for(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            size = _repair(fd, path)
            header = _read_header(fd) if size else None
            prefix = b""
            if header is None:
                header = list(columns)
                prefix = BOM_BYTES + _line(header)  # Excel reads it as UTF-8
            lacking = [c for c in columns if c not in header and row.get(c) not in (None, "")]
            if lacking:
                raise HailongError(
                    _("{path}: the sheet's header lacks column(s) {value}; the survey changed "
                      "after answers came in: run `hailong pull`, then rename sheet.csv (e.g. "
                      "sheet-old.csv) so the next answer starts a new sheet; pull copies the new "
                      "sheet's rows as well and keeps those already pulled",
                      path=path, value=', '.join(lacking))
                )
            data = prefix + _line([_cell(row.get(c)) for c in header])
            written = os.write(fd, data)
            while written < len(data):  # a regular file writes all at once; be safe anyway
                written += os.write(fd, data[written:])
            os.fsync(fd)
            _remember_clean(fd, path)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class Sheet:
    """What a reader saw of the sheet: its header, complete data rows, and which sheet it is.

    `fingerprint` tells a sheet from one that replaced it (moved aside, a new one started): it
    hashes the first data row's non-empty values with their column names, which appends and
    crash repairs never change, nor does a column added by hand, a reordered header or a
    re-save with other line ends or quoting. None while the sheet has no complete data row.
    """

    path: Path
    header: list[str]
    rows: list[list[str]]
    fingerprint: str | None

    def after(self, start: int) -> list[list[str]]:
        """The data rows from number `start` on (0 = the first data row)."""
        if start > len(self.rows):
            raise HailongError(
                _("{path}: holds {value} rows but {start} were already pulled from it, so rows "
                  "were deleted from the sheet (raw.csv keeps them); put the sheet back as it "
                  "was, or rename it (e.g. sheet-old.csv) so the next answer starts a new sheet",
                  path=self.path, value=len(self.rows), start=start)
            )
        return self.rows[start:]


def read_sheet(path: str | Path) -> Sheet:
    """Read the whole sheet, leaving out a half-written last row: it is not an answer yet."""
    path = Path(path)
    with lock_for(path):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise HailongError(_("{path}: no such sheet", path=path)) from None
    end = _whole_end(path, data)
    try:
        text = data[:end].decode("utf-8-sig") if end else ""
        records = list(csv.reader(io.StringIO(text, newline="")))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HailongError(_("{path} line {line}: not UTF-8 text; save the sheet as UTF-8",
                             path=path, line=line)) from None
    except csv.Error as exc:
        raise HailongError(_("{path}: {exc}", path=path, exc=exc)) from None
    header = [h.strip() for h in records[0]] if records else []
    rows = records[1:]
    fingerprint = None
    if rows:
        first = sorted((name, value) for name, value in zip(header, rows[0], strict=False) if value != "")
        fingerprint = hashlib.sha256(json.dumps(first, ensure_ascii=False).encode()).hexdigest()[:16]
    return Sheet(path, header, rows, fingerprint)


def read_rows(path: str | Path, start: int = 0) -> tuple[list[str], list[list[str]]]:
    """The sheet's header and its data rows from number `start` on (0 = the first data row)."""
    sheet = read_sheet(path)
    return sheet.header, sheet.after(start)
