"""The national summary: what the ranking page shows instead of every unit when there are
too many for one page (a national survey has 10,600), one line per province (`parent`).

Each province's own page keeps the full ranking of its units; the whole national table is in
the downloads (ranking.csv, ranking.xlsx). The rank shown per unit stays the national rank.
"""

from __future__ import annotations

import json
import statistics
import unicodedata
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
    median: float | None  # index of its median ranked unit: one strong unit cannot lift it
    best: UnitResult | None
    worst: UnitResult | None


def paged(units: list[UnitResult], districts: list[tuple[str, str, int]]) -> bool:
    """Whether the ranking is paged by province: many units, and provinces to page them by."""
    return len(units) > PAGED_ABOVE and len(districts) > 1


# Vietnamese alphabetical order: ă, â, đ, ê, ô, ơ, ư are letters of their own, and tones only
# break ties (An Giang < Bắc Ninh < Cà Mau < Đà Nẵng < Điện Biên), as a reader expects a list
# of provinces to run; Python's code-point order would put every Đ after Y.
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_LETTERS = {c: i for i, c in enumerate(_ALPHABET)}
_SHAPES = {"\u0306": "ă", "\u0302": "^", "\u031b": "ư"}  # breve, circumflex, horn
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_SHAPED = {("a", "ă"): "ă", ("a", "^"): "â", ("e", "^"): "ê", ("o", "^"): "ô", ("o", "ư"): "ơ",
           ("u", "ư"): "ư"}


def vi_key(text: str) -> tuple:
    """A sort key giving Vietnamese dictionary order to names."""
    letters, tones = [], []
    for ch in text.lower():
        parts = unicodedata.normalize("NFD", ch)
        base, tone = parts[0], 0
        for mark in parts[1:]:
            if mark in _SHAPES:
                base = _SHAPED.get((base, _SHAPES[mark]), base)
            tone = _TONES.get(mark, tone)
        # a space ends a word, so before any letter (Cà Mau < Cao Bằng)
        letters.append(-1 if base.isspace() else _LETTERS.get(base, 100 + ord(base)))
        tones.append(tone)
    return tuple(letters), tuple(tones)


def provinces(units: list[UnitResult], districts: list[tuple[str, str, int]]) -> list[Province]:
    """A line per province in Vietnamese alphabetical order of their names (the page says so;
    its table re-sorts by any column); units without a parent are left out here and counted
    by `without_parent`."""
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
            statistics.median(u.index for u in ranked) if ranked else None,
            ordered[0] if ordered else None, ordered[-1] if len(ordered) > 1 else None))
    return sorted(out, key=lambda p: vi_key(p.name))


def without_parent(units: list[UnitResult]) -> int:
    return sum(1 for u in units if not u.district)


SEARCH_FILE = "don-vi.js"  # ket-qua/don-vi.js: the units' names for the summary's search box


def search_index(units: list[UnitResult]) -> bytes:
    """The search box's data as a script (a script loads from a file:// page and from any static
    host, where fetch() of a JSON file would not from file://): [code, name, province] per unit,
    all of them figures ranking.json holds too. Loaded only when the reader starts to search."""
    rows = [[u.code, u.name, u.district or ""] for u in units]
    text = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    # U+2028 and U+2029 end a line in older JavaScript: escaped, a name stays one string
    text = text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return ("window.hailongUnits=" + text + ";\n").encode("utf-8")
