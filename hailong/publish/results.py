"""What the results pages show, computed from the files `hailong score` wrote.

Pure functions from tables to plain records; publish.py does the reading and the rendering.
Privacy is applied here, once: a cell resting on fewer than `scoring.min_cell` answers has no
value (the pages say "Chưa đủ câu trả lời"), and nothing but counts and indices leaves this module.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hailong.cells import restore
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.numbers import two_decimals
from hailong.publish import withhold
from hailong.stats import rank_ranges
from hailong.survey.load import Survey
from hailong.survey.tables import Table, read_table

RANKING_COLUMNS = ["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high", "band", "ranked"]
NOT_ENOUGH = "Chưa đủ câu trả lời"


@dataclass
class UnitResult:
    """One unit's line of the ranking, as published (suppressed cells are None)."""

    code: str
    name: str
    district: str
    n: int
    rank: int | None
    index: float | None
    low: float | None
    high: float | None
    band: str
    ranked: bool
    blocks: dict[str, float | None]
    band_class: str = "band-none"
    reason: str = ""  # why an unranked unit is not ranked
    suppressed: bool = False  # the unit has fewer than min_cell responses
    index_withheld: bool = False  # the index is not published (suppressed, or it would give a block away)
    protected: set[str] = field(default_factory=set)  # blocks withheld only to protect another
    rank_low: int | None = None  # the ranks the unit could hold (contract step 8)
    rank_high: int | None = None
    # accepted responses now, when the figures are held at those of n (publish/steps.py)
    responses: int | None = None
    # qid -> (lowest, highest) value anyone can tell of a withheld question (withhold.Plan)
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    # every earlier figure set of the unit, for the next release's check (publish/steps)
    earlier: list[dict] = field(default_factory=list)

    @property
    def current(self) -> int:
        """The unit's accepted responses now: n, unless its figures are held at an earlier n."""
        return self.n if self.responses is None else self.responses

    @property
    def has_index(self) -> bool:
        return self.index is not None

    @property
    def rank_text(self) -> str:
        """'3 (từ 2 đến 6)'; just '3' when the range is that one rank."""
        if self.rank is None:
            return ""
        if self.rank_low is None or self.rank_high is None or self.rank_low == self.rank_high:
            return str(self.rank)
        return f"{self.rank} (từ {self.rank_low} đến {self.rank_high})"

    @property
    def may_be_first(self) -> bool:
        """The range reaches first place: the unit cannot be told apart from the top."""
        return self.ranked and self.rank_low == 1


MAX_FIGURE = 1000  # above any percent (100) or mean score (scale.max <= 100)


def _number(table: Table, row, column: str) -> float | None:
    text = row[column]
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise table.error(row, column, _("'{text}' is not a number; run `hailong score` again",
                                         text=text)) from None
    if not math.isfinite(value):
        raise table.error(row, column, _("'{text}' is not a number; run `hailong score` again",
                                         text=text))
    if not 0 <= value <= MAX_FIGURE:  # a percent or a mean on the scale; 1e308 is an edited file
        raise table.error(row, column, _("'{text}' is not a score (0 to 100, or a mean on the "
                                         "survey's scale); run `hailong score` again", text=text))
    return value


def read_ranking(path: Path) -> list[dict]:
    """Rows of a ranking.csv (contract section 4), numbers parsed, in file order."""
    table = read_table(path, RANKING_COLUMNS)
    block_ids = [c.split(":", 1)[1] for c in table.columns if c.startswith("block:")]
    rows = []
    for row in table:
        ranked = row["ranked"].lower()
        if ranked not in ("true", "false"):
            raise table.error(row, "ranked", _("'{value}' should be true or false",
                                               value=row['ranked']))
        n = table.integer(row, "n", default=0)
        rank = table.integer(row, "rank")
        rows.append({
            "code": restore(row["unit_code"]), "name": restore(row["unit_name"]), "n": n,
            "rank": rank,
            "index": _number(table, row, "index"), "low": _number(table, row, "ci_low"),
            "high": _number(table, row, "ci_high"), "band": restore(row["band"]),
            "ranked": ranked == "true",
            "rank_low": table.integer(row, "rank_low"), "rank_high": table.integer(row, "rank_high"),
            "blocks": {b: _number(table, row, f"block:{b}") for b in block_ids},
        })
    return rows


