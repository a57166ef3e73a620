"""The attacker of issue 9 part 5: from the published numbers alone, every whole-number
assignment behind a unit's figures that reproduces all of them.

Written apart from hailong.publish.withhold, on purpose another way: one brute-force product
over all of a unit's withheld questions (blocks apart only where nothing ties them: the unit
index withheld), floats first and exact fractions at the rounding boundaries.

What the attacker knows, per unit: every question's answer count and published value (or
that it is withheld), every block index and the unit index as published (two decimals, or
withheld), the block weights, the scale and the scoring method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

LIMIT = 3_000_000  # assignments one brute-force product may hold


@dataclass
class Published:
    index: float | None
    blocks: dict[str, float | None]
    questions: dict[str, tuple[float | None, int]]  # qid -> (value, answers)


@dataclass
class Structure:
    blocks: list[tuple[str, Fraction]]  # (block id, weight)
    block_of: dict[str, str]  # scale question -> block
    span: int  # 1 (percent_satisfied) or max - min (mean_score)


def structure(survey) -> Structure:
    span = 1 if survey.scoring.method == "percent_satisfied" else survey.scale.max - survey.scale.min
    return Structure([(b.id, Fraction(str(b.weight))) for b in survey.blocks],
                     {q.id: q.block for q in survey.scale_questions}, span)


class TooLarge(Exception):
    pass


class Inconsistent(AssertionError):
    """No whole numbers reproduce the page (within the bounds the attacker assumed)."""


Bounds = dict[str, tuple[int, int]]  # qid -> (lowest, highest) k the attacker knows of


def spreads(s: Structure, pub: Published, bounds: Bounds | None = None,
            found: dict[str, tuple[int, int]] | None = None) -> dict[tuple[str, str], Fraction]:
    """(kind, id) -> max − min of the consistent values of each withheld figure: ("q", qid),
    ("b", block id), ("u", ""). With `bounds` (the differencing attacker) a withheld k is
    looked for only inside them; `found` gets every question's consistent k range."""
    qs = {q: (v, a) for q, (v, a) in pub.questions.items() if a > 0}
    denom = {q: a * s.span for q, (_, a) in qs.items()}
    known = {q: round(v * denom[q] / 100) for q, (v, _) in qs.items() if v is not None}
    unknown = [q for q, (v, _) in qs.items() if v is None]
    box = {q: (0, denom[q]) for q in unknown}
    for q, (lo, hi) in (bounds or {}).items():
        if q in box:
            box[q] = (max(0, lo), min(denom[q], hi))
            if box[q][0] > box[q][1]:
                raise Inconsistent(q)
    if found is not None:
        found.update({q: (k, k) for q, k in known.items()})
    valued = [(b, w) for b, w in s.blocks if any(s.block_of[q] == b for q in qs)]
    out: dict[tuple[str, str], Fraction] = {}
    if not valued:
        return out
    if pub.index is not None:
        groups = [unknown]
    else:
        groups = [[q for q in unknown if s.block_of[q] == b] for b, _ in valued]
    ranges: dict[str, tuple[Fraction, Fraction]] = {}
    for group in groups:
        if not group and pub.index is None:
            continue
        result = _enumerate(s, pub, qs, denom, known, group, valued, box)
        if found is not None:
            found.update({k[1]: v for k, v in result.items() if k[0] == "k"})
        out.update({k: v for k, v in result.items() if k[0] == "q"})
        ranges.update({k[1]: v for k, v in result.items() if k[0] == "range"})
    for b, _ in valued:
        if pub.blocks.get(b) is None:
            low, high = ranges.get(b, (0, 0))
            out[("b", b)] = high - low
    if pub.index is None:
        total = sum(w for _, w in valued)
        out[("u", "")] = sum(w / total * (ranges[b][1] - ranges[b][0]) if b in ranges else 0
                             for b, w in valued)
    return out


