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
stays consistent, so the loop ends. The search is bounded: past BUDGET combinations of one
block a fixed-seed sample of them is listed, which can only make the check stricter.

The check is exact where it decides, and leans to the safe side where it must be quick:
a block's own published value is applied in whole numbers (a two-decimal value v stands for
every true value in [v − 0.005, v + 0.005]); the unit index ties the blocks together in
floats, with the interval narrowed by a hair and, past a bound, only a spread-out subset of
a block's values kept. Both only drop assignments, so the attacker modelled knows at least
as much as the real one. The interval bounds (ci_low, ci_high) are not used as constraints:
they rest on respondent-level spread, not on the cell counts.

Speed (issue 10, 10,600 units): each unit's plan is its own, so above PARALLEL_MIN units the
units are planned on every core; a block's enumeration is memoised across units on exactly
what it reads, and a unit's sums of the other blocks' runs are kept from one escalation step
to the next. None of this changes a decision: tests/withhold_reference.py keeps the check as it
was, and tests/test_withhold_reference.py compares the plans of both.
"""

from __future__ import annotations

import functools
import gc
import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from hailong import procpool
from hailong.numbers import two_decimals
from hailong.survey.load import Survey

BUDGET = 20_000  # combinations of one block's withheld questions listed (more: a sample)


@dataclass
class Plan:
    """What one unit withholds. Questions and blocks without any answer are never listed."""

    questions: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    index: bool = False
    primary: set[str] = field(default_factory=set)  # withheld for few answers (ids of q and b)
    # what anyone can still tell of each withheld question, from this release and the last
    # together: qid -> (lowest, highest) consistent value, published so the next run (a fresh
    # machine too) starts from it
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict, compare=False)

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
    lo: int = 0  # what earlier releases tell of k (withheld questions): lo <= k <= hi
    hi: int = -1  # -1: d (nothing known)
    prior: Prior | None = None  # the question as the last release published it
    open: int = -1  # hi − lo from the last release alone (before any narrowing)

    def __post_init__(self):
        if self.hi < 0:
            self.hi = self.d
        if self.open < 0:
            self.open = self.hi - self.lo


@dataclass(frozen=True)
class Prior:
    """A question as the last release published it, as anyone can read it back: its answers
    and the whole numbers k it may have had (lo == hi: its value was shown)."""

    answers: int
    lo: int
    hi: int


@dataclass(frozen=True)
class Last:
    """One unit as the last release published it: its ranking.json entry and what anyone can
    read back of each question from it alone (see last_of)."""

    entry: dict
    questions: dict[str, Prior]
    # every earlier figure set of the unit (ranking.json `earlier`), oldest first: their
    # withheld cells are tied together by their own block and unit figures
    earlier: list[Last] = field(default_factory=list)
    # its ranges were found without leaving any assignment out (see _INEXACT)
    exact: bool = True


@dataclass
class _Block:
    id: str
    weight: Fraction
    questions: list[_Q]  # those with answers
    cents: int | None  # published value × 100, None when withheld

    @property
    def answers(self) -> int:
        return max(q.answers for q in self.questions)


def cents(value: float) -> int:
    """A value as the files print it, in hundredths (66.665 -> 6667, as two_decimals)."""
    return int(Decimal(two_decimals(value)) * 100)


def plan(survey: Survey, rows: list[dict], table: pd.DataFrame,
         priors: dict[str, Last] | None = None) -> dict[str, Plan]:
    """unit code -> Plan, for every ranking row (results.read_ranking) of the survey.

    `table` is scoring.question_table's (or questions.csv's) unit_code, question_id, answers,
    index; the block and unit figures are the ranking's, as published. `priors` (unit code,
    upper-cased -> Last, see last_of): what the last published release tells of each
    question, so that this release and that one together give away no more than one does.
    """
    if priors:
        rows = [{**row, PRIOR: priors[row["code"].upper()]} if row["code"].upper() in priors else row
                for row in rows]
    per_unit: dict[str, dict[str, tuple[int, float]]] = {}
    if len(table):
        answers = pd.to_numeric(table["answers"], errors="coerce").fillna(0).astype(np.int64)
        index = pd.to_numeric(table["index"], errors="coerce")
        for unit, qid, a, v in zip(table["unit_code"].astype(str), table["question_id"].astype(str),
                                   answers, index, strict=True):
            per_unit.setdefault(unit.upper(), {})[qid] = (int(a), float(v))
    work = [(row, per_unit.get(row["code"].upper(), {})) for row in rows]
    if _cores() > 1 and len(work) >= PARALLEL_MIN:
        plans = _plans_in_pool(survey, work)
    else:
        plans = [plan_unit(survey, row, cells) for row, cells in work]
    return {row["code"]: p for (row, _cells), p in zip(work, plans, strict=True)}


# -- every core -------------------------------------------------------------------------------
PARALLEL_MIN = 2_000  # fewer units are planned faster here than a pool of processes starts
CHUNK = 100  # units per task: small, because a unit takes from microseconds to a second


def _cores() -> int:
    return procpool.cores()


def _plan_chunk(first: int, last: int) -> list[Plan]:
    survey, work = procpool.job("withhold")
    return [plan_unit(survey, row, cells) for row, cells in work[first:last]]


def _plans_in_pool(survey: Survey, work: list[tuple[dict, dict]]) -> list[Plan]:
    """Each unit's plan is its own: the workers get the work list once (by their initializer)
    and send back Plans, in order."""
    # the collector of a forked worker would write to every inherited object it scans,
    # copying the parent's memory page by page: what exists now is left out of its scans
    gc.freeze()
    try:
        with procpool.executor(_cores(), procpool.set_job, ("withhold", (survey, work))) as pool:
            chunks = [pool.submit(_plan_chunk, a, min(a + CHUNK, len(work)))
                      for a in range(0, len(work), CHUNK)]
            return [p for chunk in chunks for p in chunk.result()]
    finally:
        gc.unfreeze()


PRIOR = "withhold_prior"  # the key of a ranking row that carries its unit's priors


def plan_unit(survey: Survey, row: dict, cells: dict[str, tuple[int, float]],
              last: Last | None = None) -> Plan:
    """The Plan of one unit: `row` as read_ranking gives it, `cells` qid -> (answers, index),
    `last` the unit as the last release published it (default: the row's PRIOR)."""
    min_cell = survey.scoring.min_cell
    span = _span(survey)
    last = last if last is not None else row.get(PRIOR)
    _INEXACT[0] = False
    exact = last is None or (last.exact and all(e.exact for e in last.earlier))
    prior = last.questions if last is not None else {}
    blocks = []
    for b in survey.blocks:
        qs = []
        for q in survey.scale_questions:
            a, v = cells.get(q.id, (0, math.nan))
            if q.block == b.id and a > 0 and not math.isnan(v):
                d = a * span
                qs.append(_bounded(_Q(q.id, b.id, a, d, round(v * d / 100)), prior.get(q.id), span))
        if qs:
            value = row["blocks"].get(b.id)
            blocks.append(_Block(b.id, Fraction(str(b.weight)), qs,
                                 None if value is None else cents(value)))
    every_q = {q.id for b in blocks for q in b.questions}
    every_b = {b.id for b in blocks}
    # every figure withheld: a question is known only as far as the last release tells
    known = {q.id: _values(q, q.lo, q.hi) for b in blocks for q in b.questions
             if q.hi - q.lo < q.d} if exact else {}
    if row["n"] < min_cell or not blocks:
        return Plan(every_q, every_b, True, every_q | every_b, known)
    few_q = {q.id for b in blocks for q in b.questions if q.answers < min_cell}
    few_b = {b.id for b in blocks if b.answers < min_cell}
    # a question the last release published: the difference of the two is a cell of its own
    linked = any(q.prior is not None for b in blocks for q in b.questions)
    if not few_q and not linked:
        return Plan()
    state = Plan(set(few_q), set(few_b), row["index"] is None, few_q | few_b)
    # an unranked unit's index is shown for reference only: withholding it costs least
    cheap_index = not row["ranked"]
    unit_cents = None if row["index"] is None else cents(row["index"])
    margin = Fraction(str(survey.scoring.withhold_margin))
    cache: dict = {}  # a block's assignments, by what of it is withheld: reused step to step
    by_id = {q.id: q for b in blocks for q in b.questions}
    for _ in range(len(every_q) + len(every_b) + 2):
        found: dict = {}
        weak = _check(survey, blocks, state, unit_cents, margin, cache, min_cell, last, found)
        if not weak:
            if exact and not _INEXACT[0]:
                state.bounds = {qid: _values(by_id[qid], *found[qid]) for qid in sorted(state.questions)
                                if qid in found and found[qid][1] - found[qid][0] < by_id[qid].d}
            return state
        if cheap_index and not state.index:
            state.index = True
        elif not _escalate(blocks, state, weak[0]):
            break
    return Plan(every_q, every_b, True, state.primary, known)


def _values(q: _Q, lo: int, hi: int) -> tuple[float, float]:
    return float(two_decimals(100 * lo / q.d)), float(two_decimals(100 * hi / q.d))


def _span(survey: Survey) -> int:
    return 1 if survey.scoring.method == "percent_satisfied" else survey.scale.max - survey.scale.min


def _bounded(q: _Q, p: Prior | None, span: int) -> _Q:
    """q with what the last release tells of its k: from there k grew by 0..span per new
    answer (the attacker's favourite: none removed), or fell by as much when answers fell."""
    if p is None:
        return q
    delta = q.answers - p.answers
    step = span * abs(delta)
    lo, hi = (p.lo, p.hi + step) if delta >= 0 else (p.lo - step, p.hi)
    lo, hi = max(0, lo), min(q.d, hi)
    if lo > hi:  # out of reach without removals: the attacker learns only that some were removed
        lo, hi = 0, q.d
    q.lo, q.hi, q.prior, q.open = lo, hi, p, hi - lo
    return q


def last_of(survey: Survey, entry: dict) -> Last:
    """A unit of the last published ranking.json, with what it alone tells of each question."""
    # bounds that its own figures contradict (a hand-edited file): read without them
    def one(e: dict) -> Last:
        _INEXACT[0] = False
        got = priors_of(survey, e) or priors_of(survey, {**e, "bounds": {}}) or {}
        return Last(e, got, exact=not _INEXACT[0])
    sets = entry.get("earlier") if isinstance(entry.get("earlier"), list) else []
    last = one(entry)
    return Last(entry, last.questions, [one(e) for e in sets if isinstance(e, dict)], last.exact)


# Set when an enumeration left assignments out (past BUDGET combinations, past RUNS runs):
# the ranges it finds are then narrower than what anyone enumerating in full finds. That is
# the safe side for deciding what to withhold, but not for publishing them as `bounds`: a
# range narrower than the true one tells the reader more than the figures do, so a plan
# that met this publishes no bounds (the next run enumerates from the figures again).
# One per process (plan runs in pool workers): reset by plan_unit and last_of.
_INEXACT = [False]


def priors_of(survey: Survey, entry: dict, bounds: dict[str, tuple[int, int]] | None = None
              ) -> dict[str, Prior] | None:
    """qid -> Prior from one unit of a published ranking.json (its `questions`, `blocks` and
    `index`): a shown question's k exactly, a withheld one's range as anyone enumerating whole
    numbers behind that release's figures finds it (the same check as plan's). With `bounds`
    (qid -> lowest, highest k, what a later release tells) only inside them; None when no
    whole numbers there reproduce the figures (the attacker's model, no removals, is wrong)."""
    span = _span(survey)
    questions = entry.get("questions") if isinstance(entry.get("questions"), dict) else {}
    published_blocks = entry.get("blocks") if isinstance(entry.get("blocks"), dict) else {}
    carried_bounds = entry.get("bounds") if isinstance(entry.get("bounds"), dict) else {}
    blocks, hidden = [], set()
    for b in survey.blocks:
        qs = []
        for q in survey.scale_questions:
            cell = questions.get(q.id)
            if q.block != b.id or not isinstance(cell, dict):
                continue
            a, v = cell.get("answers"), cell.get("value")
            if not isinstance(a, int) or isinstance(a, bool) or a <= 0:
                continue
            d = a * span
            if isinstance(v, int | float) and not isinstance(v, bool):
                qs.append(_Q(q.id, b.id, a, d, max(0, min(d, round(v * d / 100)))))
            else:
                hidden.add(q.id)
                lo, hi = (bounds or {}).get(q.id, (0, d))
                lo, hi = max(0, lo), min(d, hi)
                # what the release before that one had left open (published with it)
                carried = carried_bounds.get(q.id)
                if (isinstance(carried, list) and len(carried) == 2
                        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in carried)):
                    lo, hi = max(lo, round(carried[0] * d / 100)), min(hi, round(carried[1] * d / 100))
                if lo > hi:
                    return None
                qs.append(_Q(q.id, b.id, a, d, 0, lo, hi))
        if qs:
            value = published_blocks.get(b.id)
            shown = isinstance(value, int | float) and not isinstance(value, bool)
            blocks.append(_Block(b.id, Fraction(str(b.weight)), qs, cents(value) if shown else None))
    index = entry.get("index")
    unit_cents = cents(index) if isinstance(index, int | float) and not isinstance(index, bool) else None
    state = Plan(hidden, {b.id for b in blocks if b.cents is None}, unit_cents is None)
    unit_shown = unit_cents is not None
    solved = {b.id: _Solved.cached(b, state, unit_shown or b.cents is not None, {}) for b in blocks}
    if unit_shown and any(s.unknown for s in solved.values()):
        _couple(blocks, solved, unit_cents / 100, {})
    out = {}
    for b in blocks:
        s = solved[b.id]
        open_ = {q.id: j for j, q in enumerate(s.unknown)}
        for q in b.questions:
            if q.id not in open_:
                out[q.id] = Prior(q.answers, q.k, q.k)
            elif s.ks is not None and not len(s.ks):  # figures no whole numbers reproduce
                if bounds:
                    return None
                out[q.id] = Prior(q.answers, 0, q.d)
            else:
                out[q.id] = Prior(q.answers, *s.k_range(open_[q.id]))
    return out