def band_class(survey: Survey, label: str, ranked: bool) -> str:
    """A CSS class per band position (band-0 is the best), so colours follow the survey's bands."""
    if not ranked:
        return "band-none"
    for i, band in enumerate(survey.bands):
        if band.label == label:
            return f"band-{i}"
    return "band-none"


def _reason(survey: Survey, row: dict) -> str:
    if row["ranked"]:
        return ""
    if row["n"] < survey.scoring.min_responses:
        return f"Chưa đủ {survey.scoring.min_responses} phiếu hợp lệ (có {row['n']})"
    return "Không có câu trả lời nào cho các câu hỏi chấm điểm"


def unit_results(survey: Survey, rows: list[dict], block_answers: dict[tuple[str, str], int],
                 plans: dict[str, withhold.Plan] | None = None) -> list[UnitResult]:
    """The published lines: ranked units in file (rank) order, then unranked ones.

    With `plans` (withhold.plan, the exact check) each unit withholds what its plan says.
    Without them (earlier weekly runs, which keep block counts only): a cell below min_cell,
    and every figure of a unit with fewer than min_cell responses, is withheld.
    """
    min_cell = survey.scoring.min_cell
    by_code = {u.code.upper(): u for u in survey.units}
    out = []
    for row in rows:
        unit = by_code.get(row["code"].upper())
        suppressed = row["n"] < min_cell
        if plans is not None:
            p = plans[row["code"]]
            blocks = {b: (None if b in p.blocks else v) for b, v in row["blocks"].items()}
            index_hidden = suppressed or p.index
            secondary = {b for b in p.blocks if b not in p.primary} if not suppressed else set()
        else:
            blocks = {
                b: (None if suppressed or block_answers.get((row["code"], b), 0) < min_cell else v)
                for b, v in row["blocks"].items()
            }
            # the unit index is a weighted mean of its blocks: one withheld block could be
            # worked out from it and the others, so a second one is withheld as well
            withheld = [b for b, v in row["blocks"].items() if v is not None and blocks[b] is None]
            protected = _one_more(withheld, {b: block_answers.get((row["code"], b), 0)
                                             for b, v in blocks.items() if v is not None})
            if protected and not suppressed:
                blocks[protected] = None
            secondary = {protected} if protected and not suppressed else set()
            # a unit index resting on one block that is withheld is that block: withhold it too
            index_hidden = suppressed or (not protected and _index_gives_block(row["blocks"], blocks))
        # a rank or band would narrow down a withheld index: such a unit leaves the ranking
        ranked = row["ranked"] and not index_hidden
        reason = (_reason(survey, row) if ranked == row["ranked"]
                  else f"Chưa đủ {min_cell} câu trả lời để công bố chỉ số")
        out.append(UnitResult(
            code=row["code"], name=row["name"], district=unit.parent if unit else "",
            n=row["n"], rank=row["rank"] if ranked else None,
            index=None if index_hidden else row["index"],
            low=None if index_hidden else row["low"], high=None if index_hidden else row["high"],
            band=row["band"] if ranked else survey.scoring.unranked_label, ranked=ranked,
            blocks=blocks, band_class=band_class(survey, row["band"], ranked),
            reason=reason, suppressed=suppressed, index_withheld=index_hidden,
            protected=secondary,
            rank_low=row.get("rank_low") if ranked else None,
            rank_high=row.get("rank_high") if ranked else None,
        ))
    shown = [u for u in out if u.ranked]
    if any(u.ranked != r["ranked"] for u, r in zip(out, rows, strict=True)):
        _rerank(shown)
        _rerange(shown)
    elif any(u.rank_low is None or u.rank_high is None for u in shown):
        _rerange(shown)  # a ranking.csv written before rank ranges existed (an earlier period)
    # ranking.csv is already in rank order; keep it, but make sure unranked units come last
    return [u for u in out if u.ranked] + [u for u in out if not u.ranked]


