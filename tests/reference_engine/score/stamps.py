"""The date-times the collectors write, read digit by digit with numpy.

The collector stamps submitted_at as 2024-06-12T08:15:00+07:00 and the page's started_at is
JavaScript's 2024-06-12T01:15:00.123Z (or ...:00Z). At ten million rows pandas' ISO 8601
parser and the regular expressions that pick the form took a quarter of validation, so these
three forms are read here as bytes. `read_fixed` only says it read a text when it is sure: a
text of another form or with an impossible field (month 13, 31 February, hour 24, an offset
past 14 hours) is left for validate.parse_times, which stays the one definition of a
date-time and gives the same instant for every text read here (tests/test_stamps.py).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from reference_engine.ingest.responses import text_buffers

MISSING = np.iinfo(np.int64).min  # no time (NaT's own int64 value)


def read_fixed(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(int64 UTC microseconds, which texts were read) for a large_string array without
    nulls; MISSING where not read."""
    offsets, raw = text_buffers(arr)
    start, length = offsets[:-1], np.diff(offsets)
    n = len(arr)
    out = np.full(n, MISSING, dtype=np.int64)
    read = np.zeros(n, dtype=bool)
    at = np.flatnonzero((length == 25) | (length == 20) | (length == 24))
    if not len(at):
        return out, read
    b = _grid(raw, start, length, at)  # b[k]: byte k of each cell, contiguous
    d = b - np.uint8(48)  # a digit's value; any other byte wraps above 9
    ok = np.ones(len(at), dtype=bool)
    for k, sep in zip(_SEPS, b"--T::", strict=True):
        ok &= b[k] == sep
    for k in _DIGITS:
        ok &= d[k] <= 9

    def two(k: int) -> np.ndarray:
        return d[k] * np.uint8(10) + d[k + 1]  # garbage where not digits, masked by ok

    year = two(0).astype(np.int32) * 100 + two(2)
    month, day = two(5), two(8)
    hour, minute, second = two(11), two(14), two(17)
    row = np.clip(year - _FIRST_YEAR, 0, len(_CALENDAR) - 1) * (13 * 32)
    days = _CALENDAR.reshape(-1)[row + np.minimum(month, 12).astype(np.int32) * 32
                                 + np.minimum(day, 31)]
    # month 13 or day 45 would clip onto a real date: out of range is not read here
    ok &= (month <= 12) & (day <= 31)
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


def _grid(raw: np.ndarray, start: np.ndarray, length: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Bytes 0..24 of the cells at `at` as 25 contiguous rows (0 past a cell's end); no
    gather when every cell is 25 bytes, end to end, as a column of one format is."""
    first = start[at]
    if len(at) == len(start) and (length == 25).all():
        block = raw[first[0]:first[0] + 25 * len(at)].reshape(len(at), 25)
        grid = np.empty((25, len(at)), dtype=np.uint8)
        for i in range(0, len(at), 4096):  # in blocks: a cache-sized transpose is 2x faster
            grid[:, i:i + 4096] = block[i:i + 4096].T
        return grid
    grid = np.empty((25, len(at)), dtype=np.uint8)
    size = length[at]
    last = max(len(raw) - 1, 0)
    for k in range(25):
        grid[k] = np.where(size > k, raw[np.minimum(first + k, last)], np.uint8(0))
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