# -- one more figure ---------------------------------------------------------------------------

def _escalate(blocks: list[_Block], state: Plan, target: tuple[str, str]) -> bool:
    """Withhold one more figure for a target whose consistent values are too close."""
    kind, name = target
    by_id = {b.id: b for b in blocks}
    if kind == "q" and name not in state.questions:  # a shown question that pins a difference
        state.questions.add(name)
        return True
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

def _weak(blocks: list[_Block], state: Plan, unit_cents: int | None, margin: Fraction,
          cache: dict, min_cell: int = 0, found: dict | None = None) -> list[tuple[str, str]]:
    """Withheld figures whose consistent values lie less than `margin` apart, the ones with
    the fewest answers first: ("q", id), ("b", id), ("u", "").

    With priors (the last release), also every question whose difference from the last
    release rests on fewer than `min_cell` answers and is pinned to less than `margin`, and
    every question withheld in the last release that this one would pin (a shown question:
    ("q", id) asks to withhold it)."""
    unit_shown = unit_cents is not None and not state.index
    solved = {b.id: _Solved.cached(b, state, unit_shown or b.id not in state.blocks, cache)
              for b in blocks}
    if unit_shown and any(s.unknown for s in solved.values()):
        _couple(blocks, solved, unit_cents / 100, cache.setdefault("chains", {}))
    weak: list[tuple[int, str, str]] = []
    for b in blocks:
        s = solved[b.id]
        for j, q in enumerate(s.unknown):
            low, high = s.k_range(j)
            # a cell the last release showed with many more answers is pinned by it whatever
            # is withheld now: what must stay open is its difference (below)
            if Fraction(100 * (high - low), q.d) < margin and Fraction(100 * q.open, q.d) >= margin:
                weak.append((q.answers, "q", q.id))
            if found is not None:
                found[q.id] = (low, high)
            if q.prior is not None and _pins_across(q, low, high, margin, min_cell):
                weak.append((q.answers, "q", q.id))
        for q in b.questions:
            if q.id in state.questions:
                continue
            if found is not None:
                found[q.id] = (q.k, q.k)
            if q.prior is not None and _pins_across(q, q.k, q.k, margin, min_cell):
                weak.append((q.answers, "q", q.id))
        if b.id in state.blocks:
            low, high = s.beta_range()
            if high - low < margin:
                weak.append((b.answers, "b", b.id))
    if state.index:
        total = float(sum(b.weight for b in blocks))
        spread = sum(float(b.weight) / total * (solved[b.id].beta_range()[1] - solved[b.id].beta_range()[0])
                     for b in blocks)
        if spread < margin:
            weak.append((min(b.answers for b in blocks), "u", ""))
    return [(kind, name) for _, kind, name in sorted(weak, key=lambda w: (w[0], w[1] != "q"))]