def _index_gives_block(scored: dict[str, float | None], shown: dict[str, float | None]) -> bool:
    """True when exactly one block has a value and it is withheld: the unit index equals it."""
    valued = [b for b, v in scored.items() if v is not None]
    return len(valued) == 1 and shown[valued[0]] is None


def _rerank(ranked: list[UnitResult]) -> None:
    """Ranks among the units still ranked once a unit whose index is withheld left the ranking:
    a gap in the ranks (1, 2, 4) would tell that a hidden unit lies between ranks 2 and 4.
    The rule is the contract's: by the index rounded to two decimals, ties share a rank."""
    keys = [round(u.index, 2) for u in ranked]
    for u, k in zip(ranked, keys, strict=True):
        u.rank = 1 + sum(1 for other in keys if other > k)


def published(survey: Survey, rows: list[dict], table: pd.DataFrame,
              priors: dict[str, withhold.Last] | None = None
              ) -> tuple[list[UnitResult], dict[tuple[str, str], tuple[float | None, int]]]:
    """The unit lines and question cells as published, withheld as withhold.plan decides
    (an exact check against anyone enumerating whole numbers behind the published figures,
    and, with `priors`, behind them and the last release's together)."""
    plans = withhold.plan(survey, rows, table, priors)
    cells = question_cells(survey, table, secondary=False)
    hidden = {(r["code"].upper(), q) for r in rows for q in plans[r["code"]].questions}
    cells = {(unit, qid): ((None, n) if (unit.upper(), qid) in hidden else (v, n))
             for (unit, qid), (v, n) in cells.items()}
    units = unit_results(survey, rows, {}, plans)
    for u in units:
        u.bounds = plans[u.code].bounds
    return units, cells


def _rerange(ranked: list[UnitResult]) -> None:
    """Rank ranges among the units shown, by the contract's rule on their published figures:
    a range counting a withheld unit would tell that it lies there."""
    if not ranked:
        return
    low, high = rank_ranges([u.index for u in ranked], [u.low for u in ranked],
                            [u.high for u in ranked])
    for u, a, b in zip(ranked, low.tolist(), high.tolist(), strict=True):
        u.rank_low, u.rank_high = a, b


def withhold_block_questions(survey: Survey, units: list[UnitResult],
                             cells: dict[tuple[str, str], tuple[float | None, int]]
                             ) -> dict[tuple[str, str], tuple[float | None, int]]:
    """The question cells as published: every question of a block whose index is withheld
    (too few answers, or protected) is withheld as well, and so is every question of a unit
    with too few responses. A block index is the mean of its questions, so publishing them
    would give the withheld block back, and through the unit index the block it protects."""
    block_of = {q.id: q.block for q in survey.scale_questions}
    hidden = {(u.code, b) for u in units for b in block_of.values()
              if u.suppressed or u.blocks.get(b) is None}
    return {(unit, qid): ((None, answers) if (unit, block_of.get(qid)) in hidden else (value, answers))
            for (unit, qid), (value, answers) in cells.items()}


@dataclass
class QuestionResult:
    id: str
    text: str
    value: float | None  # None: fewer than min_cell answers (or none)
    answers: int
    average: float | None  # the mean over ranked units of their published values
    protected: bool = False  # enough answers, withheld only so another cell cannot be derived


@dataclass
class BlockResult:
    id: str
    title: str
    weight: float
    value: float | None
    average: float | None
    questions: list[QuestionResult] = field(default_factory=list)
    protected: bool = False


