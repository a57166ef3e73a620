"""Contract section 5, steps 8 (rank range) and 9 (change), on hand-worked figures."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.score.scoring import competition_rank
from hailong.stats import clearly_above, rank_ranges, rank_ranges_pairwise, significant_change


def ranges(*units):
    index, low, high = (np.array(x, dtype=float) for x in zip(*units, strict=True))
    got = rank_ranges(index, low, high)
    assert [a.tolist() for a in got] == [a.tolist() for a in rank_ranges_pairwise(index, low, high)]
    return list(zip(got[0].tolist(), got[1].tolist(), strict=True))


def test_two_units_exactly_at_the_edge_are_not_told_apart():
    # widths 3 and 4: se = 3/3.92 and 4/3.92, 1.96 × √(se² + se²) = ½ × √(9 + 16) = 2.50
    assert not clearly_above(80.00, 78.50, 81.50, 77.50, 75.50, 79.50)  # gap 2.50: not more
    assert ranges((80.00, 78.50, 81.50), (77.50, 75.50, 79.50)) == [(1, 2), (1, 2)]
    # one hundredth more and the gap is more than 2.50
    assert clearly_above(80.00, 78.50, 81.50, 77.49, 75.49, 79.49)
    assert ranges((80.00, 78.50, 81.50), (77.49, 75.49, 79.49)) == [(1, 1), (2, 2)]


def test_equal_indices_are_never_clearly_apart():
    # zero-width intervals (fewer than two respondents) and equal indices: still a tie
    assert ranges((70.0, 70.0, 70.0), (70.0, 70.0, 70.0)) == [(1, 2), (1, 2)]
    assert ranges((70.0, 60.0, 80.0), (70.0, 69.0, 71.0)) == [(1, 2), (1, 2)]


def test_one_ranked_unit_is_first_of_one():
    assert ranges((55.0, 40.0, 70.0)) == [(1, 1)]


def test_a_worked_example_of_five_units():
    # A is clearly above C, D, E; B overlaps A; E is clearly below all
    units = [(90.0, 86.0, 94.0),   # A: w 8
             (86.0, 80.0, 92.0),   # B: w 12, A − B = 4 ≤ ½√(64 + 144) = 7.21
             (80.0, 76.0, 84.0),   # C: A − C = 10 > 5.66; B − C = 6 ≤ 7.21
             (78.0, 70.0, 86.0),   # D: w 16, A − D = 12 > 8.94, B − D = 8 ≤ 10, C − D = 2
             (50.0, 45.0, 55.0)]   # E: far below everyone
    assert ranges(*units) == [(1, 2), (1, 4), (2, 4), (2, 4), (5, 5)]


def test_change_is_significant_by_step_9_not_by_overlap():
    # intervals 70–80 and 78–88 overlap, but 8 > ½√(100 + 100) = 7.07: a clear change
    assert significant_change(83.0, 78.0, 88.0, 75.0, 70.0, 80.0)
    assert significant_change(75.0, 70.0, 80.0, 83.0, 78.0, 88.0)  # either direction
    assert not significant_change(82.0, 77.0, 87.0, 75.0, 70.0, 80.0)  # 7 ≤ 7.07
    # at the edge exactly (widths 3 and 4, gap 2.50): not significant
    assert not significant_change(80.00, 78.50, 81.50, 77.50, 75.50, 79.50)
    assert not significant_change(60.0, 60.0, 60.0, 60.0, 60.0, 60.0)


cents = st.integers(0, 10_000)


@st.composite
def rankings(draw):
    m = draw(st.integers(1, 60))
    out = []
    for _ in range(m):
        index = draw(cents)
        below, above = draw(st.integers(0, index)), draw(st.integers(0, 10_000 - index))
        out.append((index / 100, (index - below) / 100, (index + above) / 100))
    return out


@settings(max_examples=300, deadline=None)
@given(units=rankings())
def test_rank_range_holds_the_rank(units):
    index = np.array([u[0] for u in units])
    low, high = rank_ranges(index, np.array([u[1] for u in units]), np.array([u[2] for u in units]))
    rank = competition_rank(index)
    assert (low <= rank).all() and (rank <= high).all()
    assert (low >= 1).all() and (high <= len(units)).all()
    pair = rank_ranges_pairwise(index, np.array([u[1] for u in units]), np.array([u[2] for u in units]))
    assert low.tolist() == pair[0].tolist() and high.tolist() == pair[1].tolist()