def _check(survey: Survey, blocks: list[_Block], state: Plan, unit_cents: int | None,
           margin: Fraction, cache: dict, min_cell: int, last: Last | None,
           found: dict | None = None) -> list[tuple[str, str]]:
    """_weak, and with the last release: the new release, the last one and every earlier
    figure set of the unit enumerated each inside what all the others tell of its questions,
    round after round until nothing narrows (the differencing attacker's fixpoint; a few
    rounds). Then every cell withheld in an earlier set must still keep two consistent
    values `margin` apart, and so must every difference cell between any two of them that
    rests on 1 .. min_cell − 1 answers; where one does not, ("q", id) of the new release."""
    found = {} if found is None else found
    if last is None:
        return _weak(blocks, state, unit_cents, margin, cache, min_cell, found)
    span = _span(survey)
    block_of = {q.id: q.block for q in survey.scale_questions}
    sets = [last, *last.earlier]
    linked = {q.id: q for b in blocks for q in b.questions if q.prior is not None}
    every = {q.id: q for b in blocks for q in b.questions}
    start = {qid: (q.lo, q.hi) for qid, q in every.items()}
    ranges = [{qid: (p.lo, p.hi) for qid, p in one.questions.items()} for one in sets]
    try:
        for _ in range(ROUNDS):
            found.clear()
            weak = _weak(blocks, state, unit_cents, margin, cache, min_cell, found)
            if weak:
                return weak
            now = {qid: (found[qid], q.answers) for qid, q in linked.items() if qid in found}
            known = [{qid: (ranges[i][qid], p.answers) for qid, p in one.questions.items()}
                     for i, one in enumerate(sets)]
            again, lost = [], False
            for i, one in enumerate(sets):
                others = [now, *(known[j] for j in range(len(sets)) if j != i)]
                bounds = {qid: _within(p.answers, span, others, qid) for qid, p in one.questions.items()}
                got = priors_of(survey, one.entry, bounds)
                # None: nothing listed fits them all. Either answers were removed (the attacker
                # learns only that) or the listing dropped what fits (it leans to dropping,
                # see _couple): which one cannot be told here, so the safe side is taken
                lost = lost or (got is None and any(p.hi > p.lo for p in one.questions.values()))
                again.append(ranges[i] if got is None else {qid: (r.lo, r.hi) for qid, r in got.items()})
            if lost:
                return _one_more_shown(linked, state)
            weak = []
            views = [now, *({qid: (again[i][qid], p.answers) for qid, p in one.questions.items()}
                            for i, one in enumerate(sets))]
            for i, one in enumerate(sets):
                for qid, p in one.questions.items():
                    d = span * p.answers
                    lo, hi = again[i][qid]
                    if (p.hi > p.lo and Fraction(100 * (p.hi - p.lo), d) >= margin
                            and Fraction(100 * (hi - lo), d) < margin):
                        weak.append(_pinning(qid, linked, blocks, block_of, state))
            for x in range(len(views)):
                for y in range(x + 1, len(views)):
                    for qid in views[x].keys() & views[y].keys():
                        if _difference_pinned(views[x][qid], views[y][qid], span, margin, min_cell):
                            weak.append(_pinning(qid, linked, blocks, block_of, state))
            if weak:
                return [(kind, name) for _, kind, name in sorted(set(weak))]
            narrower = False
            for qid, q in every.items():
                # this release's own ranges too: listing again inside them narrows further
                # where the blocks' ties were applied one block at a time
                lo, hi = found.get(qid, (q.lo, q.hi))
                if qid in linked:
                    a_lo, a_hi = _within(q.answers, span, views[1:], qid)
                    lo, hi = max(lo, a_lo), min(hi, a_hi)
                lo, hi = max(q.lo, lo), min(q.hi, hi)
                if lo <= hi and (lo, hi) != (q.lo, q.hi):
                    q.lo, q.hi, narrower = lo, hi, True
            if not narrower and again == ranges:
                return []
            ranges = again
        # still narrowing after ROUNDS: what the last narrowing gives away is not known
        return _one_more_shown(linked, state)
    finally:
        for qid, q in every.items():
            q.lo, q.hi = start[qid]


