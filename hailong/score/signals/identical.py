"""identical: answer sets that repeat another answer of the same unit exactly.

Only answers to at least `min_answers` questions count (two people giving the same two
answers is no sign). Two rules; the sign fires on either:
- share: `count` is the answers that repeat an earlier one: per unit, the rows long enough
  less their distinct answer sets (equal sets are equally long), whatever the order; fires
  above `identical_share` of the unit's answers;
- chance (issue 22: 22 all-5 ballots spread over a day among honest answers stayed under the
  share): one answer set given at least `min_count` times at a unit, more often than it could
  be by chance where it is common elsewhere. Its usual share is the 90th percentile of its
  share at the other units with at least USUAL_ROWS answers (a set common at the best-rated
  units is not suspect at another good one); the sign fires when the binomial tail of the
  unit's count at that share, times the unit's distinct sets (Bonferroni), is below
  `identical_alpha` (0: this rule is off). `count` is then that set's answers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.score.queries import identical_counts
from hailong.score.signals.base import Fired, Rows, answers, percent, share_counts
from hailong.score.signals.ticket_uptake import tail
from hailong.survey.load import Survey

NAME = "identical"
USUAL_ROWS = 10  # a unit with fewer long-enough answers tells nothing of a set's usual share
OTHER_UNITS = 5  # fewer other units to compare with: the chance rule stays silent


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    places = max(len(rows.n), 1)
    per_unit, pairs = identical_counts(answers(rows), cfg.min_answers, cfg.min_count)
    at = per_unit.column("unit").to_numpy()
    sizes = np.zeros(places, dtype=np.int64)  # each unit's answers long enough
    distinct = np.zeros(places, dtype=np.int64)  # the distinct sets they gave
    sizes[at] = per_unit.column("answers").to_numpy()
    distinct[at] = per_unit.column("sets").to_numpy()
    fired = dict(share_counts(rows, sizes - distinct, cfg.min_count, cfg.identical_share))
    out = [Fired(int(u), c, (
        f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) có câu trả lời giống hệt một phiếu "
        f"khác của đơn vị, quá mức {cfg.identical_share:.0%}"))
        for u, c in sorted(fired.items())]
    common = (pairs.column("vector").to_numpy(), pairs.column("unit").to_numpy().astype(np.int64),
              pairs.column("given").to_numpy())
    for u, c, usual in _by_chance(common, sizes, distinct, cfg):
        if u in fired:
            continue
        out.append(Fired(u, c, (
            f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) có cùng một bộ câu trả lời, "
            f"trong khi ở các đơn vị khác bộ câu trả lời này chiếm nhiều nhất khoảng "
            f"{usual:.0%}: khó là ngẫu nhiên")))
    return sorted(out, key=lambda f: f.unit)


def _by_chance(pairs: tuple[np.ndarray, np.ndarray, np.ndarray], sizes: np.ndarray,
               distinct: np.ndarray, cfg) -> list[tuple[int, int, float]]:
    """(unit, count, usual share) of each unit's most unlikely answer set, where the chance
    rule fires. `pairs`: (set, unit, count) of the sets given at least min_count times in all
    (IDENTICAL_COMMON); `sizes` and `distinct`: each unit's answers long enough and distinct
    sets. Vectorised over pairs: a national survey has millions."""
    alpha = cfg.identical_alpha
    if alpha <= 0 or not sizes.any():
        return []
    vs, us, counts = pairs
    big = sizes >= USUAL_ROWS
    m = int(big.sum()) - 1  # the other units with a usual share, for any unit that has one
    suspect = counts >= cfg.min_count
    if not suspect.any() or m < OTHER_UNITS:
        return []
    wanted = np.isin(vs, np.unique(vs[suspect])) & big[us]
    # per wanted set: its shares at the large units that gave it, sorted (zeros elsewhere)
    table = pd.DataFrame({"v": vs[wanted], "share": counts[wanted] / sizes[us[wanted]]})
    sorted_shares = {v: np.sort(g.to_numpy()) for v, g in table.groupby("v")["share"]}
    best: dict[int, tuple[float, int, float]] = {}
    for v, u, c in zip(vs[suspect], us[suspect], counts[suspect], strict=True):
        here = c / sizes[u] if big[u] else None
        usual = _quantile_without(sorted_shares.get(v, np.zeros(0)), here, m + (0 if big[u] else 1))
        usual = max(usual, 1 / (int(sizes[big].sum()) + 1))
        if c <= usual * sizes[u]:  # not above what is usual: nothing to test
            continue
        p = tail(int(c), int(sizes[u]), usual) * max(int(distinct[u]), 1)
        if p < alpha and (u not in best or p < best[u][0]):
            best[int(u)] = (p, int(c), usual)
    return [(u, c, usual) for u, (p, c, usual) in sorted(best.items())]


def _quantile_without(shares: np.ndarray, own: float | None, others: int, q: float = 0.9) -> float:
    """The q-quantile (linear, as numpy's) of the shares of `others` units: `shares` (sorted,
    the units that gave the set, `own` among them unless None) less `own`, and zeros for the
    rest."""
    if own is not None:
        at = int(np.searchsorted(shares, own))
        shares = np.concatenate([shares[:at], shares[at + 1:]])
    zeros = others - len(shares)

    def value(k: int) -> float:
        return 0.0 if k < zeros else float(shares[k - zeros])

    pos = q * (others - 1)
    low = int(np.floor(pos))
    high = min(low + 1, others - 1)
    return value(low) + (value(high) - value(low)) * (pos - low)
