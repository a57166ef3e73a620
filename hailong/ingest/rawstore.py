"""data/raw.csv: every row ever pulled from the shared sheet(s), each exactly once.

Pulls append whole blocks. The state file (data/pull-state.json) records, per source, how many
of its rows raw.csv holds, and for raw.csv itself: its header, the size it had after the last
complete block, and a hash of the bytes just before that size. A pull that dies mid-block
leaves bytes past that size; the next pull cuts them off before appending, so no row is lost
or doubled.

Cutting is only safe on the very file the state describes, so it happens only when the header,
the hash and a line end at the cut all agree. A raw.csv with rows but no state, or one changed
by hand (re-saved with Windows line ends, rows deleted), is refused with a message, never cut.

A new extra column widens the header, which rewrites raw.csv whole. The new file's state is
saved first as "pending", then the file is replaced, then the state is committed: a crash at
any point leaves either the old file or the new one, and the state can check which.

raw.csv starts with a UTF-8 BOM, as every CSV hailong writes (one written before that has none
and is still recognised). Its cells are the store of record, kept exactly as collected: they
are not formula-neutralised (hailong.cells); the files staff open are score's responses.csv and
the others, which are.

Callers hold the pull lock (hailong.ingest.pull) while a RawStore lives: it assumes no other writer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from typing import BinaryIO, NoReturn

from hailong import csvtext
from hailong.cells import BOM_BYTES
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout

TAIL_BYTES = 4096  # the stretch before the recorded size whose hash must match before a cut
_HEAD_PROBE = 65536  # a header line is far shorter; enough to see whether rows follow it


def _empty_state() -> dict:
    return {"raw_bytes": 0, "sources": {}}


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _csv_line(cells: Sequence[str]) -> bytes:
    return csvtext.line([csvtext.clean(c) for c in cells]).encode("utf-8")


def _encoded(lines: list[str]) -> bytes:
    """UTF-8 bytes of the block; a cell with an unpaired surrogate (JSON may carry one) gets
    U+FFFD in its place rather than failing the whole pull."""
    text = "".join(lines)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return csvtext.clean(text).encode("utf-8")


def _read_at(fh: BinaryIO, start: int, end: int) -> bytes:
    fh.seek(start)
    return fh.read(end - start)


def _holds_rows(fh: BinaryIO, size: int) -> bool:
    """Whether the file has anything after its first line (a header alone loses nothing)."""
    head = _read_at(fh, 0, min(size, _HEAD_PROBE))
    newline = head.find(b"\n")
    if newline < 0:
        return size > len(head)
    return size > newline + 1


def _describes(fh: BinaryIO, size: int, state: dict) -> bool:
    """Whether `state` (committed or pending) describes this file, possibly with a torn tail."""
    end = int(state.get("raw_bytes", 0))
    if end == 0:
        return not _holds_rows(fh, size)  # the state holds nothing: only an empty file fits
    if size < end or _read_at(fh, end - 1, end) != b"\n":
        return False
    header = _csv_line(state.get("header") or [])
    start = _read_at(fh, 0, len(BOM_BYTES) + len(header))
    if start != BOM_BYTES + header and not start.startswith(header):  # no BOM: an older pull
        return False
    if "tail" not in state:  # a state written before tails were kept: only an exact fit is safe
        return size == end
    return _digest(_read_at(fh, max(0, end - TAIL_BYTES), end)) == state["tail"]


class RawStore:
    def __init__(self, layout: Layout, columns: Sequence[str]):
        self.path = layout.raw_csv
        self.state_path = layout.pull_state
        self.canonical = list(columns)
        self.state = _empty_state()
        self._recover(self._load_state())

    # -- state ---------------------------------------------------------------------------------
    def _load_state(self) -> dict | None:
        if not self.state_path.exists():
            return None
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
            int(state.get("raw_bytes", 0))
            dict(state.get("sources", {}))
            return state
        except (OSError, ValueError, TypeError, AttributeError):
            raise HailongError(
                _("{state_path}: unreadable pull state; move it and raw.csv aside to pull "
                  "everything again", state_path=self.state_path)
            ) from None

    def _save_state(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def rows_from(self, source: str) -> int:
        """How many rows of `source` raw.csv already holds."""
        return int(self.state["sources"].get(source, {}).get("rows", 0))

    def sources(self) -> dict[str, int]:
        """Every source raw.csv holds rows from, with its row count."""
        return {name: self.rows_from(name) for name in self.state["sources"]}

    def rename_source(self, old: str, new: str) -> None:
        """Give a source's rows a new name (a source recorded before names said enough)."""
        if old in self.state["sources"] and new not in self.state["sources"]:
            self.state["sources"][new] = self.state["sources"].pop(old)
            self._save_state()

    def _recover(self, stored: dict | None) -> None:
        if not self.path.exists():
            # nothing is held, whatever the state says: every source is pulled from its start
            return
        stored = stored or _empty_state()
        pending = stored.get("pending")
        with open(self.path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if pending and _describes(fh, size, pending):
                adopted = "pending"  # a header rewrite replaced the file, then the pull died
            elif _describes(fh, size, stored):
                adopted = "committed"
            else:
                self._refuse()
        self.state = {k: v for k, v in stored.items() if k != "pending"}
        self.state.setdefault("sources", {})
        if adopted == "pending":
            self.state.update(pending)
        if pending:
            self._save_state()
        good = int(self.state.get("raw_bytes", 0))
        if size > good:
            # the tail of a block whose pull did not finish: drop it, it will be pulled again
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
                os.fsync(fh.fileno())
        if not good:
            self.state = {"raw_bytes": 0, "sources": {}}  # no rows held, so none are counted

    def _refuse(self) -> NoReturn:
        name = self.state_path.name
        if not self.state_path.exists():
            raise HailongError(
                _("{path}: holds rows but {name} beside it is missing, so the rows it holds are "
                  "unknown; put pull-state.json back, or move raw.csv aside (e.g. rename it "
                  "raw-old.csv) and run pull again to copy every sheet row afresh",
                  path=self.path, name=name)
            )
        raise HailongError(
            _("{path}: changed since the last pull (edited, re-saved or cut by hand?), so it no "
              "longer matches {name}; put back the raw.csv pull wrote, or move raw.csv aside "
              "(e.g. rename it raw-old.csv) and run pull again to copy every sheet row afresh",
              path=self.path, name=name)
        )

    # -- header --------------------------------------------------------------------------------
    @property
    def header(self) -> list[str]:
        return list(self.state.get("header") or [])

    def _ensure_header(self, columns: Iterable[str]) -> list[str]:
        header = self.header or list(self.canonical)
        extra = list(dict.fromkeys(c for c in columns if c and c not in header))
        if not extra and self.state.get("raw_bytes"):
            return header
        new_header = header + extra
        self._rewrite(new_header)
        return new_header

    def _rewrite(self, header: list[str]) -> None:
        """Write raw.csv again under a wider header (a new extra column appeared).

        New columns only ever go to the right, so each record keeps its bytes and gains empty
        cells: nothing is parsed again, so no record can be split or joined by the rewrite."""
        old = self.header
        records: list[bytes] = []
        if self.state.get("raw_bytes"):
            data = self.path.read_bytes()[: int(self.state["raw_bytes"])]
            if data.startswith(BOM_BYTES):
                data = data[len(BOM_BYTES):]
            body = data[len(_csv_line(old)):]
            records = list(csvtext.records(body))
        pad = b"," * (len(header) - len(old)) + b"\n"
        # Excel reads it as UTF-8; each old record keeps its bytes
        data = BOM_BYTES + _csv_line(header) + b"".join(r + pad for r in records)
        new = {"header": header, "raw_bytes": len(data), "tail": _digest(data[-TAIL_BYTES:])}
        # journal first: whichever file a crash leaves, the next pull can recognise it
        self.state["pending"] = new
        self._save_state()
        atomic_write_bytes(self.path, data)
        del self.state["pending"]
        self.state.update(new)
        self._save_state()

    # -- appending -----------------------------------------------------------------------------
    def append(self, source: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
        """Append one block of rows (cells in `columns` order) from `source`, all or nothing.

        Returns the number of rows appended.
        """
        header = self._ensure_header(columns)
        if not rows:
            return 0
        position = {c: i for i, c in enumerate(columns)}
        order = [position.get(c) for c in header]
        data = _encoded([csvtext.line(["" if i is None or i >= len(row) else row[i] for i in order])
                         for row in rows])
        with open(self.path, "a+b") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            end = fh.tell()
            tail = data[-TAIL_BYTES:] if len(data) >= TAIL_BYTES else _read_at(
                fh, max(0, end - TAIL_BYTES), end)
        self.state["raw_bytes"] = end
        self.state["tail"] = _digest(tail)
        entry = self.state["sources"].setdefault(source, {})
        entry["rows"] = self.rows_from(source) + len(rows)
        self._save_state()
        return len(rows)