def _pinning(qid: str, linked: dict, blocks: list[_Block], block_of: dict, state: Plan
             ) -> tuple[int, str, str]:
    """What to withhold more when an earlier release's cell of `qid` is pinned given this
    one: the question itself when this release has answers to it; else (it has none now, so
    what pins it is the other questions of its block, tied to it by that release's block
    index) one more figure of its block; else one more of the linked questions."""
    if qid in linked:
        return (linked[qid].answers, "q", qid)
    block = next((b for b in blocks if b.id == block_of.get(qid)), None)
    if block is not None:
        return (block.answers, "b", block.id)
    more = _one_more_shown(linked, state)
    return (0, *more[0]) if more else (0, "u", "")


def _one_more_shown(linked: dict, state: Plan) -> list[tuple[str, str]]:
    """Withhold more where the check across releases cannot decide: the linked question with
    the fewest answers still shown, else the unit index."""
    shown = sorted((q.answers, qid) for qid, q in linked.items() if qid not in state.questions)
    return [("q", shown[0][1])] if shown else [("u", "")] if not state.index else []


ROUNDS = 10  # rounds between the releases (each only narrows; the attacker's fixpoint)


def _within(answers: int, span: int, others: list[dict], qid: str) -> tuple[int, int]:
    """Where a question's k can be, with `answers` answers, given its k range in other
    releases (qid -> ((lo, hi), answers)): the one with more answers holds the other's and
    span more per answer (the attacker's favourite: nothing removed while answers grew)."""
    lo, hi = 0, span * answers
    for other in others:
        if qid not in other:
            continue
        (a_lo, a_hi), then = other[qid]
        step = span * abs(answers - then)
        r_lo, r_hi = (a_lo, a_hi + step) if answers >= then else (a_lo - step, a_hi)
        if max(lo, r_lo) <= min(hi, r_hi):  # out of reach: removals, nothing learnt
            lo, hi = max(lo, r_lo), min(hi, r_hi)
    return lo, hi


