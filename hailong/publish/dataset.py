"""The check that data/ holds one score run's set, before anything is published (contract v3, §4).

`verify(survey, layout)` reads data/run.json (written last by `hailong score`), and refuses with
one line, before publish or weekly's history snapshot change anything, when:
- run.json is missing or unreadable (a run killed half way, or a score before v3), or is another
  survey's, or the survey's scale questions changed since;
- a file it lists is missing, or its record count or SHA-256 differs (damaged, cut short, or
  copied from another run); a data file publish reads lies there without being listed;
- figures are out of range: index, ci_low, ci_high, block and question indices outside 0–100,
  ci_low ≤ index ≤ ci_high broken, counts below zero, a rank outside its range;
- a unit appears twice, ranking.csv's units differ from units.csv's, or ranking.csv and
  questions.csv disagree (a unit or question in one and not in the other, more answers to a
  question than the unit's n, a question id that is not a scale question of the survey).
Each refusal names the file, and where it can, the line (as an editor counts lines: a cell
may hold a line break) and column. It returns the run (`RunInfo`): its D goes on the method page.

Reads the files only; never imports score (publish renders from the data files alone).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hailong import csvtext
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout
from hailong.publish import datafiles

RUN_FILE = "run.json"
RANKING = "ranking.csv"
INTERVALS = "intervals.csv"
INTERVAL_COLUMNS = ["unit_code", "k", "d", "deff", "effective_n"]
# the data files publish reads: one lying in data/ without run.json listing it is another run's
READ_BY_PUBLISH = (RANKING, datafiles.QUESTIONS, datafiles.BLOCK_ANSWERS,
                   datafiles.RESPONDENT_TYPES, INTERVALS, "participation.csv", "completion.csv",
                   "signals.csv")
RANKING_COLUMNS = ["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high", "band",
                   "ranked"]  # and rank_low, rank_high where the file has them
PARTICIPATION_COUNTS = ("responses", "visitors", "min_expected", "max_expected",
                        "tickets_issued", "tickets_used", "online", "paper", "assisted")
COMPLETION_COUNTS = ("eligible", "answered", "sampled", "replaced")


@dataclass(frozen=True)
class FileEntry:
    records: int
    sha256: str


@dataclass(frozen=True)
class RunInfo:
    """One score run, as its run.json says: `files` maps a data file's name to its entry."""
    id: str
    time: str
    design_effect: float
    scale_questions: int
    files: Mapping[str, FileEntry] = field(default_factory=dict)


def verify(survey, layout: Layout) -> RunInfo:
    """The run whose complete, in-range set data/ holds; HailongError (one line) otherwise."""
    run = read_run(survey, layout)
    _check_files(survey, layout, run)
    _Checks(survey, layout, run).all()
    return run


def read_run(survey, layout: Layout) -> RunInfo:
    path = layout.data_file(RUN_FILE)
    again = _again(survey)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HailongError(_("{path}: not found, so nothing vouches that the data files are one "
                             "score run's (a run stopped half way, or scored by an older "
                             "version); {again}", path=path, again=again)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); {again}", path=path, exc=exc,
                             again=again)) from None
    try:
        files = {str(name): FileEntry(_count(e["records"]), _hex(e["sha256"]))
                 for name, e in doc["files"].items()}
        run = RunInfo(id=str(doc["id"]), time=str(doc["time"]),
                      design_effect=_positive(doc["design_effect"]),
                      scale_questions=_count(doc["scale_questions"]), files=files)
        owner = str(doc["survey"])
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise HailongError(_("{path}: not a run file of hailong score ({exc}); {again}",
                             path=path, exc=exc, again=again)) from None
    if owner != survey.id:
        raise HailongError(_("{path}: written for survey {value}, not {survey}; {again}",
                             path=path, value=owner, survey=survey.id, again=again))
    if run.scale_questions != len(survey.scale_questions):
        raise HailongError(_("{path}: the run scored {value} scale questions and survey.toml now "
                             "has {value2}; {again}", path=path, value=run.scale_questions,
                             value2=len(survey.scale_questions), again=again))
    if RANKING not in run.files:
        raise HailongError(_("{path}: lists no {name}; {again}", path=path, name=RANKING,
                             again=again))
    return run


