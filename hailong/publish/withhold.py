"""What a unit's pages may publish, checked against an attacker who enumerates whole numbers.

Every published percentage is k/d for whole numbers: a question's value is 100·k/d with d its
answers (mean_score: d = answers × (max − min) and k the answers' total above the minimum),
and the answer count d is published. A block index is the mean of its questions' values and
the unit index the weighted mean of its blocks, each published to two decimals. Someone who
knows every published figure can list every assignment of whole numbers k that reproduces
all of them; where only one k of a withheld question is left (or a few close ones), the
withheld value is known again, whatever the algebra of "two unknowns" says.

`plan` decides per unit what to withhold. First the cells with fewer than min_cell answers
(and every figure of a unit with fewer than min_cell responses); then, while the exact check
finds a withheld figure whose consistent values lie less than `scoring.withhold_margin` points
apart, one more figure, from the cheapest to the dearest: the index of an unranked unit (shown
for reference only), another question of the same block (fewest answers first), the block
index, a second block (and a question of it) so the unit index cannot pin the first, and last
the unit index. Withholding more only ever widens what
stays consistent, so the loop ends; if the search would grow past a bound, the dearer step is
taken at once (it is always safe), which keeps 10,000 units in seconds.

The check is exact: integers and fractions only, rounding as the files round (a published
two-decimal value v stands for every true value in [v − 0.005, v + 0.005]). The interval
bounds (ci_low, ci_high) are not used as constraints: they rest on respondent-level spread,
not on the cell counts.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from hailong.numbers import two_decimals
from hailong.survey.load import Survey

BUDGET = 200_000  # assignments one block's enumeration may list (numpy rows)


@dataclass
class Plan:
    """What one unit withholds. Questions and blocks without any answer are never listed."""

    questions: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    index: bool = False
    primary: set[str] = field(default_factory=set)  # withheld for few answers (ids of q and b)

    @property
    def withholds(self) -> bool:
        return bool(self.questions or self.blocks or self.index)


@dataclass
class _Q:
    id: str
    block: str
    answers: int
    d: int  # the denominator: value = 100·k/d
    k: int  # the true whole number (published questions: the attacker knows it)


@dataclass
class _Block:
    id: str
    weight: Fraction
    questions: list[_Q]  # those with answers
    cents: int | None  # published value × 100, None when withheld

    @property
    def answers(self) -> int:
        return max(q.answers for q in self.questions)


class _TooBig(Exception):
    def __init__(self, block: str):
        self.block = block


def cents(value: float) -> int:
    """A value as the files print it, in hundredths (66.665 -> 6667, as two_decimals)."""
    return int(Decimal(two_decimals(value)) * 100)


def plan(survey: Survey, rows: list[dict], table: pd.DataFrame) -> dict[str, Plan]:
    """unit code -> Plan, for every ranking row (results.read_ranking) of the survey.

    `table` is scoring.question_table's (or questions.csv's) unit_code, question_id, answers,
    index; the block and unit figures are the ranking's, as published.
    """
    per_unit: dict[str, dict[str, tuple[int, float]]] = {}
    if len(table):
        answers = pd.to_numeric(table["answers"], errors="coerce").fillna(0).astype(np.int64)
        index = pd.to_numeric(table["index"], errors="coerce")
        for unit, qid, a, v in zip(table["unit_code"].astype(str), table["question_id"].astype(str),
                                   answers, index, strict=True):
            per_unit.setdefault(unit.upper(), {})[qid] = (int(a), float(v))
    return {row["code"]: plan_unit(survey, row, per_unit.get(row["code"].upper(), {}))
            for row in rows}


def plan_unit(survey: Survey, row: dict, cells: dict[str, tuple[int, float]]) -> Plan:
    """The Plan of one unit: `row` as read_ranking gives it, `cells` qid -> (answers, index)."""
    min_cell = survey.scoring.min_cell
    span = 1 if survey.scoring.method == "percent_satisfied" else survey.scale.max - survey.scale.min
    blocks = []
    for b in survey.blocks:
        qs = []
        for q in survey.scale_questions:
            a, v = cells.get(q.id, (0, math.nan))
            if q.block == b.id and a > 0 and not math.isnan(v):
                d = a * span
                qs.append(_Q(q.id, b.id, a, d, round(v * d / 100)))
        if qs:
            value = row["blocks"].get(b.id)
            blocks.append(_Block(b.id, Fraction(str(b.weight)), qs,
                                 None if value is None else cents(value)))
    every_q = {q.id for b in blocks for q in b.questions}
    every_b = {b.id for b in blocks}
    if row["n"] < min_cell or not blocks:
        return Plan(every_q, every_b, True, every_q | every_b)
    few_q = {q.id for b in blocks for q in b.questions if q.answers < min_cell}
    few_b = {b.id for b in blocks if b.answers < min_cell}
    if not few_q:
        return Plan()
    state = Plan(set(few_q), set(few_b), row["index"] is None, few_q | few_b)
    # an unranked unit's index is shown for reference only: withholding it costs least
    cheap_index = not row["ranked"]
    unit_cents = None if row["index"] is None else cents(row["index"])
    margin = Fraction(str(survey.scoring.withhold_margin))
    for _ in range(len(every_q) + len(every_b) + 2):
        try:
            weak = _weak(blocks, state, unit_cents, margin)
        except _TooBig as big:  # the dearer step at once: it needs no enumeration
            if not state.index:
                state.index = True
            else:
                state.blocks.add(big.block)
            continue
        if not weak:
            return state
        if cheap_index and not state.index:
            state.index = True
        elif not _escalate(blocks, state, weak[0]):
            break
    return Plan(every_q, every_b, True, state.primary)


# -- one more figure ---------------------------------------------------------------------------

def _escalate(blocks: list[_Block], state: Plan, target: tuple[str, str]) -> bool:
    """Withhold one more figure for a target whose consistent values are too close."""
    kind, name = target
    by_id = {b.id: b for b in blocks}
    if kind == "u":
        order = sorted(blocks, key=lambda b: (b.id not in state.blocks, b.answers))
        for b in order:
            if _more_question(b, state) or _hide_block(b, state, with_question=True):
                return True
        return False
    block = by_id[name if kind == "b" else _block_of(blocks, name)]
    if _more_question(block, state):
        return True
    if block.id not in state.blocks:
        state.blocks.add(block.id)
        return True
    if not state.index:
        others = sorted((b for b in blocks if b.id != block.id),
                        key=lambda b: (b.id in state.blocks, b.answers))
        for b in others:
            if _hide_block(b, state, with_question=True) or _more_question(b, state):
                return True
        state.index = True
        return True
    return False


def _block_of(blocks: list[_Block], qid: str) -> str:
    return next(b.id for b in blocks for q in b.questions if q.id == qid)


def _more_question(block: _Block, state: Plan) -> bool:
    shown = [q for q in block.questions if q.id not in state.questions]
    if not shown:
        return False
    state.questions.add(min(shown, key=lambda q: q.answers).id)
    return True


def _hide_block(block: _Block, state: Plan, with_question: bool) -> bool:
    if block.id in state.blocks:
        return False
    state.blocks.add(block.id)
    if with_question:
        _more_question(block, state)
    return True


# -- the exact check ---------------------------------------------------------------------------

def _weak(blocks: list[_Block], state: Plan, unit_cents: int | None, margin: Fraction
          ) -> list[tuple[str, str]]:
    """Withheld figures whose consistent values lie less than `margin` apart, the ones with
    the fewest answers first: ("q", id), ("b", id), ("u", "")."""
    unit_shown = unit_cents is not None and not state.index
    solved = {}
    for b in blocks:
        solved[b.id] = _Solved.of(b, state, constrained=unit_shown or b.id not in state.blocks)
    if unit_shown:
        _couple(blocks, solved, unit_cents)
    weak: list[tuple[int, str, str]] = []
    for b in blocks:
        s = solved[b.id]
        for j, q in enumerate(s.unknown):
            low, high = s.k_range(j)
            if Fraction(100 * (high - low), q.d) < margin:
                weak.append((q.answers, "q", q.id))
        if b.id in state.blocks:
            low, high = s.n_range()
            if Fraction(100 * (high - low), s.lcm * len(b.questions)) < margin:
                weak.append((b.answers, "b", b.id))
    if state.index:
        total = sum(b.weight for b in blocks)
        spread = sum((b.weight / total) * Fraction(100 * (solved[b.id].n_range()[1] - solved[b.id].n_range()[0]),
                                                   solved[b.id].lcm * len(b.questions))
                     for b in blocks)
        if spread < margin:
            weak.append((min(b.answers for b in blocks), "u", ""))
    return [(kind, name) for _, kind, name in sorted(weak, key=lambda w: (w[0], w[1] != "q"))]


@dataclass
class _Solved:
    """One block's consistent assignments: `ks` rows of whole numbers for its withheld
    questions (None: unconstrained, every combination), `n` their sums Σ k·(lcm/d) plus the
    known questions' part."""

    unknown: list[_Q]
    lcm: int
    coef: list[int]
    known: int
    ks: np.ndarray | None
    n: np.ndarray | None

    @classmethod
    def of(cls, b: _Block, state: Plan, constrained: bool) -> _Solved:
        lcm = math.lcm(*(q.d for q in b.questions))
        unknown = [q for q in b.questions if q.id in state.questions]
        known = sum(q.k * (lcm // q.d) for q in b.questions if q.id not in state.questions)
        coef = [lcm // q.d for q in unknown]
        if not unknown:
            return cls(unknown, lcm, coef, known, np.zeros((1, 0), dtype=object),
                       np.array([known], dtype=object))
        if not constrained:
            return cls(unknown, lcm, coef, known, None, None)
        shown = b.id not in state.blocks and b.cents is not None
        if shown:
            m = len(b.questions)
            # |100·N/(lcm·m) − cents/100| <= 1/200  <=>  |20000·N − 2·cents·lcm·m| <= lcm·m
            lo = -((-(2 * b.cents * lcm * m - lcm * m)) // 20000)
            hi = (2 * b.cents * lcm * m + lcm * m) // 20000
            ks = _solve(unknown, coef, known, lo, hi, b.id)
        else:
            ks = _grid([q.d for q in unknown], b.id)
        n = known + (ks * np.array(coef, dtype=object)).sum(axis=1) if len(ks) else np.zeros(0, dtype=object)
        return cls(unknown, lcm, coef, known, ks, n)

    def k_range(self, j: int) -> tuple[int, int]:
        if self.ks is None:
            return 0, self.unknown[j].d
        column = self.ks[:, j]
        return (int(column.min()), int(column.max())) if len(column) else (0, 0)

    def n_range(self) -> tuple[int, int]:
        if self.n is None:
            return self.known, self.known + sum(c * q.d for c, q in zip(self.coef, self.unknown, strict=True))
        return (int(self.n.min()), int(self.n.max())) if len(self.n) else (0, 0)

    def keep(self, allowed: set[int]) -> None:
        mask = np.array([int(v) in allowed for v in self.n], dtype=bool)
        self.ks, self.n = self.ks[mask], self.n[mask]


def _grid(sizes: list[int], block: str) -> np.ndarray:
    """Every combination of 0..d for each size, as rows (object ints: no overflow)."""
    count = math.prod(d + 1 for d in sizes)
    if count > BUDGET:
        raise _TooBig(block)
    if not sizes:
        return np.zeros((1, 0), dtype=object)
    axes = np.meshgrid(*(np.arange(d + 1, dtype=np.int64) for d in sizes), indexing="ij")
    return np.stack([a.reshape(-1) for a in axes], axis=1).astype(object)


def _solve(unknown: list[_Q], coef: list[int], known: int, lo: int, hi: int, block: str) -> np.ndarray:
    """Rows k with lo <= known + Σ coef·k <= hi: all but the last withheld question listed,
    the last one's range worked out (so a published block costs one size less)."""
    head = _grid([q.d for q in unknown[:-1]], block)
    partial = known + ((head * np.array(coef[:-1], dtype=object)).sum(axis=1) if head.shape[1]
                       else np.zeros(len(head), dtype=object))
    c, d = coef[-1], unknown[-1].d
    rows = []
    for i, p in enumerate(partial):
        first = max(0, -((-(lo - int(p))) // c))
        last = min(d, (hi - int(p)) // c)
        rows.extend(list(head[i]) + [k] for k in range(first, last + 1))
        if len(rows) > BUDGET:
            raise _TooBig(block)
    return np.array(rows, dtype=object).reshape(len(rows), len(unknown))


def _couple(blocks: list[_Block], solved: dict[str, _Solved], unit_cents: int) -> None:
    """Keep only the block sums that some choice of the other blocks' sums turns into the
    published unit index: Σ_b w_b·100·N_b/(lcm_b·m_b) / Σ w = U ± 0.005."""
    total = sum(b.weight for b in blocks)
    coef = {b.id: b.weight * 100 / (total * solved[b.id].lcm * len(b.questions)) for b in blocks}
    scale = math.lcm(*(c.denominator for c in coef.values())) * 200
    weights = {b: int(c * scale) for b, c in coef.items()}
    target = Fraction(unit_cents, 100) * scale
    lo, hi = math.ceil(target - scale / 200), math.floor(target + scale / 200)
    fixed = sum(weights[b.id] * int(solved[b.id].n[0]) for b in blocks if not solved[b.id].unknown)
    open_ = [b.id for b in blocks if solved[b.id].unknown]
    values = {b: sorted({int(v) for v in solved[b].n}) for b in open_}
    for b in open_:
        others = [0]
        for o in open_:
            if o != b:
                others = sorted({s + weights[o] * v for s in others for v in values[o]})
                if len(others) > BUDGET:
                    raise _TooBig(o)
        allowed = set()
        for v in values[b]:
            need_lo = lo - fixed - weights[b] * v
            need_hi = hi - fixed - weights[b] * v
            at = bisect.bisect_left(others, need_lo)
            if at < len(others) and others[at] <= need_hi:
                allowed.add(v)
        solved[b].keep(allowed)
