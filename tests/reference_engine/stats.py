"""The contract's interval (section 5, step 5) and its rules on the published two-decimal
numbers (steps 8 and 9).

Step 5 (v3) is Korn and Graubard's rule for a proportion from a clustered sample: a
Clopper-Pearson interval on an effective sample size, with the design effect pooled over the
survey (`design_effect`, `korn_graubard`). It is computed on whole arrays of units (scipy's
Beta and Student-t quantiles are vectorised), so ten thousand units cost one call.

Both rules read only index, ci_low and ci_high as ranking.csv prints them, so anyone can check
them from the file, and score (rank ranges) and publish (ranges among the units it shows,
changes between periods) apply them identically. A bottom module: no hailong imports.

With se = (ci_high − ci_low) / 3.92 and 1.96 / 3.92 = 1/2 exactly, "a − b > 1.96 × √(se_a² +
se_b²)" is "2(a − b) > √(w_a² + w_b²)" for the interval widths w, i.e. a > b and
4(a − b)² > w_a² + w_b². In whole hundredths every term is an integer, so the test is exact:
two units just at the edge are decided the same way on every machine.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

BUCKET = 100  # hundredths of interval width per bucket in `_clear`


Z975 = 1.959964  # the 97.5% normal quantile the contract names (step 5)


def t975(df) -> float:
    """The 97.5% quantile of Student's t with `df` degrees of freedom."""
    from scipy.special import stdtrit  # here: 0.2 s of import that most commands never need

    return float(stdtrit(df, 0.975))


def design_effect_of_units(index, sd, k) -> tuple[np.ndarray, np.ndarray]:
    """(d, informative) per unit (step 5): a unit with k ≥ 2 scored respondents is informative
    when 0 < p < 1 and s > 0 (p = index / 100, s = sd / 100); its design effect is
    d = s² / (p(1 − p)), NaN elsewhere."""
    p = np.asarray(index, dtype=float) / 100.0
    s = np.asarray(sd, dtype=float) / 100.0
    k = np.asarray(k, dtype=float)
    with np.errstate(all="ignore"):
        informative = (k >= 2) & (p > 0) & (p < 1) & (s > 0)
        d = np.where(informative, s * s / (p * (1 - p)), np.nan)
    return d, informative


def design_effect(index, sd, k) -> float:
    """D: the median of d over the survey's informative units, 1 when there is none."""
    d, informative = design_effect_of_units(index, sd, k)
    return float(np.median(d[informative])) if informative.any() else 1.0


