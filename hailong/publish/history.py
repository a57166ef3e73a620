"""Earlier results of a unit: earlier periods of the same series, and earlier weekly runs.

Earlier periods are the other survey folders beside this one whose survey.toml has the same
`series` (e.g. the cooperative survey of 2021, 2022, 2023), scored into the same output folder.
Earlier weekly runs are the dated copies of ranking.csv that `weekly` keeps under
`<out>/<id>/history/<YYYY-MM-DD>/` (see `snapshot`).

A change between two results is clear by the contract's step 9 (hailong.stats): the gap is
more than 1.96 × √(se_now² + se_before²), se = interval width / 3.92. Overlapping intervals
alone are not the test: two intervals can overlap and the change still be clear. The pages say
"thay đổi rõ rệt" or "chưa đủ căn cứ để kết luận thay đổi", never "significant".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.layout import Layout
from hailong.publish.datafiles import BLOCK_ANSWERS, QUESTIONS, read_block_answers, read_questions
from hailong.publish.results import published, read_ranking, unit_results
from hailong.stats import significant_change
from hailong.survey.load import Survey, load_survey

DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def snapshot(survey: Survey, out: Path, day: dt.date | None = None) -> Path | None:
    """Keep a copy of data/ranking.csv as history/<day>/ranking.csv; None if not scored yet."""
    layout = Layout(Path(out), survey.id)
    source = layout.data_file("ranking.csv")
    if not source.exists():
        return None
    day = day or dt.datetime.now(survey.tz).date()
    target = layout.history / day.isoformat() / "ranking.csv"
    # counts only: what the copy's published figures may show, decided as the pages decide
    for name in (BLOCK_ANSWERS, QUESTIONS):
        counts = layout.data_file(name)
        if counts.exists():
            atomic_write_bytes(target.with_name(name), counts.read_bytes())
    atomic_write_bytes(target, source.read_bytes())
    return target


@dataclass(frozen=True)
class Result:
    """One unit's published figures in one period (None: not ranked or not enough answers)."""

    index: float | None
    low: float | None
    high: float | None
    rank: int | None
    band: str
    n: int
    rank_low: int | None = None
    rank_high: int | None = None


@dataclass
class Period:
    key: str  # "2022" or "2024-06-05"
    label: str  # shown on the pages
    kind: str  # "series" (an earlier survey) or "weekly" (an earlier run of this one)
    results: dict[str, Result]  # by unit code, upper-cased
    date: str = ""  # YYYY-MM-DD: the release's day (an earlier period: the end of its window)

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
    """The change of a unit's index; clear (`significant`) by step 9 of the contract."""
    if current is None or earlier is None:
        return None
    if None in (current.index, current.low, current.high, earlier.index, earlier.low, earlier.high):
        return None
    clear = significant_change(current.index, current.low, current.high,
                               earlier.index, earlier.low, earlier.high)
    return Change(round(current.index - earlier.index, 2), clear)


def results_of(rows: list[dict], min_cell: int, survey: Survey | None = None,
               answers: dict[tuple[str, str], int] | None = None,
               questions: Path | None = None) -> dict[str, Result]:
    """Published figures per unit: only ranked units with at least min_cell responses count,
    and, given the survey and that period's questions.csv, exactly what the results pages of
    that period publish (withhold.plan: no withheld figure can be worked back from the others
    of the period); with only the answers behind each block, the older rule (an index resting
    on one withheld block is withheld). Either way the ranks close up behind a unit that
    leaves the ranking."""
    units = None
    if survey is not None and questions is not None and questions.exists():
        units, _cells = published(survey, rows, read_questions(questions))
    elif survey is not None and answers is not None:
        units = unit_results(survey, rows, answers)
    if units is not None:
        return {u.code.upper(): Result(index=u.index if u.ranked else None,
                                       low=u.low if u.ranked else None,
                                       high=u.high if u.ranked else None,
                                       rank=u.rank, band=u.band, n=u.n,
                                       rank_low=u.rank_low, rank_high=u.rank_high)
                for u in units}
    out = {}
    for row in rows:
        shown = row["ranked"] and row["n"] >= min_cell and row["index"] is not None
        out[row["code"].upper()] = Result(
            index=row["index"] if shown else None, low=row["low"] if shown else None,
            high=row["high"] if shown else None, rank=row["rank"] if shown else None,
            band=row["band"], n=row["n"],
            rank_low=row.get("rank_low") if shown else None,
            rank_high=row.get("rank_high") if shown else None,
        )
    return out


def series_periods(survey: Survey, out: Path,
                   published: Callable[[Survey], dict[str, Result] | None] | None = None
                   ) -> list[Period]:
    """Earlier surveys of the same series that have been scored, oldest first. `published`
    gives an earlier survey's last release as it was published (None: never published); its
    figures are used where there is one, so that a final release whose units were held shows
    here as it was shown then, never as its data files would show it now."""
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
        shown = published(other) if published is not None else None
        if shown is None:
            data = Layout(Path(out), other.id)
            answers = read_block_answers(data.data_file(BLOCK_ANSWERS))
            shown = results_of(read_ranking(path), other.scoring.min_cell, other, answers,
                               data.data_file(QUESTIONS))
        found.append((other.start, Period(label, f"Năm {label}" if other.year else label, "series",
                                          shown, other.end.isoformat())))
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
        answers = read_block_answers(folder / BLOCK_ANSWERS)
        periods.append(Period(folder.name, day.strftime("%d/%m/%Y"), "weekly",
                              results_of(read_ranking(path), survey.scoring.min_cell, survey,
                                         answers, folder / QUESTIONS), folder.name))
    return periods
