"""ticket_uptake: far more of a unit's slips came back as answers than the survey's usual share.

An office that answers with slips nobody took (extra slips printed, slips of visitors who did
not answer) raises its share of slips used. The usual share is the upper quartile of the
shares of the units that issued at least USUAL_MIN slips: offices differ (busy or quiet
counters, visitors keen or not) by more than chance, so a median would flag the honest upper
half, and a quartile is not moved by a few stuffing units. The sign fires
when the unit's used slips would be this many or more with probability below `uptake_alpha`
(binomial tail at the usual share) and exceed the usual count by at least `min_count`;
`count` is that excess, the answers beyond what the usual share explains.

What it cannot see: a unit where few of the slips were used honestly keeps room below the
usual share (a handful of fakes there looks ordinary), and a survey where every unit stuffs
has no usual share to compare with.
"""

from __future__ import annotations

import math

import numpy as np

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows
from reference_engine.score.signals.ticketing import Evidence

NAME = "ticket_uptake"
USUAL_MIN = 10  # a unit with fewer slips issued says little about the usual share
USUAL_QUANTILE = 0.75


def tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): the terms from k up, each from the one before
    (pmf(i + 1) = pmf(i) (n - i) / (i + 1) p / q), summed in log space with numpy."""
    if k <= 0:
        return 1.0
    if k > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    first = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lp + (n - k) * lq
    i = np.arange(k, n, dtype=float)
    logs = np.concatenate([[first], first + np.cumsum(np.log((n - i) / (i + 1)) + lp - lq)])
    top = logs.max()
    return float(min(1.0, math.exp(top) * np.exp(logs - top).sum()))


def usual_share(ev: Evidence) -> float | None:
    enough = ev.issued >= USUAL_MIN
    if not enough.any():
        return None
    shares = np.minimum(ev.used[enough], ev.issued[enough]) / ev.issued[enough]
    return float(np.quantile(shares, USUAL_QUANTILE))


def find(rows: Rows, survey: Survey, ev: Evidence) -> list[Fired]:
    cfg = survey.signals
    usual = usual_share(ev) if ev.known else None
    if usual is None:
        return []
    out = []
    for u in np.flatnonzero(ev.issued):
        issued, used = int(ev.issued[u]), int(ev.used[u])
        excess = used - usual * issued
        if excess < cfg.min_count or tail(used, issued, usual) >= cfg.uptake_alpha:
            continue
        count = int(math.floor(excess))
        out.append(Fired(int(u), count, (
            f"{used} trong {issued} vé đã phát được dùng để trả lời ({used / issued:.0%}), trong "
            f"khi thường chỉ {usual:.0%} số vé được dùng: khoảng {count} phiếu nhiều hơn mức "
            "thường thấy; cần kiểm tra vé thừa được giữ ở đâu")))
    return out
