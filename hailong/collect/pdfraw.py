"""Split and merge plain PDFs (as Chromium's Skia and pypdf write them) by copying object bytes.

pypdf parses and re-serializes every object it copies: cutting 10,600 posters into one file
each re-wrote the batch's embedded fonts 10,600 times. A PDF with a single classic
cross-reference table (no update sections, no object or xref streams, no encryption) can be cut
by byte ranges instead: a page's file is the objects it uses copied verbatim, under their own
numbers, plus a new page tree and catalogue. Merging renumbers the references in the
dictionaries (strings and stream data are never touched). Anything else raises NotPlain, and
hailong.collect.pdf falls back to pypdf.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"\s*(\d+) (\d+)\s*?[\r\n]+")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_HEADER = re.compile(rb"(\d+)\s+0\s+obj\b")
# What the reference scanner stops at: a string, hex string, comment, reference or the stream.
_TOKEN = re.compile(rb"[(%]|(?<!<)<(?!<)|(?<![\d.+-])(\d+)\s+(\d+)\s+R(?![^\s/<>\[\]()%])"
                    rb"|(?<![^\s>])stream(?=\r\n|\n|\r)")
_PARENT = re.compile(rb"/Parent\s+\d+\s+\d+\s+R")
_INHERITED = re.compile(rb"/(?:Resources|MediaBox|CropBox|Rotate)\b")


class NotPlain(Exception):
    """The PDF is not in the simple form handled here (pypdf will do it)."""


class RawPdf:
    """A PDF's objects as byte ranges, with its pages in order."""

    def __init__(self, data: bytes):
        self.data = data
        self.version = data[:8] if re.match(rb"%PDF-\d\.\d", data[:8]) else b"%PDF-1.4"
        tail = _STARTXREF.search(data, max(0, len(data) - 1024))
        if not tail:
            raise NotPlain("no startxref")
        xref = int(tail.group(1))
        if data[xref:xref + 4] != b"xref":
            raise NotPlain("cross-reference stream")
        offsets, pos = {}, xref + 4
        while (section := _SUBSECTION.match(data, pos)) is not None:
            first, count = int(section.group(1)), int(section.group(2))
            pos = section.end()
            for number in range(first, first + count):
                entry = _ENTRY.match(data, pos)
                if entry is None:
                    raise NotPlain("bad xref entry")
                if entry.group(3) == b"n":
                    if entry.group(2) != b"00000":
                        raise NotPlain("object generation above 0")
                    offsets[number] = int(entry.group(1))
                pos = entry.end() + 2
                while data[pos - 1:pos] not in (b"\n", b"\r"):
                    pos -= 1  # an entry ended by one byte of end-of-line, as some writers do
        trailer = data[pos:tail.start()]
        if not trailer.lstrip().startswith(b"trailer") or re.search(rb"/(?:Prev|XRefStm|Encrypt)\b", trailer):
            raise NotPlain("updated, hybrid or encrypted")
        root = re.search(rb"/Root\s+(\d+)\s+0\s+R", trailer)
        if root is None:
            raise NotPlain("no /Root")
        if any(start > xref for start in offsets.values()):
            raise NotPlain("objects after the cross-reference table")
        ends = sorted(offsets.values()) + [xref]
        end_of = dict(zip(ends, ends[1:], strict=False))
        self.spans: dict[int, tuple[int, int, int]] = {}  # number -> (start, head start, end)
        for number, start in offsets.items():
            header = _HEADER.match(data, start)
            if header is None or int(header.group(1)) != number:
                raise NotPlain(f"object {number} is not at its offset")
            self.spans[number] = (start, header.end(), end_of[start])
        self._refs: dict[int, tuple[list[tuple[int, int, int]], int]] = {}
        self.size = max(self.spans, default=0) + 1
        self.pages: list[int] = []
        self._tree: set[int] = set()
        self._walk(self._only_ref(int(root.group(1)), rb"/Pages"), depth=0)

    def raw(self, number: int) -> bytes:
        start, _head, end = self.spans[number]
        return self.data[start:end]

    def refs(self, number: int) -> tuple[list[tuple[int, int, int]], int]:
        """([(start, end, referenced number)], end of the dictionary part) in the data."""
        if number not in self._refs:
            if number not in self.spans:
                raise NotPlain(f"reference to missing object {number}")
            _start, pos, end = self.spans[number]
            found, data = [], self.data
            while (token := _TOKEN.search(data, pos, end)) is not None:
                text = token.group(0)
                if token.group(1) is not None:
                    if token.group(2) != b"0":
                        raise NotPlain("object generation above 0")
                    found.append((token.start(), token.end(), int(token.group(1))))
                    pos = token.end()
                elif text == b"stream":
                    end = token.start()
                    break
                else:
                    pos = _skip(data, token.start(), end)
            self._refs[number] = (found, end)
        return self._refs[number]

    def _only_ref(self, number: int, key: bytes) -> int:
        _start, head, end = self.spans[number]
        found = re.search(key + rb"\s+(\d+)\s+0\s+R", self.data[head:end])
        if found is None:
            raise NotPlain(f"object {number} has no {key.decode()}")
        return int(found.group(1))

    def _walk(self, number: int, depth: int) -> None:
        if depth > 64 or number in self._tree or number not in self.spans:
            raise NotPlain("page tree")
        self._tree.add(number)
        _start, head, end = self.spans[number]
        body = self.data[head:end]
        if re.search(rb"/Type\s*/Page(?![s\w])", body):
            self.pages.append(number)
            return
        kids = re.search(rb"/Kids\s*\[([^\]]*)\]", body)
        if kids is None or _INHERITED.search(body):
            raise NotPlain("page tree node with inherited attributes or no kids")
        for kid in re.findall(rb"(\d+)\s+0\s+R", kids.group(1)):
            self._walk(int(kid), depth + 1)

    def closure(self, page: int) -> list[int]:
        """The page and every object it uses, in number order (not its parent)."""
        seen, todo = {page}, [page]
        parent = _PARENT.search(self.data, self.spans[page][1], self.spans[page][2])
        while todo:
            number = todo.pop()
            for start, _end, ref in self.refs(number)[0]:
                if parent is not None and number == page and start >= parent.start() \
                        and start < parent.end():
                    continue
                if ref not in seen:
                    if ref in self._tree:
                        raise NotPlain("a page refers to another page")
                    seen.add(ref)
                    todo.append(ref)
        return sorted(seen)

    def renumbered(self, number: int, new: dict[int, int], parent: int) -> bytes:
        """Object `number` written as new[number], its references mapped through `new` (a
        page's parent becomes `parent`)."""
        _start, head, end = self.spans[number]
        refs = self.refs(number)[0]
        data, parts, pos = self.data, [b"%d 0 obj" % new[number]], head
        for ref_start, ref_end, ref in refs:
            parts.append(data[pos:ref_start])
            parts.append(b"%d 0 R" % (parent if ref in self._tree else new[ref]))
            pos = ref_end
        parts.append(data[pos:end])
        return b"".join(parts)