def _one_more(withheld: list[str], shown: dict[str, int]) -> str | None:
    """Secondary suppression: when exactly one part of a published mean is withheld, it could
    be worked out from the mean and the other parts; the shown part with the fewest answers is
    then withheld too (two unknowns, only their sum can be derived)."""
    if len(withheld) != 1 or not shown:
        return None
    return min(shown, key=lambda k: (shown[k], k))


def question_cells(survey: Survey, table: pd.DataFrame, secondary: bool = True
                   ) -> dict[tuple[str, str], tuple[float | None, int]]:
    """(unit, question) -> (published value, answers) from questions.csv.

    A question with fewer than min_cell answers has no value; where that would leave exactly
    one unknown question in a block whose index is shown, one more is withheld (`_one_more`),
    unless `secondary` is false (withhold.plan decides that instead).
    """
    min_cell = survey.scoring.min_cell
    cells = {}
    # plain lists, not itertuples: a national survey has a quarter of a million cells
    answers_of = pd.to_numeric(table["answers"], errors="coerce").tolist() if len(table) else []
    index_of = pd.to_numeric(table["index"], errors="coerce").tolist() if len(table) else []
    for unit, qid, a, v in zip(table["unit_code"].tolist(), table["question_id"].tolist(),
                               answers_of, index_of, strict=True):
        answers = 0 if pd.isna(a) else int(a)
        value = None if pd.isna(v) or answers < min_cell else float(two_decimals(v))
        cells[(str(unit), str(qid))] = (value, answers)
    if not secondary:
        return cells
    blocks: dict[str, list[str]] = {}
    for q in survey.scale_questions:
        blocks.setdefault(q.block, []).append(q.id)
    for unit in {u for u, _qid in cells}:
        for qids in blocks.values():
            got = {q: cells.get((unit, q), (None, 0)) for q in qids}
            withheld = [q for q, (_, n) in got.items() if 0 < n < min_cell]
            extra = _one_more(withheld, {q: n for q, (v, n) in got.items() if v is not None})
            if extra:
                cells[(unit, extra)] = (None, got[extra][1])
    return cells


def block_answers(survey: Survey, cells: dict[tuple[str, str], tuple[float | None, int]]) -> dict[tuple[str, str], int]:
    """Answers behind a block cell: the most answers any of its questions got in that unit
    (at least that many respondents answered the block)."""
    block_of = {q.id: q.block for q in survey.scale_questions}
    out: dict[tuple[str, str], int] = {}
    for (unit, qid), (_index, answers) in cells.items():
        if qid not in block_of:
            continue
        key = (unit, block_of[qid])
        out[key] = max(out.get(key, 0), answers)
    return out


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return float(two_decimals(sum(values) / len(values))) if values else None


def averages(survey: Survey, units: list[UnitResult], cells) -> dict[str, float | None]:
    """The average of all ranked units: unit index, each block and each question ('' = index)."""
    ranked = [u for u in units if u.ranked]
    out: dict[str, float | None] = {"": _mean(u.index for u in ranked)}
    for b in survey.blocks:
        out[f"block:{b.id}"] = _mean(u.blocks.get(b.id) for u in ranked)
    for q in survey.scale_questions:
        out[f"q:{q.id}"] = _mean(cells.get((u.code, q.id), (None, 0))[0] for u in ranked)
    return out


def unit_blocks(survey: Survey, unit: UnitResult, cells, avg) -> list[BlockResult]:
    blocks = []
    for b in survey.blocks:
        block = BlockResult(b.id, b.title, b.weight, unit.blocks.get(b.id), avg.get(f"block:{b.id}"),
                            protected=b.id in unit.protected)
        for q in survey.scale_questions:
            if q.block != b.id:
                continue
            value, answers = cells.get((unit.code, q.id), (None, 0))
            if unit.suppressed:
                value = None
            protected = value is None and answers >= survey.scoring.min_cell and not unit.suppressed
            block.questions.append(QuestionResult(q.id, q.text, value, answers, avg.get(f"q:{q.id}"),
                                                  protected))
        blocks.append(block)
    return blocks


