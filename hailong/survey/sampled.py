"""Who may answer a sample survey (access = "sample", contract v3 section 9), and replacements.

`hailong sample` draws the official list (data/sample.csv) and the reserve (data/reserve.csv),
in the order of their draw. An official member who refuses, cannot be reached or turns out not
to be eligible is replaced by the next reserve of the same unit and respondent type, in its
order; each replacement is a row of data/sample-log.csv:
`time,id,unit_code,respondent_type,reason,replacement` (replacement empty when the reserve of
that unit and type is used up). The active members are the official list, minus those
replaced, plus the reserves brought in (minus those replaced in turn); only their signed codes
(hailong.survey.tokens, the same tokens as roster links) count in score, and only they get a
letter (`links`) or a questionnaire (`paper`).

Everything here is read back from those three files, so each command (links, paper, score,
progress) sees the same active list, and a replacement is one atomic rewrite of the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey.tables import read_table

SAMPLE_FILE, RESERVE_FILE, LOG_FILE = "sample.csv", "reserve.csv", "sample-log.csv"
CODES_FILE = "sample-codes.csv"  # in the links folder, beside its key-check.txt
LOG_COLUMNS = ["time", "id", "unit_code", "respondent_type", "reason", "replacement"]
REASONS = ("refused", "unreachable", "ineligible")
COMPLETION_COLUMNS = ["unit_code", "respondent_type", "sampled", "answered", "replaced",
                      "percent"]


@dataclass(frozen=True)
class Drawn:
    id: str
    unit_code: str
    respondent_type: str
    order: int
    reserve: bool


@dataclass
class SampleState:
    official: list[Drawn]
    reserve: list[Drawn]
    log: list[dict[str, str]] = field(default_factory=list)

    @property
    def replaced(self) -> set[str]:
        return {row["id"] for row in self.log}

    @property
    def brought_in(self) -> set[str]:
        return {row["replacement"] for row in self.log if row["replacement"]}

    def active(self) -> list[Drawn]:
        """The members who may answer, official list first, then reserves in their order."""
        gone, came = self.replaced, self.brought_in
        return ([m for m in self.official if m.id not in gone]
                + [m for m in self.reserve if m.id in came and m.id not in gone])

    def active_units(self) -> dict[str, str]:
        """{member id: unit code} of the active members (what score's token check needs)."""
        return {m.id: m.unit_code for m in self.active()}

    def next_reserve(self, unit_code: str, rtype: str) -> Drawn | None:
        used = self.brought_in
        for m in self.reserve:  # reserve.csv is in order of use within each unit and type
            if m.unit_code == unit_code and m.respondent_type == rtype and m.id not in used:
                return m
        return None


def load_state(layout: Layout) -> SampleState:
    """The drawn lists and the replacement log of a sample survey; an error saying to run
    `hailong sample` when nothing was drawn yet."""
    path = layout.data_file(SAMPLE_FILE)
    if not path.exists():
        raise HailongError(_("{path}: no sample drawn yet; run `hailong sample SURVEY_DIR --seed "
                             "N` first", path=path))
    official = _drawn(path, reserve=False)
    reserve_path = layout.data_file(RESERVE_FILE)
    reserve = _drawn(reserve_path, reserve=True) if reserve_path.exists() else []
    reserve.sort(key=lambda m: (m.unit_code, m.respondent_type, m.order))
    log_path = layout.data_file(LOG_FILE)
    log = [dict(row.values) for row in read_table(log_path, LOG_COLUMNS)] \
        if log_path.exists() else []
    return SampleState(official, reserve, log)


def _drawn(path: Path, reserve: bool) -> list[Drawn]:
    table = read_table(path, ["id", "unit_code", "respondent_type", "order"])
    return [Drawn(row["id"], row["unit_code"], row["respondent_type"],
                  table.integer(row, "order"), reserve) for row in table]


def replace(layout: Layout, member_id: str, reason: str,
            now: dt.datetime | None = None) -> tuple[Drawn, Drawn | None]:
    """Replace an active member by the next reserve of their unit and type; log it.
    (the member replaced, the reserve brought in or None when none is left)."""
    if reason not in REASONS:
        raise HailongError(_("--reason {value}: use one of {reasons}", value=reason,
                             reasons=", ".join(REASONS)))
    state = load_state(layout)
    member = next((m for m in state.active() if m.id == member_id), None)
    if member is None:
        known = {m.id for m in state.official + state.reserve}
        why = (_("{id} was already replaced", id=member_id) if member_id in state.replaced
               else _("{id} is a reserve not brought in yet", id=member_id) if member_id in known
               else _("{id} is not in the sample", id=member_id))
        raise HailongError(_("--replace {id}: {why}; see {path}", id=member_id, why=why,
                             path=layout.data_file(SAMPLE_FILE)))
    came = state.next_reserve(member.unit_code, member.respondent_type)
    when = (now or dt.datetime.now(dt.UTC)).astimezone().isoformat(timespec="seconds")
    state.log.append({"time": when, "id": member.id, "unit_code": member.unit_code,
                      "respondent_type": member.respondent_type, "reason": reason,
                      "replacement": came.id if came else ""})
    atomic_write_csv(layout.data_file(LOG_FILE), pd.DataFrame(state.log, columns=LOG_COLUMNS))
    return member, came


def completion(state: SampleState, answered: set[str], units: list[str]) -> pd.DataFrame:
    """completion.csv of a sample survey: per unit (units.csv order) and respondent type, how
    many were sampled (the official list), how many active members answered, how many were
    replaced, and answered as a percent of sampled; then a `total` row."""
    from hailong.survey.roster import percent

    position = {code: i for i, code in enumerate(units)}
    counts: dict[tuple[str, str], list[int]] = {}
    for m in state.official:
        counts.setdefault((m.unit_code, m.respondent_type), [0, 0, 0])[0] += 1
    for m in state.active():
        if m.id in answered:
            counts.setdefault((m.unit_code, m.respondent_type), [0, 0, 0])[1] += 1
    for row in state.log:
        counts.setdefault((row["unit_code"], row["respondent_type"]), [0, 0, 0])[2] += 1
    keys = sorted(counts, key=lambda k: (position.get(k[0], len(position)), k[0], k[1]))
    rows = [(u, t, *counts[(u, t)]) for u, t in keys]
    total = [sum(r[i] for r in rows) for i in (2, 3, 4)]
    rows.append(("total", "", *total))
    frame = pd.DataFrame(rows, columns=COMPLETION_COLUMNS[:5])
    frame["percent"] = [percent(a, s) for a, s in zip(frame["answered"], frame["sampled"],
                                                      strict=True)]
    return frame