def _skip(data: bytes, pos: int, end: int) -> int:
    """The position after the string, hex string or comment starting at pos."""
    first = data[pos:pos + 1]
    if first == b"%":
        newline = re.compile(rb"[\r\n]").search(data, pos, end)
        return newline.end() if newline else end
    if first == b"<":
        close = data.find(b">", pos, end)
        return end if close < 0 else close + 1
    depth, pos = 0, pos
    while pos < end:
        ch = data[pos]
        if ch == 0x5C:  # backslash: the next byte is escaped
            pos += 2
            continue
        if ch == 0x28:
            depth += 1
        elif ch == 0x29:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return end


def _document(version: bytes, objects: list[tuple[int, bytes]], root: int) -> bytes:
    """A PDF of the (number, `n 0 obj … endobj` bytes) objects, with an xref table."""
    out = [version + b"\n%\xe2\xe3\xcf\xd3\n"]
    at = len(out[0])
    offsets = {}
    for number, raw in sorted(objects):
        offsets[number] = at
        if not raw.endswith(b"\n"):
            raw += b"\n"
        out.append(raw)
        at += len(raw)
    size = max(offsets) + 1
    table = [b"xref\n0 1\n0000000000 65535 f \n"]
    numbers = sorted(offsets)
    run_start = 0
    for i in range(1, len(numbers) + 1):
        if i == len(numbers) or numbers[i] != numbers[i - 1] + 1:
            table.append(b"%d %d\n" % (numbers[run_start], i - run_start))
            table.extend(b"%010d 00000 n \n" % offsets[n] for n in numbers[run_start:i])
            run_start = i
    table.append(b"trailer\n<</Size %d /Root %d 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, at))
    return b"".join(out) + b"".join(table)


def page_files(pdf: RawPdf) -> list[bytes]:
    """One single-page PDF per page, objects under their own numbers."""
    tree, catalog = pdf.size, pdf.size + 1
    files = []
    for page in pdf.pages:
        objects = []
        for number in pdf.closure(page):
            raw = pdf.raw(number)
            if number == page:
                raw, count = _PARENT.subn(b"/Parent %d 0 R" % tree, raw, count=1)
                if count != 1:
                    raise NotPlain("page without /Parent")
            objects.append((number, raw))
        objects.append((tree, b"%d 0 obj\n<</Type /Pages /Kids [%d 0 R] /Count 1>>\nendobj\n"
                        % (tree, page)))
        objects.append((catalog, b"%d 0 obj\n<</Type /Catalog /Pages %d 0 R>>\nendobj\n"
                        % (catalog, tree)))
        files.append(_document(pdf.version, objects, catalog))
    return files


def merged(pdfs: Sequence[RawPdf]) -> bytes:
    """One PDF of every page of `pdfs`, in order: object 1 is the page tree, 2 the catalogue."""
    objects, kids, next_number = [], [], 3
    for pdf in pdfs:
        new: dict[int, int] = {}
        for page in pdf.pages:
            for number in pdf.closure(page):
                if number not in new:
                    new[number] = next_number
                    next_number += 1
            kids.append(new[page])
        for number in new:
            objects.append((new[number], pdf.renumbered(number, new, parent=1)))
    version = max((pdf.version for pdf in pdfs), default=b"%PDF-1.4")
    objects.append((1, b"1 0 obj\n<</Type /Pages /Kids [%s] /Count %d>>\nendobj\n"
                    % (b" ".join(b"%d 0 R" % kid for kid in kids), len(kids))))
    objects.append((2, b"2 0 obj\n<</Type /Catalog /Pages 1 0 R>>\nendobj\n"))
    return _document(version, objects, 2)
