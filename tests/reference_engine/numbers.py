"""Numbers as hailong writes them: two decimals in the data files, decimal comma on pages.

A bottom module (no hailong imports) because score writes the files with these rules and
publish reads and shows the same figures: both must round exactly alike.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

_CENT = Decimal("0.01")


def two_decimals(value: float) -> str:
    """A number as the files print it: two decimals, halves rounded up (15.625 -> 15.63), as a
    person or a spreadsheet rounds; the shortest repr is rounded, not the binary value, so
    66.665 prints 66.67 as it reads."""
    return str(Decimal(repr(float(value))).quantize(_CENT, rounding=ROUND_HALF_UP))


def round2(values: np.ndarray) -> np.ndarray:
    """Round as the files print them, so a tie on the page is a tie in the ranking."""
    return np.array([float(two_decimals(v)) if not np.isnan(v) else np.nan for v in values],
                    dtype=float)


def fmt(value: float | None, digits: int = 2) -> str:
    """A number written the Vietnamese way (decimal comma): 85.3 -> '85,30'."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}".replace(".", ",")


def int_vi(value) -> str:
    """A whole number with dots between thousands: 10600 -> '10.600'."""
    return f"{int(value):,}".replace(",", ".")
