"""Earlier results of a unit: earlier periods of the same series, and earlier weekly runs.

Earlier periods are the other survey folders beside this one whose survey.toml has the same
`series` (e.g. the cooperative survey of 2021, 2022, 2023), scored into the same output folder.
Earlier weekly runs are the dated copies of ranking.csv that `weekly` keeps under
`<out>/<id>/history/<YYYY-MM-DD>/` (see `snapshot`).

A change between two results is called significant only when their 95% intervals do not
overlap, a deliberately cautious rule: overlapping intervals are marked "không có ý nghĩa
thống kê".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hailong import cells
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.i18n import _
from hailong.layout import Layout
from hailong.publish.results import block_answers, question_cells, read_ranking, unit_results
from hailong.survey.load import Survey, load_survey

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BLOCK_ANSWERS = "block_answers.csv"  # beside a weekly copy: the answers behind each block cell


def answers_by_block(survey: Survey, responses_path: Path) -> dict[tuple[str, str], int] | None:
    """(unit, block) -> answers behind the block cell, from a scored responses.csv; None if
    there is none. The withholding rules need these counts to decide what an index gives away."""
    from hailong.score.scoring import question_table

    if not responses_path.exists():
        return None
    try:
        responses = cells.read_csv(responses_path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(_("{responses_path}: cannot read it ({exc}); run `hailong score` again",
                             responses_path=responses_path, exc=exc)) from None
    if responses.empty:
        return {}
    return block_answers(survey, question_cells(survey, question_table(responses, survey)))


def snapshot(survey: Survey, out: Path, day: dt.date | None = None) -> Path | None:
    """Keep a copy of data/ranking.csv as history/<day>/ranking.csv; None if not scored yet."""
    layout = Layout(Path(out), survey.id)
    source = layout.data_file("ranking.csv")
    if not source.exists():
        return None
    day = day or dt.datetime.now(survey.tz).date()
    target = layout.history / day.isoformat() / "ranking.csv"
    counts = answers_by_block(survey, layout.data_file("responses.csv"))
    if counts is not None:  # counts only: what the copy's published figures may show
        lines = ["unit_code,block_id,answers"] + [f"{u},{b},{n}" for (u, b), n in sorted(counts.items())]
        atomic_write_bytes(target.with_name(BLOCK_ANSWERS),
                           (cells.BOM + "\n".join(lines) + "\n").encode("utf-8"))
    atomic_write_bytes(target, source.read_bytes())
    return target


def _read_block_answers(path: Path) -> dict[tuple[str, str], int] | None:
    if not path.exists():
        return None
    try:
        table = cells.read_csv(path)
        return {(r.unit_code, r.block_id): int(r.answers) for r in table.itertuples(index=False)}
    except (pd.errors.ParserError, UnicodeDecodeError, AttributeError, ValueError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); delete it or run `hailong weekly` "
                             "again",
                             path=path, exc=exc)) from None


@dataclass(frozen=True)
class Result:
    """One unit's published figures in one period (None: not ranked or not enough answers)."""

    index: float | None
    low: float | None
    high: float | None
    rank: int | None
    band: str
    n: int


@dataclass
class Period:
    key: str  # "2022" or "2024-06-05"
    label: str  # shown on the pages
    kind: str  # "series" (an earlier survey) or "weekly" (an earlier run of this one)
    results: dict[str, Result]  # by unit code, upper-cased

    @property
    def heading(self) -> str:
        """How a sentence names it: 'năm 2023', 'ngày 12/06/2024'."""
        return f"ngày {self.label}" if self.kind == "weekly" else self.label[:1].lower() + self.label[1:]

    def get(self, code: str) -> Result | None:
        return self.results.get(code.upper())


@dataclass(frozen=True)
class Change:
    delta: float
    significant: bool

    @property
    def text(self) -> str:
        sign = "+" if self.delta > 0 else "−" if self.delta < 0 else "±"
        return f"{sign}{abs(self.delta):.2f}".replace(".", ",")


def change(current: Result | None, earlier: Result | None) -> Change | None:
    """The change of a unit's index; significant only when the two intervals do not overlap."""
    if current is None or earlier is None:
        return None
    if None in (current.index, current.low, current.high, earlier.index, earlier.low, earlier.high):
        return None
    overlap = current.low <= earlier.high and earlier.low <= current.high
    return Change(round(current.index - earlier.index, 2), not overlap)


def results_of(rows: list[dict], min_cell: int, survey: Survey | None = None,
               answers: dict[tuple[str, str], int] | None = None) -> dict[str, Result]:
    """Published figures per unit: only ranked units with at least min_cell responses count,
    and, given the survey and the answers behind each block, only what the results pages of
    that period would publish (an index resting on one withheld block is withheld, and the
    ranks close up behind a unit that leaves the ranking)."""
    if survey is not None and answers is not None:
        return {u.code.upper(): Result(index=u.index if u.ranked else None,
                                       low=u.low if u.ranked else None,
                                       high=u.high if u.ranked else None,
                                       rank=u.rank, band=u.band, n=u.n)
                for u in unit_results(survey, rows, answers)}
    out = {}
    for row in rows:
        shown = row["ranked"] and row["n"] >= min_cell and row["index"] is not None
        out[row["code"].upper()] = Result(
            index=row["index"] if shown else None, low=row["low"] if shown else None,
            high=row["high"] if shown else None, rank=row["rank"] if shown else None,
            band=row["band"], n=row["n"],
        )
    return out


def series_periods(survey: Survey, out: Path) -> list[Period]:
    """Earlier surveys of the same series that have been scored, oldest first."""
    if not survey.series:
        return []
    found = []
    for folder in sorted(p for p in survey.path.parent.iterdir() if p.is_dir()):
        if folder.resolve() == survey.path.resolve() or not (folder / "survey.toml").exists():
            continue
        try:
            other = load_survey(folder)
        except HailongError:
            continue  # a broken neighbour is that survey's problem, not this page's
        if other.series != survey.series or other.id == survey.id or other.start >= survey.start:
            continue
        path = Layout(Path(out), other.id).data_file("ranking.csv")
        if not path.exists():
            continue
        label = str(other.year) if other.year else other.start.isoformat()
        answers = answers_by_block(other, Layout(Path(out), other.id).data_file("responses.csv"))
        found.append((other.start, Period(label, f"Năm {label}" if other.year else label, "series",
                                          results_of(read_ranking(path), other.scoring.min_cell,
                                                     other, answers))))
    return [p for _, p in sorted(found, key=lambda x: x[0])]


def weekly_periods(survey: Survey, out: Path) -> list[Period]:
    """Earlier weekly runs of this survey, oldest first; a copy identical to the current
    ranking.csv is the current result itself and is left out."""
    layout = Layout(Path(out), survey.id)
    current = layout.data_file("ranking.csv")
    current_bytes = current.read_bytes() if current.exists() else b""
    if not layout.history.exists():
        return []
    periods = []
    for folder in sorted(layout.history.iterdir()):
        path = folder / "ranking.csv"
        if not DATE_DIR.match(folder.name) or not path.exists():
            continue
        if path.read_bytes() == current_bytes:
            continue
        day = dt.date.fromisoformat(folder.name)
        answers = _read_block_answers(folder / BLOCK_ANSWERS)
        periods.append(Period(folder.name, day.strftime("%d/%m/%Y"), "weekly",
                              results_of(read_ranking(path), survey.scoring.min_cell, survey, answers)))
    return periods
