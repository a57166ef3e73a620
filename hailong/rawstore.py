"""data/raw.csv: every row ever pulled from the shared sheet(s), each exactly once.

Pulls append whole blocks. The state file records, per source, how many of its rows raw.csv
holds and the size raw.csv had after the last complete block. A pull that dies mid-block leaves
bytes past that size; the next pull cuts them off before appending, so no row is lost or doubled.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text
from hailong.layout import Layout


class RawStore:
    def __init__(self, layout: Layout, columns: Sequence[str]):
        self.path = layout.raw_csv
        self.state_path = layout.pull_state
        self.canonical = list(columns)
        self.state = self._load_state()
        self._recover()

    # -- state ---------------------------------------------------------------------------------
    def _load_state(self) -> dict:
        if not self.state_path.exists():
            return {"raw_bytes": 0, "sources": {}}
        try:
            return json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError):
            raise HailongError(
                f"{self.state_path}: unreadable pull state; delete it and raw.csv to pull everything again"
            ) from None

    def _save_state(self) -> None:
        atomic_write_text(self.state_path, json.dumps(self.state, indent=1, sort_keys=True))

    def rows_from(self, source: str) -> int:
        """How many rows of `source` raw.csv already holds."""
        return int(self.state["sources"].get(source, {}).get("rows", 0))

    def _recover(self) -> None:
        if not self.path.exists():
            self.state = {"raw_bytes": 0, "sources": {}}
            return
        size = self.path.stat().st_size
        good = int(self.state.get("raw_bytes", 0))
        if size > good:
            # the tail of a block whose pull did not finish: drop it, it will be pulled again
            with open(self.path, "r+b") as fh:
                fh.truncate(good)
        elif size < good:
            raise HailongError(
                f"{self.path}: shorter than the pull state says; delete data/pull-state.json and "
                "raw.csv to pull everything again"
            )

    # -- header --------------------------------------------------------------------------------
    @property
    def header(self) -> list[str]:
        return list(self.state.get("header") or [])

    def _ensure_header(self, columns: Iterable[str]) -> list[str]:
        header = self.header or list(self.canonical)
        extra = [c for c in columns if c and c not in header]
        if not extra and self.path.exists() and self.state.get("raw_bytes"):
            return header
        new_header = header + extra
        self._rewrite(new_header)
        return new_header

    def _rewrite(self, header: list[str]) -> None:
        """Write raw.csv again under a wider header (a new extra column appeared)."""
        old_rows: list[dict[str, str]] = []
        if self.path.exists() and self.state.get("raw_bytes"):
            with open(self.path, newline="", encoding="utf-8") as fh:
                old_rows = list(csv.DictReader(fh))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(old_rows)
        data = buf.getvalue()
        atomic_write_text(self.path, data)
        self.state["header"] = header
        self.state["raw_bytes"] = len(data.encode("utf-8"))
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
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for row in rows:
            writer.writerow(["" if i is None or i >= len(row) else row[i] for i in order])
        data = buf.getvalue().encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        self.state["raw_bytes"] = self.path.stat().st_size
        entry = self.state["sources"].setdefault(source, {})
        entry["rows"] = self.rows_from(source) + len(rows)
        self._save_state()
        return len(rows)
