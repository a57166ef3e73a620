"""hailong.numbers: the array forms give exactly what two_decimals gives value by value."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from hailong.numbers import cents, round2, two_decimals, two_decimals_array

# values a ranking holds (0..100, often exact fractions such as 200/3), halves of hundredths
# and their neighbours, signs, zeros, the large and NaN (two_decimals itself refuses an
# infinity or a value past 28 digits)
FRACTIONS = st.builds(lambda a, b: 100 * a / b, st.integers(0, 5000), st.integers(1, 5000))
HALVES = st.builds(lambda k, s: (k + 0.5) / 100 * s, st.integers(0, 10**6), st.sampled_from([1, -1]))
NEAR = HALVES.map(lambda v: math.nextafter(v, math.inf if v > 0 else -math.inf))
VALUES = st.one_of(FRACTIONS, HALVES, NEAR, st.floats(-1e15, 1e15) | st.just(math.nan),
                   st.sampled_from([0.0, -0.0, -0.001, 0.005, 66.665, 15.625, 1e7, -1e12]))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


@given(st.lists(VALUES, max_size=50))
def test_two_decimals_array_is_two_decimals_of_each_value(values):
    assert two_decimals_array(np.array(values, dtype=float)).tolist() == [
        two_decimals(v) for v in values]


@given(st.lists(VALUES, max_size=50))
def test_round2_is_the_float_of_what_two_decimals_prints(values):
    got = round2(np.array(values, dtype=float))
    for v, r in zip(values, got.tolist(), strict=True):
        assert _same(r, float(two_decimals(v)) if not math.isnan(v) else math.nan), v


def test_values_next_to_a_half_go_to_the_exact_rule():
    # 66.665 is 66.66499999... in binary, yet prints 66.67: its repr is what is rounded
    hundredths, sure = cents(np.array([66.665, 66.664, 1e8, np.nan]))
    assert sure.tolist() == [False, True, False, False]
    assert hundredths[1] == 6666
    assert two_decimals_array(np.array([66.665, -0.001, -0.0, 0.0])).tolist() == [
        "66.67", "-0.00", "-0.00", "0.00"]