def _enumerate(s, pub, qs, denom, known, group, valued, box) -> dict:
    """Brute force over `group`'s whole numbers (inside `box`); the blocks the group touches
    (all of them when the unit index is published) must reproduce their published figures."""
    blocks = [b for b, _ in valued] if pub.index is not None else sorted({s.block_of[q] for q in group})
    size = math.prod(box[q][1] - box[q][0] + 1 for q in group)
    # a withheld block whose unit index is withheld: nothing ties its questions
    free = pub.index is None and all(pub.blocks.get(b) is None for b in blocks)
    if free:
        res = {("q", q): Fraction(100 * (box[q][1] - box[q][0]), denom[q]) for q in group}
        res.update({("k", q): box[q] for q in group})
        for b in blocks:
            qids = [q for q in qs if s.block_of[q] == b]
            lo = sum(Fraction(100 * (known[q] if q in known else box[q][0]), denom[q]) for q in qids)
            hi = sum(Fraction(100 * (known[q] if q in known else box[q][1]), denom[q]) for q in qids)
            res[("range", b)] = (lo / len(qids), hi / len(qids))
        return res
    if size > LIMIT:
        raise TooLarge(f"{size} assignments")
    grids = (np.meshgrid(*(np.arange(box[q][0], box[q][1] + 1) for q in group), indexing="ij")
             if group else [])
    ks = {q: g.reshape(-1) for q, g in zip(group, grids, strict=True)}
    rows = size
    beta = {}
    ok = np.ones(rows, dtype=bool)
    border = np.zeros(rows, dtype=bool)
    for b in blocks:
        qids = [q for q in qs if s.block_of[q] == b]
        total = np.zeros(rows)
        for q in qids:
            total = total + (100.0 * ks[q] / denom[q] if q in ks else 100.0 * known[q] / denom[q])
        beta[b] = total / len(qids)
        if pub.blocks.get(b) is not None:
            gap = np.abs(beta[b] - pub.blocks[b])
            ok &= gap <= 0.005 + 1e-7
            border |= np.abs(gap - 0.005) <= 1e-7
    if pub.index is not None:
        weights = dict(valued)
        wsum = float(sum(weights.values()))
        unit = sum(float(weights[b]) * beta[b] for b in blocks) / wsum
        gap = np.abs(unit - pub.index)
        ok &= gap <= 0.005 + 1e-7
        border |= np.abs(gap - 0.005) <= 1e-7
    for i in np.flatnonzero(ok & border):  # exact fractions where floats cannot decide
        ok[i] = _exact(s, pub, qs, denom, known, {q: int(ks[q][i]) for q in group}, blocks, valued)
    if not ok.any():
        raise Inconsistent("no assignment reproduces the published figures")
    res = {}
    for q in group:
        values = ks[q][ok]
        res[("q", q)] = Fraction(100 * int(values.max() - values.min()), denom[q])
        res[("k", q)] = (int(values.min()), int(values.max()))
    for b in blocks:
        qids = [q for q in qs if s.block_of[q] == b]
        mine = [q for q in qids if q in ks]
        fixed = sum(Fraction(100 * known[q], denom[q]) for q in qids if q not in ks)
        combos = np.unique(np.stack([ks[q][ok] for q in mine], axis=1), axis=0) if mine else [[]]
        values = [(fixed + sum(Fraction(100 * int(c), denom[q]) for q, c in zip(mine, row, strict=True)))
                  / len(qids) for row in combos]
        res[("range", b)] = (min(values), max(values))
    return res


def _exact(s, pub, qs, denom, known, k, blocks, valued) -> bool:
    half = Fraction(1, 200)
    beta = {}
    for b in blocks:
        qids = [q for q in qs if s.block_of[q] == b]
        beta[b] = sum(Fraction(100 * (k[q] if q in k else known[q]), denom[q]) for q in qids) / len(qids)
        if pub.blocks.get(b) is not None and abs(beta[b] - Fraction(str(pub.blocks[b]))) > half:
            return False
    if pub.index is not None:
        weights = dict(valued)
        unit = sum(weights[b] * beta[b] for b in blocks) / sum(weights.values())
        if abs(unit - Fraction(str(pub.index))) > half:
            return False
    return True