def _difference_pinned(x: tuple, y: tuple, span: int, margin: Fraction, min_cell: int) -> bool:
    """The difference cell of one question between two releases, ((lo, hi), answers) each:
    resting on 1 .. min_cell − 1 answers and pinned to less than `margin`."""
    (x_range, x_answers), (y_range, y_answers) = x, y
    if not 0 < abs(x_answers - y_answers) < min_cell:
        return False
    (s_lo, s_hi), (l_lo, l_hi) = (x_range, y_range) if x_answers < y_answers else (y_range, x_range)
    step = span * abs(x_answers - y_answers)
    gap_lo, gap_hi = max(0, l_lo - s_hi), min(step, l_hi - s_lo)
    return Fraction(100 * max(0, gap_hi - gap_lo), step) < margin


def _pins_across(q: _Q, low: int, high: int, margin: Fraction, min_cell: int) -> bool:
    """True when this release's k in [low, high] and the last release's pin, to less than
    `margin`, either the difference of the two (resting on fewer than min_cell answers) or a
    value the last release withheld. The attacker is favoured: no answer removed between the
    releases (k grows by 0..span per new answer), or only removed ones when answers fell."""
    p = q.prior
    span = q.d // q.answers
    delta = q.answers - p.answers
    step = span * abs(delta)
    if delta >= 0:  # k_now − k_last in [0, step]
        gap_lo, gap_hi = max(0, low - p.hi), min(step, high - p.lo)
        last_lo, last_hi = max(p.lo, low - step), min(p.hi, high)
    else:  # k_last − k_now in [0, step]
        gap_lo, gap_hi = max(0, p.lo - high), min(step, p.hi - low)
        last_lo, last_hi = max(p.lo, low), min(p.hi, high + step)
    last_d = span * p.answers
    if 0 < abs(delta) < min_cell and Fraction(100 * max(0, gap_hi - gap_lo), step) < margin:
        return True
    return (p.hi > p.lo and last_d > 0 and Fraction(100 * (p.hi - p.lo), last_d) >= margin
            and Fraction(100 * max(0, last_hi - last_lo), last_d) < margin)