def slug(text: str) -> str:
    """An ASCII web-address segment for a district name: 'Nghi Xuân' -> 'nghi-xuan'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "khac"


def districts(units: list[UnitResult]) -> list[tuple[str, str, int]]:
    """(name, slug, unit count) per district, in the order of units.csv's first appearance."""
    seen: dict[str, int] = {}
    for u in units:
        if u.district:
            seen[u.district] = seen.get(u.district, 0) + 1
    slugs: dict[str, str] = {}
    out = []
    for name, count in seen.items():
        s = slug(name)
        while s in slugs.values():
            s += "-1"
        slugs[name] = s
        out.append((name, s, count))
    return out


def participation(survey: Survey, units: list[UnitResult], part: pd.DataFrame | None,
                  by_type: dict[tuple[str, str], int] | None = None,
                  completion: pd.DataFrame | None = None) -> dict[str, dict]:
    """Per unit: responses against quota, overall and per respondent type, and for roster
    access the members of the roster who answered (completion.csv)."""
    roster: dict[str, tuple[int, int]] = {}
    # a sample survey's completion.csv (unit and type, contract v3) is for staff: its pages
    # show responses against the quota, as for any survey with quotas
    if completion is not None and len(completion) and "eligible" in completion.columns:
        for rec in completion.itertuples(index=False):
            try:
                roster[str(rec.unit_code)] = (int(float(rec.answered)), int(float(rec.eligible)))
            except (TypeError, ValueError):
                raise HailongError(
                    _("completion.csv: unit {unit_code}: '{answered}'/'{eligible}' are not "
                      "numbers; run `hailong score` again",
                      unit_code=rec.unit_code, answered=rec.answered, eligible=rec.eligible)) from None
    totals: dict[str, int] = {}
    checking: dict[str, list[str]] = {}
    if part is not None and len(part) and "status" in part:
        # more answers than the visitors allow (possible ballot stuffing): never ranked silently
        flagged = part[part["status"].astype(str) == "too_many"]
        for code, day in zip(flagged["unit_code"].astype(str), flagged["date"].astype(str),
                             strict=True):
            checking.setdefault(code, []).append(day)
    if part is not None and len(part):
        rows = part[part["date"].astype(str) == "total"]
        for rec in rows.itertuples(index=False):
            try:
                totals[str(rec.unit_code)] = int(float(rec.responses))
            except (TypeError, ValueError):
                raise HailongError(
                    _("participation.csv: unit {unit_code}: responses '{responses}' is not a "
                      "number; run `hailong score` again",
                      unit_code=rec.unit_code, responses=rec.responses)) from None
    by_type = by_type or {}  # respondent_types.csv: accepted responses per unit and type
    by_code = {x.code.upper(): x for x in survey.units}
    out = {}
    for u in units:
        unit = by_code.get(u.code.upper())
        quota = unit.quota if unit else None
        got = totals.get(u.code, u.n)
        kinds = []
        for t in survey.respondent_types:
            q = getattr(unit, f"quota_{t}", None) if unit else None
            kinds.append({"type": t, "responses": by_type.get((u.code, t), 0), "quota": q,
                          "percent": _percent(by_type.get((u.code, t), 0), q)})
        answered, eligible = roster.get(u.code, (None, None))
        days = checking.get(u.code, [])
        out[u.code] = {"responses": got, "quota": quota, "percent": _percent(got, quota),
                       "checking": [_vi_date(d) for d in days if d != "total"] or
                                   (["cả đợt khảo sát"] if days else []),
                       "types": kinds if len(survey.respondent_types) > 1 else [],
                       "roster": None if eligible is None else {
                           "answered": answered, "eligible": eligible,
                           "percent": _percent(answered, eligible)}}
    return out


def _vi_date(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso


def _percent(got: int, quota: int | None) -> float | None:
    return round(100 * got / quota, 1) if quota else None
