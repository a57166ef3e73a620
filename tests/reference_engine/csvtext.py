"""CSV records that hold any text, and where the last complete record of a file ends.

The csv module, with "\\n" as the line end, leaves a cell holding a lone carriage return
unquoted; every CSV reader (the csv module itself, pyarrow, spreadsheets) then takes that CR
as the end of the row, so one answer became two torn rows. `line` quotes a cell holding any
CR or LF (and, as the csv module does, a comma or a quote), and writes nothing else
differently, so files written before keep the same bytes.

Other characters are kept as they are (tabs, NUL, form feed, U+2028…: no CSV reader splits a
row on them), except unpaired UTF-16 surrogates, which UTF-8 cannot hold: `clean` replaces
each with U+FFFD.

A record ends at a "\\n" outside quotes. Because a writer quotes with doubled quotes only, a
"\\n" is outside quotes exactly when the number of quote characters before it is even, so the
end of the last complete record is found with byte counts rather than parsing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

_NEEDS_QUOTES = re.compile(r'[",\r\n]')


def cell(text: str) -> str:
    """One cell as a CSV field (quoted only where needed)."""
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def line(cells: Sequence[str]) -> str:
    """One CSV record and its "\\n"; a lone empty cell is written `""` so it is not a blank line."""
    if len(cells) == 1 and cells[0] == "":
        return '""\n'
    return ",".join(cell(c) for c in cells) + "\n"


def clean(text: str) -> str:
    """`text` with every unpaired surrogate replaced by U+FFFD (UTF-8 cannot hold one)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def record_end(data: bytes | bytearray | memoryview, start: int = 0) -> int:
    """The offset just past the last complete record in data[start:] (a "\\n" outside quotes),
    or `start` when there is none; data[start] must begin a record."""
    end = pos = start
    odd = False
    for piece in bytes(data[start:]).split(b"\n")[:-1]:
        if piece.count(b'"') & 1:
            odd = not odd
        pos += len(piece) + 1
        if not odd:
            end = pos
    return end


def records(data: bytes) -> Iterator[bytes]:
    """The complete records of `data` (each without its "\\n"); a torn tail is left out."""
    pending: list[bytes] = []
    odd = False
    for piece in data.split(b"\n")[:-1]:
        pending.append(piece)
        if piece.count(b'"') % 2:
            odd = not odd
        if not odd:
            yield b"\n".join(pending)
            pending = []


DIGEST_BLOCK = 1 << 24  # 16 MiB read at a time: hashing and counting stay in flat memory


def digest(path, block: int = DIGEST_BLOCK) -> tuple[int, str]:
    """(records after the header, SHA-256 hex) of a CSV file hailong wrote, in one pass.

    A record ends at a "\\n" outside quotes (see the module's note): a cell holding a line
    break is one record, not two. The quotes before each "\\n" are counted with a binary
    search over the block's quote positions, so 1.7 GB are counted at the speed of reading."""
    import hashlib

    import numpy as np

    sha = hashlib.sha256()
    ends = 0
    odd = 0
    last = b"\n"
    with open(path, "rb", buffering=0) as fh:
        while True:
            data = fh.read(block)
            if not data:
                break
            sha.update(data)
            last = data[-1:]
            raw = np.frombuffer(data, dtype=np.uint8)
            quotes = np.flatnonzero(raw == 0x22)
            lines = np.flatnonzero(raw == 0x0A)
            if len(lines):
                before = np.searchsorted(quotes, lines) + odd
                ends += int(np.count_nonzero((before & 1) == 0))
            odd = (odd + len(quotes)) & 1
    if last != b"\n":  # a last record without its line end still counts
        ends += 1
    return max(ends - 1, 0), sha.hexdigest()


def record_lines(data: bytes) -> list[int]:
    """The physical line (1-based) on which each record of `data` starts, header included:
    record r of a file is on line record_lines(data)[r]."""
    starts = []
    line = 1
    odd = False
    fresh = True
    for piece in data.split(b"\n"):
        if fresh:
            starts.append(line)
        if piece.count(b'"') & 1:
            odd = not odd
        fresh = not odd
        line += 1
    return starts