@dataclass
class _Solved:
    """One block's consistent assignments: `ks` rows of whole numbers for its withheld
    questions and `beta` the block index each gives (None: unconstrained, every combination).

    The block's own published value is applied exactly, in integers; the coupling through the
    unit index (`_couple`) in floats that lean to the safe side (see there)."""

    unknown: list[_Q]
    base: float  # the known questions' part of the block index
    ks: np.ndarray | None
    beta: np.ndarray | None
    m: int
    memo: dict = field(default_factory=dict)  # shared by the copies: what _couple derives

    @classmethod
    def cached(cls, b: _Block, state: Plan, constrained: bool, cache: dict) -> _Solved:
        """`of`, computed once per (block, withheld questions, block withheld, constrained);
        a copy, because the coupling narrows it.

        Two memos: `cache` is the unit's (its `memo` holds what _couple derives with the
        unit's weights and interval); `_BLOCKS` is shared by every unit, keyed on everything
        `of` reads, because the same cells recur across thousands of units."""
        key = (b.id, frozenset(q.id for q in b.questions if q.id in state.questions),
               b.id in state.blocks, constrained,
               # what earlier releases leave open narrows from round to round (_check)
               tuple((q.lo, q.hi) for q in b.questions))
        if constrained and math.prod(q.hi - q.lo + 1 for q in b.questions
                                     if q.id in state.questions) > BUDGET:
            _INEXACT[0] = True  # a sample of the combinations is listed (_grid_rows)
        if key not in cache:
            withheld = b.id in state.blocks
            shared = (tuple((q.id, q.answers, q.d, q.k, q.id in state.questions, q.lo, q.hi)
                            for q in b.questions),
                      b.cents if not withheld else None, withheld, constrained)
            if shared not in _BLOCKS:
                if len(_BLOCKS) >= _BLOCKS_MAX:
                    _BLOCKS.pop(next(iter(_BLOCKS)))
                _BLOCKS[shared] = _frozen(cls.of(b, state, constrained))
            s = _BLOCKS[shared]
            cache[key] = cls(s.unknown, s.base, s.ks, s.beta, s.m)
        s = cache[key]
        return cls(s.unknown, s.base, s.ks, s.beta, s.m, s.memo)

    @classmethod
    def of(cls, b: _Block, state: Plan, constrained: bool) -> _Solved:
        m = len(b.questions)
        unknown = [q for q in b.questions if q.id in state.questions]
        base = sum(100.0 * q.k / q.d for q in b.questions if q.id not in state.questions) / m
        if not unknown:
            return cls(unknown, base, np.zeros((1, 0), dtype=np.int64), np.array([base]), m)
        if not constrained:
            return cls(unknown, base, None, None, m)
        if b.id not in state.blocks and b.cents is not None:
            ks = _solve(b, unknown)
        else:
            ks = _box(unknown)
        step = np.array([100.0 / (q.d * m) for q in unknown])
        return cls(unknown, base, ks, base + ks @ step, m)

    def k_range(self, j: int) -> tuple[int, int]:
        if self.ks is None:
            return self.unknown[j].lo, self.unknown[j].hi
        column = self.ks[:, j]
        return (int(column.min()), int(column.max())) if len(column) else (0, 0)

    def beta_range(self) -> tuple[float, float]:
        if self.beta is None:
            return (self.base + sum(100.0 * q.lo / q.d for q in self.unknown) / self.m,
                    self.base + sum(100.0 * q.hi / q.d for q in self.unknown) / self.m)
        return (float(self.beta.min()), float(self.beta.max())) if len(self.beta) else (0.0, 0.0)


