"""Numbers as hailong writes them: two decimals in the data files, decimal comma on pages.

A bottom module (no hailong imports) because score writes the files with these rules and
publish reads and shows the same figures: both must round exactly alike.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_CENT = Decimal("0.01")


def two_decimals(value: float) -> str:
    """A number as the files print it: two decimals, halves rounded up (15.625 -> 15.63), as a
    person or a spreadsheet rounds; the shortest repr is rounded, not the binary value, so
    66.665 prints 66.67 as it reads."""
    return str(Decimal(repr(float(value))).quantize(_CENT, rounding=ROUND_HALF_UP))


def cents(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each value in hundredths as two_decimals rounds it, int64; which values that holds for:
    the others, the few within a hair of a half hundredth, the huge and the non-finite, are
    for two_decimals itself). A value's shortest repr is within half an ulp of it and v × 100
    is off by another ulp at most, so under 10^7 the two round alike unless v × 100 lies
    within 10^-6 of a half (tests/test_numbers.py checks this against two_decimals)."""
    v = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        c = v * 100.0
        whole = np.floor(c)
        sure = (np.abs(v) < 1e7) & (np.abs(c - whole - 0.5) > 1e-6)
    return np.where(sure, whole + (c - whole > 0.5), 0).astype(np.int64), sure


def two_decimals_array(values: np.ndarray) -> np.ndarray:
    """two_decimals of each value (object array of str), without a Decimal per value."""
    v = np.asarray(values, dtype=float)
    hundredths, sure = cents(v)
    size = np.abs(hundredths)
    text = pc.binary_join_element_wise(
        pa.array(np.where(np.signbit(v), "-", "")),  # Decimal keeps the sign of -0.001: -0.00
        pc.cast(pa.array(size // 100), pa.string()), ".",
        pc.utf8_lpad(pc.cast(pa.array(size % 100), pa.string()), 2, "0"), "")
    out = text.to_numpy(zero_copy_only=False).astype(object)
    for i in np.flatnonzero(~sure):
        out[i] = two_decimals(v[i])
    return out


def round2(values: np.ndarray) -> np.ndarray:
    """Round as the files print them, so a tie on the page is a tie in the ranking (the value
    two_decimals prints, as a float: hundredths / 100 is the float nearest that decimal)."""
    v = np.asarray(values, dtype=float)
    hundredths, sure = cents(v)
    out = np.copysign(np.abs(hundredths) / 100.0, v)
    for i in np.flatnonzero(~sure):
        out[i] = float(two_decimals(v[i])) if not np.isnan(v[i]) else np.nan
    return out


def fmt(value: float | None, digits: int = 2) -> str:
    """A number written the Vietnamese way (decimal comma): 85.3 -> '85,30'."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


def int_vi(value) -> str:
    """A whole number with dots between thousands: 10600 -> '10.600'."""
    return f"{int(value):,}".replace(",", ".")
