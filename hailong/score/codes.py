"""Column-wise work on frames of Arrow-backed text that pandas does row by row or slowly.

`factorize`: scoring reads each distinct text once and spread the verdicts by
code. Answer columns hold one character or none ("1".."5", "", "0"), and at ten million rows
their factorizing was seconds: such a column's codes come straight from its bytes.
`rows_where`: a frame's rows under a mask, each text column filtered by Arrow, three times as
fast as pandas' own boolean indexing of the same columns.
`Cells` and `text_hash` (first written for the signals): a column's bytes read with numpy, a
cell's length and its bytes eight at a time, and a 64-bit hash of each cell that depends on
that cell alone (so chunks of one file agree). A cell whose first or last byte may be white
space (anything but printable ASCII) is first trimmed by the Arrow kernel that pandas'
`str.strip()` uses, so "stripped" means exactly what it did before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.ingest.responses import arrow_cells, text_buffers

EMPTY = 256  # the key of an empty cell, after the 256 byte values


def factorize(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(codes, distinct texts): distinct[codes[i]] is row i's text, code -1 for a missing
    cell; as pd.factorize gives them but for the order of the distinct texts."""
    if not len(column) or column.hasnans:
        codes, uniques = pd.factorize(column.astype("str"))
        return codes, list(uniques)
    arr = arrow_cells(column)
    offsets, data = text_buffers(arr)
    length = np.diff(offsets)
    longer = np.flatnonzero(length > 1)
    if len(longer) * 4 > len(length):  # not an answer column: pandas' hash table
        codes, uniques = pd.factorize(column.astype("str"))
        return codes, list(uniques)
    at = np.minimum(offsets[:-1], max(len(data) - 1, 0))
    byte = data[at].astype(np.intp) if len(data) else np.zeros(len(at), np.intp)
    key = np.where(length == 1, byte, EMPTY)
    key[longer] = EMPTY + 1  # counted apart below
    present = np.flatnonzero(np.bincount(key, minlength=EMPTY + 2)[:EMPTY + 1])
    remap = np.full(EMPTY + 2, -1, dtype=np.intp)
    remap[present] = np.arange(len(present))
    codes = remap[key]
    # a one-byte UTF-8 cell is an ASCII character
    distinct = ["" if k == EMPTY else chr(k) for k in present]
    if len(longer):  # the few longer texts (" 4", "5.0", "sáu"): by pandas, numbered after
        more, texts = pd.factorize(pd.Series(pd.array(arr.take(pa.array(longer)), dtype="str")))
        codes[longer] = more + len(distinct)
        distinct += list(texts)
    return codes, distinct


def rows_where(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """frame[mask] as a new frame: the same columns, dtypes and index labels."""
    mask = np.asarray(mask, dtype=bool)
    keep = pa.array(mask)
    at = None
    data = {}
    for name in frame.columns:
        column = frame[name]
        arrow = getattr(column.array, "__arrow_array__", None)
        if column.dtype == "str" and arrow is not None:
            data[name] = pd.array(arrow().filter(keep), dtype="str")
        else:
            at = np.flatnonzero(mask) if at is None else at
            data[name] = column.iloc[at].array
    out = pd.DataFrame(data, index=frame.index[mask], columns=frame.columns, copy=False)
    out.attrs = dict(frame.attrs)
    return out


def _edgy(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Cells (start, length in `data`) whose first or last byte is not printable ASCII."""
    head = data[np.minimum(start, len(data) - 1)]
    tail = data[np.clip(start + length - 1, 0, len(data) - 1)]
    odd = (head < 0x21) | (head > 0x7E) | (tail < 0x21) | (tail > 0x7E)
    return odd & (length > 0)


U64 = np.uint64
ALL = U64(0xFFFF_FFFF_FFFF_FFFF)


def mix(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every bit (wraps by design)."""
    z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
    return z ^ (z >> U64(31))


class Cells:
    """One text column's bytes: `length` per cell, `byte(k)` and `word(k)` at offset k."""

    def __init__(self, arr: pa.Array):
        offsets, raw = text_buffers(arr)
        first, last = (int(offsets[0]), int(offsets[-1])) if len(offsets) else (0, 0)
        # a copy padded with 8 zero bytes, so a word read at any cell start stays inside
        self.data = np.zeros(last - first + 8, dtype=np.uint8)
        self.data[:last - first] = raw[first:last]
        self.start = offsets[:-1] - first
        self.length = np.diff(offsets)
        self.arr = arr

    @classmethod
    def stripped(cls, arr: pa.Array) -> Cells:
        """Cells of the column with white space trimmed at both ends (only read again if some
        cell could need it)."""
        cells = cls(arr)
        if cells.edgy().any():
            cells = cls(pc.utf8_trim_whitespace(arr).cast(pa.large_string()))
        return cells

    def __len__(self) -> int:
        return len(self.length)

    def byte(self, k: int) -> np.ndarray:
        """Byte k of each cell (0 past its end)."""
        return np.where(self.length > k, self.data[np.minimum(self.start + k, len(self.data) - 1)], 0)

    def word(self, k: int) -> np.ndarray:
        """Bytes k..k+7 of each cell as a little-endian uint64, zero past the cell's end."""
        view = np.ndarray((len(self.data) - 7,), dtype="<u8", buffer=self.data, strides=(1,))
        at = np.minimum(self.start + k, len(view) - 1)
        left = np.clip(self.length - k, 0, 8).astype(U64)
        keep = np.where(left >= 8, ALL, (U64(1) << (np.minimum(left, 7) * U64(8))) - U64(1))
        return view[at] & keep

    def edgy(self) -> np.ndarray:
        """Cells whose first or last byte is not printable ASCII (so may be white space)."""
        return _edgy(self.data, self.start, self.length)


def text_hash(cells: Cells) -> np.ndarray:
    """A 64-bit hash of each cell's bytes, never 0 for a non-empty cell and 0 for an empty one.
    Equal texts give equal hashes; two different texts share one with odds of about 2**-64."""
    h = mix(cells.length.astype(U64) * U64(0x9E3779B97F4A7C15))
    longest = int(cells.length.max()) if len(cells) else 0
    for k in range(0, longest, 8):
        h = np.where(cells.length > k, mix(h ^ cells.word(k)), h)
    h[h == 0] = 1
    h[cells.length == 0] = 0
    return h
