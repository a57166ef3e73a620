"""run.json: what one `score` run wrote (contract v3, section 4), so publish renders one run's set.

A run removes the old run.json before it writes anything (`forget`) and writes the new one last,
after every data file is in place (`write_run`): a run killed half way leaves data/ without a
run.json, and publish refuses it, instead of vouching for files of two runs. The file holds the
run's random id, its time, the survey id, the survey's design effect D and number of scale
questions Q (section 5, step 5), and for every data file the run wrote its record count (CSV
records, not lines: a cell may hold a line break) and SHA-256.

The streamed files (responses, quarantine, duplicates) are hashed while they are written
(`Hasher`); the small ones from their bytes in memory; participation.csv and completion.csv,
written by another module, are read back once (`csvtext.digest`). `vouch` writes a run.json for
the data files that are there, for tests and fixtures that write data files by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from hailong.fsutil import atomic_write_bytes
from hailong.layout import Layout
from reference_engine.csvtext import digest

RUN_FILE = "run.json"
# every data file a score run may write, in the order run.json lists them
DATA_FILES = ("responses.csv", "quarantine.csv", "duplicates.csv", "ranking.csv",
              "questions.csv", "block_answers.csv", "respondent_types.csv", "intervals.csv",
              "signals.csv",
              "participation.csv", "completion.csv")


@dataclass(frozen=True)
class Entry:
    records: int
    sha256: str


class Hasher:
    """SHA-256 and record count of a file as its bytes go by."""

    def __init__(self):
        self.sha = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self.sha.update(data)

    def entry(self, records: int) -> Entry:
        return Entry(records, self.sha.hexdigest())


def entry_of_bytes(data: bytes, records: int) -> Entry:
    return Entry(records, hashlib.sha256(data).hexdigest())


def entry_of_file(path: Path) -> Entry:
    return Entry(*digest(path))


def forget(layout: Layout) -> None:
    """Remove run.json before a run changes any data file."""
    try:
        os.unlink(layout.data_file(RUN_FILE))
    except FileNotFoundError:
        pass


def identity(path: Path) -> tuple[int, int, int] | None:
    """What tells whether a file was replaced since (every write here is a rename)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def write_run(layout: Layout, survey, design_effect: float, files: dict[str, Entry],
              run_id: str | None = None) -> Path:
    """Write run.json (atomically: a reader sees no run.json or the whole one)."""
    doc = {
        "id": run_id or uuid.uuid4().hex,
        "time": dt.datetime.now(survey.tz).isoformat(timespec="seconds"),
        "survey": survey.id,
        "design_effect": float(design_effect),
        "scale_questions": len(survey.scale_questions),
        "files": {name: {"records": files[name].records, "sha256": files[name].sha256}
                  for name in sorted(files, key=_order)},
    }
    path = layout.data_file(RUN_FILE)
    atomic_write_bytes(path, (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def vouch(survey, out: Path, design_effect: float | None = None) -> Path:
    """A run.json for the data files now in `<out>/<id>/data/` (tests, hand-made fixtures).
    D: `design_effect`, else the one of the run.json there, else 1."""
    layout = Layout(Path(out), survey.id)
    if design_effect is None:
        try:
            design_effect = float(json.loads(layout.data_file(RUN_FILE).read_text("utf-8"))
                                  ["design_effect"])
        except (OSError, ValueError, KeyError, TypeError):
            design_effect = 1.0
    files = {name: entry_of_file(layout.data_file(name)) for name in DATA_FILES
             if layout.data_file(name).exists()}
    return write_run(layout, survey, design_effect, files)


def _order(name: str) -> tuple[int, str]:
    return (DATA_FILES.index(name) if name in DATA_FILES else len(DATA_FILES), name)
