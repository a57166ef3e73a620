"""Date-times as microseconds since 1970 (UTC), as the signals compare them.

The forms the collectors write are read digit by digit (reference_engine.score.stamps); every other
text goes to validate.parse_times, which stays the one definition of what a date-time is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from reference_engine.score.stamps import MISSING, read_fixed
from reference_engine.score.validate import parse_times

__all__ = ["MISSING", "micros", "parse_micros"]


def micros(times: pd.Series) -> np.ndarray:
    """Already-parsed UTC timestamps (NaT allowed) as int64 microseconds, MISSING for NaT."""
    return pd.DatetimeIndex(times).as_unit("us").asi8.copy()


def parse_micros(arr: pa.Array, tz) -> np.ndarray:
    """Texts (a large_string array, no nulls) as int64 UTC microseconds, MISSING where empty or
    unreadable; naive texts are read in `tz` (by parse_times)."""
    out, done = read_fixed(arr)
    length = pc.binary_length(arr).to_numpy(zero_copy_only=False)
    out[length == 0] = MISSING
    rest = np.flatnonzero(~done & (length > 0))
    if len(rest):
        texts = pd.Series(arr.take(pa.array(rest)).to_pylist(), dtype="str")
        out[rest] = micros(parse_times(texts, tz))
    return out