def korn_graubard(index, sd, k, design: float, questions: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 5 (v3), in index points: (ci_low, ci_high) of each unit (see `interval_parts`)."""
    parts = interval_parts(index, sd, k, design, questions)
    return parts.low, parts.high


class IntervalParts(NamedTuple):
    """Per unit: d (NaN unless informative), deff, the effective size n (NaN where k < 2),
    and the interval's ends in index points."""
    d: np.ndarray
    deff: np.ndarray
    n: np.ndarray
    low: np.ndarray
    high: np.ndarray


def interval_parts(index, sd, k, design: float, questions: int) -> IntervalParts:
    """Step 5 (v3) given each unit's index (0–100), the sd of its respondents' scores
    (ddof = 1, in points), k (respondents with a score), the survey's pooled design effect D
    (`design`) and Q (`questions`, its scale questions).

    deff = (d + D) / 2 for an informative unit, else D; then at least 1 / Q (k respondents never
    carry more information than their k × Q answers). n = (k / deff) × (1.959964 / t)², t the
    97.5% Student-t quantile with k − 1 degrees of freedom; x = p × n; Clopper-Pearson:
    B(0.025; x, n − x + 1) (0 when x = 0) and B(0.975; x + 1, n − x) (1 when x = n). Where
    k < 2 or the index has no value: the index itself."""
    from scipy.special import betaincinv, stdtrit  # here: 0.2 s of import most commands skip

    index = np.asarray(index, dtype=float)
    p = index / 100.0
    k = np.asarray(k, dtype=float)
    d, informative = design_effect_of_units(index, sd, k)
    deff = np.where(informative, (d + design) / 2.0, design)
    deff = np.maximum(deff, 1.0 / max(int(questions), 1))
    some = (k >= 2) & ~np.isnan(p)
    with np.errstate(all="ignore"):
        t = stdtrit(np.where(some, k - 1, 1.0), 0.975)
        n = np.where(some, (k / deff) * (Z975 / t) ** 2, np.nan)
        x = p * n
        low = np.where(x > 0, betaincinv(x, n - x + 1, 0.025), 0.0)
        high = np.where(x < n, betaincinv(x + 1, n - x, 0.975), 1.0)
    low = np.where(some, 100.0 * low, index)
    high = np.where(some, 100.0 * high, index)
    return IntervalParts(d, np.where(some, deff, np.nan), n, low, high)


def hundredths(values) -> np.ndarray:
    """Two-decimal numbers as whole hundredths (int64); the values must have no NaN."""
    return np.rint(np.asarray(values, dtype=float) * 100).astype(np.int64)


def clearly_above(a: float, a_low: float, a_high: float,
                  b: float, b_low: float, b_high: float) -> bool:
    """True when a is clearly above b (step 8): a − b > 1.96 × √(se_a² + se_b²)."""
    ia, a_lo, a_hi, ib, b_lo, b_hi = hundredths([a, a_low, a_high, b, b_low, b_high]).tolist()
    # widths from the rounded ends, as in rank_ranges: 80.01 − 77.01 is 300 hundredths exactly
    wa, wb, d = a_hi - a_lo, b_hi - b_lo, ia - ib
    return d > 0 and 4 * d * d > wa * wa + wb * wb


def significant_change(now: float, now_low: float, now_high: float,
                       before: float, before_low: float, before_high: float) -> bool:
    """Step 9: |now − before| > 1.96 × √(se_now² + se_before²)."""
    return (clearly_above(now, now_low, now_high, before, before_low, before_high)
            or clearly_above(before, before_low, before_high, now, now_low, now_high))


def rank_ranges(index, ci_low, ci_high) -> tuple[np.ndarray, np.ndarray]:
    """(rank_low, rank_high) of each ranked unit (step 8), given their two-decimal figures.

    rank_low = 1 + the units clearly above, rank_high = the number of units − the units
    clearly below."""
    idx = hundredths(index)
    width = hundredths(ci_high) - hundredths(ci_low)
    m = len(idx)
    return 1 + _clear(idx, width, +1), m - _clear(idx, width, -1)


def _clear(idx: np.ndarray, width: np.ndarray, side: int) -> np.ndarray:
    """For each unit i, how many units j are clearly above it (side +1) or below it (−1).

    All pairs at once would be 10,600² cells. Instead the units are put in buckets of one
    point of interval width; within a bucket the threshold ½√(w_i² + w_j²) lies between two
    bounds, so for every i a binary search counts the units certainly beyond the upper bound,
    and only the few between the bounds are tested exactly (in integers)."""
    m = len(idx)
    counts = np.zeros(m, dtype=np.int64)
    w2 = width.astype(np.int64) ** 2
    rows_all = np.arange(m)
    key = width // BUCKET
    for bucket in np.unique(key):
        members = np.flatnonzero(key == bucket)
        members = members[np.argsort(idx[members], kind="stable")]
        a, aw2 = idx[members], w2[members]
        # one hundredth of margin each way: float error cannot move a pair across
        t_lo = np.floor(0.5 * np.sqrt(w2 + aw2.min())).astype(np.int64) - 1
        t_hi = np.ceil(0.5 * np.sqrt(w2 + aw2.max())).astype(np.int64) + 1
        if side > 0:
            sure = np.searchsorted(a, idx + t_hi, side="right")
            start = np.searchsorted(a, idx + t_lo, side="right")
            counts += len(a) - sure
            stop = sure
        else:
            sure = np.searchsorted(a, idx - t_hi, side="left")
            stop = np.searchsorted(a, idx - t_lo, side="left")
            counts += sure
            start = sure
        lens = np.maximum(stop - start, 0)
        total = int(lens.sum())
        if not total:
            continue
        rows = np.repeat(rows_all, lens)
        offsets = np.repeat(np.cumsum(lens) - lens, lens)
        pos = np.repeat(start, lens) + (np.arange(total) - offsets)
        d = side * (a[pos] - idx[rows])
        clear = (d > 0) & (4 * d * d > w2[rows] + aw2[pos])
        counts += np.bincount(rows, weights=clear, minlength=m).astype(np.int64)
    return counts


def rank_ranges_pairwise(index, ci_low, ci_high) -> tuple[np.ndarray, np.ndarray]:
    """The same ranges by comparing every pair (m² work): the plain reading of step 8, kept
    to check `rank_ranges` against."""
    idx = hundredths(index)
    width = hundredths(ci_high) - hundredths(ci_low)
    d = idx[None, :] - idx[:, None]  # d[i, j] = index_j − index_i
    s = width[:, None] ** 2 + width[None, :] ** 2
    above = ((d > 0) & (4 * d * d > s)).sum(axis=1)
    below = ((d < 0) & (4 * d * d > s)).sum(axis=1)
    return 1 + above, len(idx) - below
