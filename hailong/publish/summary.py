"""The national summary: what the ranking page shows instead of every unit when there are
too many for one page (a national survey has 10,600), one line per province (`parent`).

Each province's own page keeps the full ranking of its units; the whole national table is in
the downloads (ranking.csv, ranking.xlsx). The rank shown per unit stays the national rank.
"""

from __future__ import annotations

from dataclasses import dataclass

from hailong.publish.results import UnitResult

# Above this many units the ranking page is a summary by province: a page of 300 rows is
# about 250 kB, the most a cheap phone on 3G should be asked to load (the cap is 1 MB).
PAGED_ABOVE = 300


@dataclass
class Province:
    """One line of the summary: a `parent` of units.csv and the figures of its units."""

    name: str
    slug: str
    units: int
    ranked: int
    responses: int
    average: float | None  # mean index of its ranked units
    best: UnitResult | None
    worst: UnitResult | None


def paged(units: list[UnitResult], districts: list[tuple[str, str, int]]) -> bool:
    """Whether the ranking is paged by province: many units, and provinces to page them by."""
    return len(units) > PAGED_ABOVE and len(districts) > 1


def provinces(units: list[UnitResult], districts: list[tuple[str, str, int]]) -> list[Province]:
    """A line per province in the order of `districts` (units.csv's order); units without a
    parent are left out here and counted by `without_parent`."""
    by_name: dict[str, list[UnitResult]] = {}
    for u in units:
        by_name.setdefault(u.district, []).append(u)
    out = []
    for name, s, _ in districts:
        members = by_name.get(name, [])
        ranked = [u for u in members if u.ranked and u.index is not None]
        ordered = sorted(ranked, key=lambda u: (u.rank, u.code))
        out.append(Province(
            name, s, len(members), len(ranked), sum(u.n for u in members),
            sum(u.index for u in ranked) / len(ranked) if ranked else None,
            ordered[0] if ordered else None, ordered[-1] if len(ordered) > 1 else None))
    return out


def without_parent(units: list[UnitResult]) -> int:
    return sum(1 for u in units if not u.district)
