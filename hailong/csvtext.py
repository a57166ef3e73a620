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