def _check_files(survey, layout: Layout, run: RunInfo) -> None:
    """Every listed file there with its records and SHA-256; no unlisted file publish reads.
    The files are hashed two at a time (hashlib and numpy let go of the GIL): at ten million
    responses they are 1.7 GB."""
    again = _again(survey)
    for name in READ_BY_PUBLISH:
        if name not in run.files and layout.data_file(name).exists():
            raise HailongError(_("{path}: run {run} of run.json did not write it: it is from "
                                 "another run; {again}", path=layout.data_file(name),
                                 run=run.id, again=again))
    present = []
    for name in run.files:
        if Path(name).name != name or name == RUN_FILE:
            raise HailongError(_("{path}: lists '{name}', which is not a data file; {again}",
                                 path=layout.data_file(RUN_FILE), name=name, again=again))
        if layout.data_file(name).is_file():
            present.append(name)
        elif name in READ_BY_PUBLISH:
            raise HailongError(_("{path}: missing, though run {run} wrote it; {again}",
                                 path=layout.data_file(name), run=run.id, again=again))
        # responses.csv and the rejected rows may have been taken away (they hold personal
        # data; publish never reads them): what is there must still be this run's
    names = sorted(present, key=lambda n: -layout.data_file(n).stat().st_size)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify") as pool:
        found = dict(zip(names, pool.map(lambda n: csvtext.digest(layout.data_file(n)), names),
                         strict=True))
    for name in sorted(present):
        records, sha = found[name]
        want = run.files[name]
        if records != want.records:
            raise HailongError(_("{path}: {value} records where run {run} wrote {value2}: damaged "
                                 "(cut short?) or from another run; {again}",
                                 path=layout.data_file(name), value=records, value2=want.records,
                                 run=run.id, again=again))
        if sha != want.sha256:
            raise HailongError(_("{path}: its content is not what run {run} wrote (SHA-256 "
                                 "differs): damaged or from another run; {again}",
                                 path=layout.data_file(name), run=run.id, again=again))


def _again(survey) -> str:
    return _("run `hailong score {path}` again", path=survey.path)


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def _positive(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
            math.isfinite(value) and value > 0):
        raise ValueError(f"{value!r} is not a design effect")
    return float(value)


def _hex(value) -> str:
    if not isinstance(value, str) or len(value) != 64 or any(c not in "0123456789abcdef"
                                                               for c in value):
        raise ValueError(f"{value!r} is not a SHA-256")
    return value


