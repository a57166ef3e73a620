"""Date-times as microseconds since 1970 (UTC), the forms the collectors write read by numpy.

The collector stamps submitted_at as 2024-06-12T08:15:00+07:00 and the page's started_at is
JavaScript's 2024-06-12T01:15:00.123Z; those (and ...:00Z) are read here digit by digit. Every
other text goes to validate.parse_times, which stays the one definition of what a date-time
is: for the forms read here it gives the same instant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from hailong.score.signals.cells import Cells
from hailong.score.validate import parse_times

MISSING = np.iinfo(np.int64).min  # no time (NaT's own int64 value)


def micros(times: pd.Series) -> np.ndarray:
    """Already-parsed UTC timestamps (NaT allowed) as int64 microseconds, MISSING for NaT."""
    return pd.DatetimeIndex(times).as_unit("us").asi8.copy()


def parse_micros(arr: pa.Array, tz) -> np.ndarray:
    """Texts (a large_string array, no nulls) as int64 UTC microseconds, MISSING where empty or
    unreadable; naive texts are read in `tz` (by parse_times)."""
    cells = Cells(arr)
    out, done = _fixed(cells)
    out[cells.length == 0] = MISSING
    rest = np.flatnonzero(~done & (cells.length > 0))
    if len(rest):
        texts = pd.Series(arr.take(pa.array(rest)).to_pylist(), dtype="str")
        out[rest] = micros(parse_times(texts, tz))
    return out


def _fixed(cells: Cells) -> tuple[np.ndarray, np.ndarray]:
    """YYYY-MM-DDTHH:MM:SS then +HH:MM / -HH:MM, Z or .mmmZ: (microseconds, which were read)."""
    n = len(cells)
    out = np.full(n, MISSING, dtype=np.int64)
    read = np.zeros(n, dtype=bool)
    length = cells.length
    at = np.flatnonzero((length == 25) | (length == 20) | (length == 24))
    if not len(at):
        return out, read
    b = _grid(cells, at)  # b[k]: byte k of each cell, contiguous
    d = b - np.uint8(48)  # a digit's value; any other byte wraps above 9
    ok = np.ones(len(at), dtype=bool)
    for k, sep in zip(_SEPS, b"--T::", strict=True):
        ok &= b[k] == sep
    for k in _DIGITS:
        ok &= d[k] <= 9

    def two(k: int) -> np.ndarray:
        return d[k] * np.uint8(10) + d[k + 1]  # garbage where not digits, masked by ok

    year = two(0).astype(np.int32) * 100 + two(2)
    hour, minute, second = two(11), two(14), two(17)
    row = np.clip(year - _FIRST_YEAR, 0, len(_CALENDAR) - 1) * (13 * 32)
    days = _CALENDAR.reshape(-1)[row + np.minimum(two(5), 12).astype(np.int32) * 32
                                 + np.minimum(two(8), 31)]
    ok &= (days != MISSING) & (year >= _FIRST_YEAR) & (year < _FIRST_YEAR + len(_CALENDAR))
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)

    size, sign = length[at], b[19]
    oh, om = two(20), two(23)
    offset = ((sign == 43) | (sign == 45)) & (size == 25) & (b[22] == 58)
    offset &= (d[20] <= 9) & (d[21] <= 9) & (d[23] <= 9) & (d[24] <= 9) & (oh <= 14) & (om <= 59)
    zulu = (sign == 90) & (size == 20)
    millis = (sign == 46) & (size == 24) & (d[20] <= 9) & (d[21] <= 9) & (d[22] <= 9) & (b[23] == 90)
    ok &= offset | zulu | millis

    clock = hour.astype(np.int32) * 3600 + minute.astype(np.int32) * 60 + second
    shift = oh.astype(np.int32) * 3600 + om.astype(np.int32) * 60
    clock -= np.where(offset, np.where(sign == 45, -shift, shift), 0)
    micro = (days * 86400 + clock) * 1_000_000
    if millis.any():
        ms = two(20).astype(np.int64) * 10 + d[22]
        micro += np.where(millis, ms * 1000, 0)
    read[at[ok]] = True
    out[at[ok]] = micro[ok]
    return out, read


_SEPS = [4, 7, 10, 13, 16]
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]


def _grid(cells: Cells, at: np.ndarray) -> np.ndarray:
    """Bytes 0..24 of the cells at `at` as 25 contiguous rows (0 past a cell's end); no
    gather when every cell is 25 bytes, end to end, as a column of one format is."""
    start = cells.start[at]
    if len(at) == len(cells) and (cells.length == 25).all():
        block = cells.data[start[0]:start[0] + 25 * len(at)].reshape(len(at), 25)
        grid = np.empty((25, len(at)), dtype=np.uint8)
        for i in range(0, len(at), 4096):  # in blocks: a cache-sized transpose is 2x faster
            grid[:, i:i + 4096] = block[i:i + 4096].T
        return grid
    grid = np.empty((25, len(at)), dtype=np.uint8)
    size = cells.length[at]
    for k in range(25):
        grid[k] = np.where(size > k, cells.data[start + k], np.uint8(0))
    return grid


def _calendar(first: int, years: int) -> np.ndarray:
    """Days from 1970-01-01 of each valid [year - first, month, day]; MISSING elsewhere."""
    months = np.datetime64(f"{first:04d}-01", "M") + np.arange(years * 12 + 1)
    starts = months.astype("datetime64[D]").astype(np.int64)
    lengths = np.diff(starts).reshape(years, 12)
    day = np.arange(32)
    table = np.full((years, 13, 32), MISSING, dtype=np.int64)
    dates = starts[:-1].reshape(years, 12, 1) + day - 1
    table[:, 1:, :] = np.where((day >= 1) & (day <= lengths[:, :, None]), dates, MISSING)
    return table


_FIRST_YEAR = 1900
_CALENDAR = _calendar(_FIRST_YEAR, 301)  # 1900..2200: whatever else goes to parse_times