_BLOCKS: dict = {}  # what of() gave, by everything it reads (oldest dropped first)
_BLOCKS_MAX = 20_000


def _frozen(s: _Solved) -> _Solved:
    """Shared between units: the arrays read-only, so no unit can change another's."""
    for a in (s.ks, s.beta):
        if a is not None:
            a.flags.writeable = False
    return s


def _box(unknown: list[_Q]) -> np.ndarray:
    """Every combination of lo..hi for each question (what earlier releases leave open)."""
    grid = _grid([q.hi - q.lo for q in unknown])
    if not any(q.lo for q in unknown):
        return grid
    return grid + np.array([q.lo for q in unknown], dtype=np.int64)


def _grid(sizes: list[int]) -> np.ndarray:
    """Every combination of 0..d for each size (see _grid_of), shared and read-only."""
    return _grid_of(tuple(sizes))


@functools.lru_cache(maxsize=4096)
def _grid_of(sizes: tuple[int, ...]) -> np.ndarray:
    grid = _grid_rows(list(sizes))
    grid.flags.writeable = False
    return grid


def _grid_rows(sizes: list[int]) -> np.ndarray:
    """Every combination of 0..d for each size, as rows; past BUDGET combinations, BUDGET of
    them drawn with a fixed seed (and both corners). Leaving combinations out only narrows
    what the check thinks stays consistent: the safe side, at the price of withholding more."""
    count = math.prod(d + 1 for d in sizes)
    if not sizes:
        return np.zeros((1, 0), dtype=np.int64)
    if count > BUDGET:
        rng = np.random.default_rng(0)
        top = np.array(sizes, dtype=np.int64)
        rows = rng.integers(0, top + 1, size=(BUDGET, len(sizes)))
        return np.vstack([np.zeros((1, len(sizes)), dtype=np.int64), top[None, :], rows])
    axes = np.meshgrid(*(np.arange(d + 1, dtype=np.int64) for d in sizes), indexing="ij")
    return np.stack([a.reshape(-1) for a in axes], axis=1)