def _member(values: pd.Series, allowed) -> np.ndarray:
    """values.isin(allowed), looked up once per distinct value."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.array([u in allowed for u in uniques], dtype=bool)[codes]


class _File:
    """One data file as text cells, and its errors worded with the line and column."""

    def __init__(self, survey, layout: Layout, name: str, columns: list[str]):
        self.survey, self.name = survey, name
        self.path = layout.data_file(name)
        self.frame = datafiles.read_csv(self.path, columns, required=True)

    def fail(self, record: int, column: str, problem: str) -> HailongError:
        starts = csvtext.record_lines(self.path.read_bytes())
        line = starts[record + 1] if record + 1 < len(starts) else record + 2
        return HailongError(_("{path} line {line}, column {column}: {problem}; {again}",
                              path=self.path, line=line, column=column, problem=problem,
                              again=_again(self.survey)))

    def text(self, column: str) -> pd.Series:
        return self.frame[column].astype(str).str.strip()

    def numbers(self, column: str, *, whole: bool = False, low: float | None = 0,
                high: float | None = None, empty: bool = True) -> np.ndarray:
        """The column as floats (NaN where empty), each checked; the first bad cell refused.
        Parsed and checked once per distinct text: a count column of a million rows holds a
        few hundred."""
        codes, uniques = pd.factorize(self.frame[column], use_na_sentinel=False)
        text = pd.Index(uniques, dtype=object).astype(str).str.strip()
        blank = np.asarray(text == "")
        values = pd.to_numeric(pd.Series(text).where(~blank, None),
                               errors="coerce").to_numpy(dtype=float)
        checks = [
            ((np.isnan(values) & ~blank) | np.isinf(values),
             lambda v: _("'{value}' is not a number", value=v)),
            (blank & (not empty), lambda v: _("the cell is empty")),
        ]
        if whole:
            checks.append((~np.isnan(values) & (np.nan_to_num(values) % 1 != 0),
                           lambda v: _("'{value}' is not a whole number", value=v)))
        if low is not None and high is not None:
            checks.append(((values < low) | (values > high),
                           lambda v: _("{value} is outside {low}–{high}", value=v,
                                       low=f"{low:g}", high=f"{high:g}")))
        elif low is not None:
            checks.append((values < low, lambda v: _("{value} is below {low}", value=v,
                                                       low=f"{low:g}")))
        first = None
        for bad, words in checks:
            with np.errstate(invalid="ignore"):
                if not np.any(bad):
                    continue
                hits = np.flatnonzero(np.asarray(bad)[codes])
            if first is None or hits[0] < first[0]:
                first = (int(hits[0]), words)
        if first is not None:
            i, words = first
            raise self.fail(i, column, words(self.frame[column].iloc[i]))
        return values[codes]


class _Checks:
    """The figures of the set, in range and agreeing between the files."""

    def __init__(self, survey, layout: Layout, run: RunInfo):
        self.survey, self.layout, self.run = survey, layout, run

    def all(self) -> None:
        n = self.ranking()
        files = self.run.files
        if datafiles.QUESTIONS in files:
            self.questions(n)
        if datafiles.BLOCK_ANSWERS in files:
            self.counts(datafiles.BLOCK_ANSWERS, ["unit_code", "block_id", "answers"], "answers", n,
                        each=True)
        if datafiles.RESPONDENT_TYPES in files:
            self.counts(datafiles.RESPONDENT_TYPES, ["unit_code", "respondent_type", "responses"],
                        "responses", n, each=False)
        if INTERVALS in files:
            self.counts(INTERVALS, INTERVAL_COLUMNS, "k", n, each=True)
            self.plain(INTERVALS, INTERVAL_COLUMNS, (), (), ("d", "deff", "effective_n"))
        if "participation.csv" in files:
            self.plain("participation.csv", ["unit_code"], PARTICIPATION_COUNTS)
        if "completion.csv" in files:
            self.plain("completion.csv", ["unit_code"], COMPLETION_COUNTS, ("percent",))
        if "signals.csv" in files:
            self.plain("signals.csv", ["unit_code", "signal", "count"], ("count",))

    def ranking(self) -> dict[str, int]:
        """Checks ranking.csv; returns unit code -> n."""
        f = _File(self.survey, self.layout, RANKING, RANKING_COLUMNS)
        codes = f.frame["unit_code"].astype(str)
        upper = codes.str.upper()
        twice = upper.duplicated(keep="first").to_numpy()
        if twice.any():
            i = int(np.flatnonzero(twice)[0])
            raise f.fail(i, "unit_code", _("unit {unit} appears twice", unit=codes.iloc[i]))
        known = {c.upper() for c in self.survey.unit_codes}
        stray = ~_member(upper, known)
        if stray.any():
            i = int(np.flatnonzero(stray)[0])
            raise f.fail(i, "unit_code", _("unit {unit} is not in units.csv", unit=codes.iloc[i]))
        if len(codes) != len(known):
            missing = sorted(known - set(upper))
            first = next(c for c in self.survey.unit_codes if c.upper() == missing[0])
            raise HailongError(_("{path}: {value} of the {value2} units of units.csv are missing, "
                                 "{unit} the first; {again}", path=f.path,
                                 value=len(missing), value2=len(known), unit=first,
                                 again=_again(self.survey)))
        n = f.numbers("n", whole=True, empty=False)
        index = f.numbers("index", high=100)
        low = f.numbers("ci_low", high=100)
        high = f.numbers("ci_high", high=100)
        for column in f.frame.columns:
            if column.startswith("block:"):
                f.numbers(column, high=100)
        with np.errstate(invalid="ignore"):
            for bad, column, words in (
                (low > index, "ci_low", _("the interval's low end is above the index")),
                (high < index, "ci_high", _("the interval's high end is below the index")),
                (np.isnan(index) & ~(np.isnan(low) & np.isnan(high)), "index",
                 _("an interval without an index")),
            ):
                if bad.any():
                    raise f.fail(int(np.flatnonzero(bad)[0]), column, words)
        ranked = f.text("ranked").str.lower()
        wrong = ~_member(ranked, {"true", "false"})
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise f.fail(i, "ranked", _("'{value}' should be true or false",
                                        value=f.frame["ranked"].iloc[i]))
        count = int((ranked == "true").sum())
        ranks = {c: f.numbers(c, whole=True, low=1, high=max(count, 1))
                 for c in ("rank", "rank_low", "rank_high") if c in f.frame.columns}
        with np.errstate(invalid="ignore"):
            for bad, column, words in (
                (ranks["rank_low"] > ranks["rank"], "rank_low",
                 _("the rank range starts below the rank")),
                (ranks["rank_high"] < ranks["rank"], "rank_high",
                 _("the rank range ends above the rank")),
            ) if len(ranks) == 3 else ():
                if bad.any():
                    raise f.fail(int(np.flatnonzero(bad)[0]), column, words)
        return dict(zip(upper, n.astype(np.int64).tolist(), strict=True))

    def questions(self, n: dict[str, int]) -> None:
        f = _File(self.survey, self.layout, datafiles.QUESTIONS, datafiles.QUESTION_COLUMNS)
        codes = f.frame["unit_code"].astype(str)
        upper = codes.str.upper()
        questions = f.frame["question_id"].astype(str)
        scale = [q.id for q in self.survey.scale_questions]
        for bad, column, words in (
            (~_member(upper, n), "unit_code",
             lambda i: _("unit {unit} is not in ranking.csv", unit=codes.iloc[i])),
            (~_member(questions, set(scale)), "question_id",
             lambda i: _("'{value}' is not a scale question of the survey",
                         value=questions.iloc[i])),
            (pd.DataFrame({"u": upper, "q": questions}).duplicated().to_numpy(), "question_id",
             lambda i: _("unit {unit}, question {value} appears twice", unit=codes.iloc[i],
                         value=questions.iloc[i])),
        ):
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise f.fail(i, column, words(i))
        answers = f.numbers("answers", whole=True, empty=False)
        satisfied = f.numbers("satisfied", whole=True, empty=False)
        f.numbers("index", high=100)
        units_n = upper.map(n).to_numpy(dtype=float)
        for bad, column, words in (
            (satisfied > answers, "satisfied",
             lambda i: _("{value} satisfied of {value2} answers", value=int(satisfied[i]),
                         value2=int(answers[i]))),
            (answers > units_n, "answers",
             lambda i: _("{value} answers, more than the {value2} responses of unit {unit} in "
                         "ranking.csv", value=int(answers[i]), value2=int(units_n[i]),
                         unit=codes.iloc[i])),
        ):
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise f.fail(i, column, words(i))
        if scale and len(f.frame) != len(n) * len(scale):
            have = set(zip(upper, questions, strict=True))
            for code in self.survey.unit_codes:
                for q in scale:
                    if (code.upper(), q) not in have:
                        raise HailongError(_(
                            "{path}: no row for unit {unit} and question {value}, which "
                            "ranking.csv ranks: the two files are not of one run; {again}",
                            path=f.path, unit=code, value=q, again=_again(self.survey)))

    def counts(self, name: str, columns: list[str], column: str, n: dict[str, int],
               each: bool) -> None:
        """A counts-only file: known units, counts ≥ 0 and, per row (`each`) or per unit, at
        most the unit's n."""
        f = _File(self.survey, self.layout, name, columns)
        codes = f.frame["unit_code"].astype(str)
        upper = codes.str.upper()
        stray = ~_member(upper, n)
        if stray.any():
            i = int(np.flatnonzero(stray)[0])
            raise f.fail(i, "unit_code", _("unit {unit} is not in ranking.csv", unit=codes.iloc[i]))
        values = f.numbers(column, whole=True, empty=False)
        limit = upper.map(n).to_numpy(dtype=float)
        total = values if each else pd.Series(values).groupby(upper.to_numpy()).cumsum().to_numpy()
        over = total > limit
        if over.any():
            i = int(np.flatnonzero(over)[0])
            raise f.fail(i, column, _("{value} answers, more than the {value2} responses of unit "
                                      "{unit} in ranking.csv", value=int(total[i]),
                                      value2=int(limit[i]), unit=codes.iloc[i]))

    def plain(self, name: str, columns: list[str], counts=(), percents=(), positive=()) -> None:
        """Whole counts ≥ 0, percents in 0–100, other figures ≥ 0 (empty cells allowed)."""
        f = _File(self.survey, self.layout, name, columns)
        for column in counts:
            if column in f.frame.columns:
                f.numbers(column, whole=True)
        for column in percents:
            if column in f.frame.columns:
                f.numbers(column, high=100)
        for column in positive:
            f.numbers(column)