def spreads_ilp(s: Structure, pub: Published, shrink: float = 1e-6, bounds: Bounds | None = None,
                found: dict[str, tuple[int, int]] | None = None) -> dict[tuple[str, str], Fraction]:
    """The same question answered by integer programming (HiGHS through scipy), for units too
    large to list: each withheld figure minimised and maximised over whole numbers under every
    published figure. The published intervals are narrowed by `shrink` and every optimum is
    rounded and checked again with exact fractions on the true intervals, so the spread found
    is that of two assignments that really reproduce the page (at most the true spread)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    qs = {q: (v, a) for q, (v, a) in pub.questions.items() if a > 0}
    denom = {q: a * s.span for q, (_, a) in qs.items()}
    known = {q: round(v * denom[q] / 100) for q, (v, _) in qs.items() if v is not None}
    unknown = [q for q, (v, _) in qs.items() if v is None]
    valued = [(b, w) for b, w in s.blocks if any(s.block_of[q] == b for q in qs)]
    if not valued:
        return {}
    members = {b: [q for q in qs if s.block_of[q] == b] for b, _ in valued}
    total = float(sum(w for _, w in valued))
    col = {q: i for i, q in enumerate(unknown)}

    def row_of(block: str) -> tuple[np.ndarray, float]:
        """β_b = row · k + constant."""
        r = np.zeros(len(unknown))
        const = 0.0
        m = len(members[block])
        for q in members[block]:
            if q in col:
                r[col[q]] = 100.0 / (denom[q] * m)
            else:
                const += 100.0 * known[q] / (denom[q] * m)
        return r, const

    rows, lo, hi = [], [], []
    unit_row, unit_const = np.zeros(len(unknown)), 0.0
    for b, w in valued:
        r, c = row_of(b)
        unit_row += float(w) / total * r
        unit_const += float(w) / total * c
        if pub.blocks.get(b) is not None and r.any():
            rows.append(r)
            lo.append(pub.blocks[b] - 0.005 + shrink - c)
            hi.append(pub.blocks[b] + 0.005 - shrink - c)
    if pub.index is not None and unit_row.any():
        rows.append(unit_row)
        lo.append(pub.index - 0.005 + shrink - unit_const)
        hi.append(pub.index + 0.005 - shrink - unit_const)
    targets: dict[tuple[str, str], tuple[np.ndarray, float]] = {}
    for q in unknown:
        e = np.zeros(len(unknown))
        e[col[q]] = 100.0 / denom[q]
        targets[("q", q)] = (e, 0.0)
    for b, _ in valued:
        if pub.blocks.get(b) is None:
            targets[("b", b)] = row_of(b)
    if pub.index is None:
        targets[("u", "")] = (unit_row, unit_const)
    out = {}
    cons = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
    box = {q: (0, denom[q]) for q in unknown}
    for q, (a, b) in (bounds or {}).items():
        if q in box:
            box[q] = (max(0, a), min(denom[q], b))
            if box[q][0] > box[q][1]:
                raise Inconsistent(q)
    limits = Bounds(np.array([box[q][0] for q in unknown], dtype=float),
                    np.array([box[q][1] for q in unknown], dtype=float))
    if found is not None:
        found.update({q: (k, k) for q, k in known.items()})
    for key, (objective, _) in targets.items():
        if not unknown or not objective.any():
            out[key] = Fraction(0)
            continue
        values = []
        for sign in (1, -1):
            res = milp(sign * objective, constraints=cons, bounds=limits,
                       integrality=np.ones(len(unknown)), options={"mip_rel_gap": 0})
            if res.status != 0:
                raise Inconsistent(f"no whole numbers reproduce the page ({res.message})")
            k = {q: int(round(res.x[col[q]])) for q in unknown}
            if not _exact(s, pub, qs, denom, known, k, [b for b, _ in valued], valued):
                raise AssertionError("an optimum does not reproduce the page exactly")
            values.append(_figure(key, k, qs, denom, known, members, valued, s))
            if found is not None and key[0] == "q":
                low, high = found.get(key[1], (k[key[1]], k[key[1]]))
                found[key[1]] = (min(low, k[key[1]]), max(high, k[key[1]]))
        out[key] = max(values) - min(values)
    return out


def _figure(key, k, qs, denom, known, members, valued, s) -> Fraction:
    def beta(b):
        return sum(Fraction(100 * (k[q] if q in k else known[q]), denom[q])
                   for q in members[b]) / len(members[b])
    kind, name = key
    if kind == "q":
        return Fraction(100 * k[name], denom[name])
    if kind == "b":
        return beta(name)
    total = sum(w for _, w in valued)
    return sum(w * beta(b) for b, w in valued) / total


# -- the differencing attacker (issue 21) -------------------------------------------------------

def published_unit(entry: dict) -> Published:
    """One unit of a ranking.json as the enumerating attacker reads it."""
    return Published(entry["index"], dict(entry["blocks"]),
                     {q: (c["value"], c["answers"]) for q, c in entry["questions"].items()})


def _single(s: Structure, pub: Published, bounds: Bounds, found: dict) -> None:
    try:
        spreads(s, pub, bounds, found)
    except TooLarge:
        spreads_ilp(s, pub, bounds=bounds, found=found)


def _reach(lo: int, hi: int, delta: int, span: int) -> tuple[int, int]:
    """Where k can be after `delta` more answers (fewer: delta < 0), from k in [lo, hi]: the
    attacker's favourite model, no answer removed while answers grew (none added while they
    fell)."""
    step = span * abs(delta)
    return (lo, hi + step) if delta >= 0 else (lo - step, hi)


def differencing(s: Structure, docs: list[dict], min_cell: int, margin: Fraction,
                 passes: int = 4) -> tuple[int, list[tuple]]:
    """Every unit over every release (ranking.json documents, oldest first): each release's
    whole numbers are enumerated inside the bounds the other releases set, the bounds are
    tightened from the result, until nothing changes. Then (checked, failures):
    - a difference cell between any two releases resting on 1..min_cell − 1 answers whose
      consistent values lie less than `margin` apart (someone's answers given back);
    - a withheld cell whose consistent values lie less than `margin` apart, unless a release
      that shows the cell with at least min_cell answers pins it that close by itself
      (then the difference cell is what must stay open, above);
    - a unit whose answer-derived figures differ between two releases whose n differ by
      fewer than min_cell."""
    failures: list[tuple] = []
    checked = 0
    codes = sorted({u["unit_code"] for doc in docs for u in doc["units"]})
    for code in codes:
        entries = [next((u for u in doc["units"] if u["unit_code"] == code), None) for doc in docs]
        pubs = [None if e is None else published_unit(e) for e in entries]
        answers = [{} if p is None else {q: a for q, (_, a) in p.questions.items() if a > 0} for p in pubs]
        ranges: list[dict] = [{} for _ in pubs]
        # what each release itself says is left open of its withheld cells
        told: list[Bounds] = [{} if e is None else
                              {q: (round(lo * answers[r][q] * s.span / 100), round(hi * answers[r][q] * s.span / 100))
                               for q, (lo, hi) in (e.get("bounds") or {}).items() if q in answers[r]}
                              for r, e in enumerate(entries)]
        bounds: list[Bounds] = [dict(t) for t in told]
        for _ in range(passes):
            for r, pub in enumerate(pubs):
                if pub is None:
                    continue
                found: dict = {}
                try:
                    _single(s, pub, bounds[r], found)
                except Inconsistent:  # the model (no removals) is wrong here: bounds dropped
                    found = {}
                    _single(s, pub, {}, found)
                ranges[r] = found
            new = [dict() for _ in pubs]
            for r in range(len(pubs)):
                for q, a in answers[r].items():
                    lo, hi = told[r].get(q, (0, a * s.span))
                    for t in range(len(pubs)):
                        if t != r and q in ranges[t] and q in answers[t]:
                            a_lo, a_hi = _reach(*ranges[t][q], a - answers[t][q], s.span)
                            lo, hi = max(lo, a_lo), min(hi, a_hi)
                    new[r][q] = (lo, hi)
            if new == bounds:
                break
            bounds = new
        for r in range(len(pubs)):
            for t in range(r + 1, len(pubs)):
                if pubs[r] is None or pubs[t] is None:
                    continue
                if _figures(entries[r]) != _figures(entries[t]) and abs(entries[t]["n"] - entries[r]["n"]) < min_cell:
                    failures.append((code, "moved", r, t))
                for q in answers[r].keys() & answers[t].keys():
                    delta = answers[t][q] - answers[r][q]
                    if not 0 < abs(delta) < min_cell or q not in ranges[r] or q not in ranges[t]:
                        continue
                    checked += 1
                    (lo_r, hi_r), (lo_t, hi_t) = ranges[r][q], ranges[t][q]
                    step = s.span * abs(delta)
                    if delta > 0:
                        gap = (max(0, lo_t - hi_r), min(step, hi_t - lo_r))
                    else:
                        gap = (max(0, lo_r - hi_t), min(step, hi_r - lo_t))
                    if Fraction(100 * max(0, gap[1] - gap[0]), step) < margin:
                        failures.append((code, "difference", q, r, t, gap))
            if pubs[r] is None:
                continue
            for q, (value, a) in pubs[r].questions.items():
                if value is not None or a == 0 or q not in ranges[r]:
                    continue
                checked += 1
                lo, hi = ranges[r][q]
                d = a * s.span
                if Fraction(100 * (hi - lo), d) >= margin:
                    continue
                pinned = any(pubs[t] is not None and pubs[t].questions.get(q, (None, 0))[0] is not None
                             and pubs[t].questions[q][1] >= min_cell
                             and Fraction(100 * s.span * abs(pubs[t].questions[q][1] - a), d) < margin
                             for t in range(len(pubs)) if t != r)
                if not pinned:
                    failures.append((code, "withheld", q, r, (lo, hi), d))
    return checked, failures


def _figures(entry: dict) -> tuple:
    """A unit's answer-derived figures as one value (n and responses apart)."""
    return (entry["index"], entry["ci_low"], entry["ci_high"], tuple(sorted(entry["blocks"].items())),
            tuple(sorted((q, c["value"], c["answers"]) for q, c in entry["questions"].items())),
            tuple(sorted(entry["types"].items())))