def _solve(b: _Block, unknown: list[_Q]) -> np.ndarray:
    """Rows k of the withheld questions whose block index rounds to the published one, in
    whole numbers: with N = Σ k·(lcm/d) over all the block's questions,
    |100·N/(lcm·m) − cents/100| <= 1/200  <=>  |20000·N − 2·cents·lcm·m| <= lcm·m.
    All but the last withheld question are listed; the last one's range is worked out."""
    lcm = math.lcm(*(q.d for q in b.questions))
    m = len(b.questions)
    lo = -((-(2 * b.cents * lcm * m - lcm * m)) // 20000)
    hi = (2 * b.cents * lcm * m + lcm * m) // 20000
    known = sum(q.k * (lcm // q.d) for q in b.questions if q not in unknown)
    coef = [lcm // q.d for q in unknown]
    head = _box(unknown[:-1])
    c, floor, d = coef[-1], unknown[-1].lo, unknown[-1].hi
    if lcm * m * 4 < 2**62:  # whole numbers fit in int64: vectorised
        partial = known + head @ np.array(coef[:-1], dtype=np.int64)
        first = np.maximum(floor, -((partial - lo) // c))
        last = np.minimum(d, (hi - partial) // c)
        count = np.maximum(0, last - first + 1)
        total = int(count.sum())
        rows = np.repeat(head, count, axis=0)
        offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        return np.column_stack([rows, np.repeat(first, count) + offset]).astype(np.int64)
    out = []
    for row in head:  # huge denominators: Python integers
        p = known + sum(int(k) * cc for k, cc in zip(row, coef, strict=False))
        out.extend([*map(int, row), k] for k in range(max(floor, -((p - lo) // c)), min(d, (hi - p) // c) + 1))
    return np.array(out, dtype=np.int64).reshape(len(out), len(unknown))


SAFE = 1e-9  # the unit interval is narrowed by this: float error can only drop assignments
RUNS = 200  # runs of the other blocks' sums kept (more would only be slower, not less safe)


def _couple(blocks: list[_Block], solved: dict[str, _Solved], unit: float, chains: dict) -> None:
    """Keep only the rows whose block index some choice of the other blocks' indices turns
    into the published unit index: Σ w_b·β_b / Σ w = U ± 0.005.

    Each block's possible contributions w_b·β_b are kept as runs: sorted values whose gaps
    are at most the width of the unit's interval. A window of that width meets a run's hull
    exactly when it holds one of its values, and the sum of two runs is again a run, so the
    others' sums stay a short list of runs however many values each block has (past RUNS, a
    spread-out subset). Floats, with the interval narrowed by SAFE: rounding and the subset
    can only drop an assignment, never add one."""
    total = float(sum(b.weight for b in blocks))
    weight = {b.id: float(b.weight) / total for b in blocks}
    lo, hi = unit - 0.005 + SAFE, unit + 0.005 - SAFE
    width = hi - lo
    fixed = sum(weight[b.id] * float(solved[b.id].beta[0]) for b in blocks if not solved[b.id].unknown)
    open_ = [b.id for b in blocks if solved[b.id].unknown]
    for b in open_:
        memo = solved[b].memo
        if "runs" not in memo:
            memo["distinct"] = np.unique(np.round(solved[b].beta, 9), return_inverse=True)
            memo["runs"] = _thin_runs(*_runs(weight[b] * memo["distinct"][0], width))
    # the others' sums for each block: the runs of the blocks before it plus those after it;
    # one escalation step changes one block, so the sums over the unchanged ones are kept in
    # `chains` (the unit's: keyed by the blocks' memos, which live as long as the unit's cache)
    empty = (np.zeros(1), np.zeros(1))

    def summed(key: tuple, first: tuple, block: str) -> tuple:
        if key not in chains:
            chains[key] = _add_runs(*first, *solved[block].memo["runs"], width)
        return chains[key]

    memos = [id(solved[b].memo) for b in open_]
    before, after = [empty], [empty]
    for i, b in enumerate(open_[:-1]):
        before.append(summed(("before", *memos[:i + 1]), before[-1], b))
    for j, b in enumerate(reversed(open_[1:])):
        after.append(summed(("after", *memos[len(open_) - 1 - j:]), after[-1], b))
    for i, b in enumerate(open_):
        key = ("others", *memos[:i], None, *memos[i + 1:])
        if key not in chains:
            chains[key] = _add_runs(*before[i], *after[len(open_) - 1 - i], width)
        starts, ends = chains[key]
        values, inverse = solved[b].memo["distinct"]
        need_lo = lo - fixed - weight[b] * values
        need_hi = hi - fixed - weight[b] * values
        at = np.searchsorted(ends, need_lo)  # the first run ending at or after the window's start
        ok = at < len(ends)
        ok[ok] = starts[at[ok]] <= need_hi[ok]
        s = solved[b]
        keep = ok[inverse.reshape(-1)]
        s.ks, s.beta = s.ks[keep], s.beta[keep]


def _runs(values: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values as runs (start, end): a new run where a gap exceeds `width`."""
    values = np.sort(values)
    if not len(values):  # a block the sample found no assignment for: nothing is consistent
        return values, values
    cut = np.flatnonzero(np.diff(values) > width)
    return values[np.r_[0, cut + 1]], values[np.r_[cut, len(values) - 1]]


def _add_runs(s1, e1, s2, e2, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The runs of every sum of a value of the first and one of the second."""
    if len(s2) == 1:  # one run added to runs: they shift together, still sorted and apart
        return _thin_runs(s1 + s2[0], e1 + e2[0])
    if len(s1) == 1:
        return _thin_runs(s2 + s1[0], e2 + e1[0])
    starts = np.add.outer(s1, s2).ravel()
    ends = np.add.outer(e1, e2).ravel()
    if not len(starts):
        return starts, ends
    # any sort will do: among equal starts the order changes neither which sums open a new
    # run (a start equal to the one before is never past its reach) nor the runs' reach
    order = np.argsort(starts)
    starts, ends = starts[order], ends[order]
    reach = np.maximum.accumulate(ends)
    new = np.r_[True, starts[1:] > reach[:-1] + width]
    first = np.flatnonzero(new)
    last = np.r_[first[1:] - 1, len(starts) - 1]
    return _thin_runs(starts[first], reach[last])


def _thin_runs(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """At most RUNS runs, evenly spread, first and last kept: dropping sums is the safe side."""
    if len(starts) <= RUNS:
        return starts, ends
    _INEXACT[0] = True
    pick = np.unique(np.linspace(0, len(starts) - 1, RUNS).round().astype(np.int64))
    return starts[pick], ends[pick]
