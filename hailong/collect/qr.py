"""QR codes for every unit's survey page, and the printable kit (`hailong qr`).

Each unit gets `<out>/<id>/qr/<code>.svg` and `.png` encoding `layout.unit_url(base, id, code)`:
a full QR code (the `qrcode` package never makes Micro QR), error correction M, a 4-module
quiet zone. The module matrix is computed once per unit and drawn by hand into both formats:
far faster than the package's image factories, which matters at 10,600 units.

A manifest (`.manifest.json`: the URL per unit code) lets a second run skip every unit whose
URL and files are unchanged, so re-running the kit costs a directory listing.
"""

from __future__ import annotations

import bisect
import functools
import json
import os
import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import qrcode
import qrcode.base
import qrcode.exceptions
import qrcode.util
from qrcode.constants import ERROR_CORRECT_M

from hailong import procpool
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout, unit_url
from hailong.ui import steps

# Bump when the drawing changes, so images made by an older version are redrawn.
FORMAT = 1
ERROR_CORRECTION = ERROR_CORRECT_M
BORDER = 4  # modules of quiet zone on every side: the minimum the QR standard asks for
PNG_TARGET_PX = 640  # whole pixels per module; ~600 px prints sharp at 10 cm (150 dpi)
PRINT_WIDTH_CM = 10  # the PNG's dpi is set so that it prints at this width by default
MANIFEST = ".manifest.json"
_POOL_MIN = 64  # below this many images a process pool costs more than it saves


def check_base_url(base_url: str, allow_http: bool = False, source: str = "--base-url") -> str:
    """The base URL without trailing slash, or a HailongError naming what is wrong and the fix.

    `source` names where the address came from in the messages (e.g. "survey.toml: base_url")."""
    text = (base_url or "").strip()
    example = _("e.g. --base-url https://khaosat.example.gov.vn")
    given = f"{source} {base_url!r}"
    if not text or any(ch.isspace() for ch in text):
        raise HailongError(_("{given} is empty or has spaces; give the site's address, {example}",
                             given=given, example=example))
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise HailongError(_("{given} is not an absolute web address; {example}",
                             given=given, example=example))
    if parts.query or parts.fragment or parts.username or parts.password:
        raise HailongError(_("{given} has a query, fragment or password; give only scheme, host "
                             "and path, {example}",
                             given=given, example=example))
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise HailongError(_("{given} has a bad port number; {example}",
                             given=given, example=example)) from None
    if parts.scheme == "http" and not allow_http:
        fixed = "https://" + text[len("http://"):]
        raise HailongError(_("{given} is not https: printed codes must use https, e.g. {fixed!r} "
                             "(add --allow-http only for a local test)",
                             given=given, fixed=fixed))
    return text.rstrip("/")


def qr_matrix(url: str) -> list[list[bool]]:
    """The module matrix of the smallest full QR code holding `url`, quiet zone included.

    The qrcode package encodes the data bits and lays out the function patterns and format
    bits; the Reed-Solomon codewords (the package divides polynomials in pure Python), their
    placement, the choice of mask (the 8 patterns scored as the package scores them) and the
    final XOR are done here with tables and numpy: the package's way is ten times slower, and
    10,600 units are drawn at once. The result is the package's own symbol, module for module:
    the first code of each version is compared with the package's, and a version that differs
    (a future qrcode release) is drawn by the package from then on (tests/test_qr.py too).
    """
    return _matrix_array(url).tolist()


def _matrix_array(url: str) -> np.ndarray:
    """qr_matrix as a numpy array (the SVG and PNG writers take it as it is)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER, box_size=1)
    code.add_data(url.encode("utf-8"))
    _best_fit(code)  # the smallest version that holds the data
    version = code.version
    if _checked_versions.get(version) is False:
        return np.array(_package_matrix(code), dtype=bool)
    symbol = _fast_symbol(code)
    if version not in _checked_versions:
        reference = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=0)
        reference.add_data(url.encode("utf-8"))
        reference.make(fit=True)  # the package's own way from the start, version included
        _checked_versions[version] = symbol.tolist() == reference.get_matrix()
        if not _checked_versions[version]:
            return np.array(_package_matrix(code), dtype=bool)
    return np.pad(symbol, BORDER)


def _best_fit(code: qrcode.QRCode) -> None:
    """QRCode.best_fit (the smallest version whose capacity holds the bits), counting the bits
    with _Bits rather than the package's bit-by-bit buffer."""
    start = 1
    while True:
        bits = _Bits()
        for chunk in code.data_list:
            bits.put(chunk.mode, 4)
            bits.put(len(chunk), qrcode.util.length_in_bits(chunk.mode, start))
            chunk.write(bits)
        version = bisect.bisect_left(qrcode.util.BIT_LIMIT_TABLE[code.error_correction],
                                     bits.length, start)
        if version == 41:
            raise qrcode.exceptions.DataOverflowError()
        if qrcode.util.mode_sizes_for_version(version) is qrcode.util.mode_sizes_for_version(start):
            code.version = version
            return
        start = version  # the length field grows at versions 10 and 27: count again


def _package_matrix(code: qrcode.QRCode, border: int = BORDER) -> list[list[bool]]:
    code.makeImpl(False, code.best_mask_pattern())
    return [list(row) for row in code.modules] if border == 0 else code.get_matrix()


def _fast_symbol(code: qrcode.QRCode) -> np.ndarray:
    """The symbol (no quiet zone) as the package would draw it, found with tables and numpy."""
    version = code.version
    data, grids = _data_region(version)
    rows, cols = _placement(version)
    bits = np.unpackbits(np.frombuffer(bytes(_codewords(code)), dtype=np.uint8))
    plain = _test_layout(code).copy()
    plain[rows[:bits.size], cols[:bits.size]] = bits[:rows.size].astype(bool)  # rest: remainder 0s
    candidates = plain[None, :, :] ^ (grids & data)
    mask = int(np.argmin(_penalties(candidates)))
    key = (version, mask)
    if key not in _function_modules:
        # Function patterns, format and version bits depend only on version, level and mask.
        code.makeImpl(False, mask)
        _function_modules[key] = np.array(code.modules, dtype=bool)
    return np.where(data, candidates[mask], _function_modules[key])


def _codewords(code: qrcode.QRCode) -> list[int]:
    """qrcode.util.create_data: data codewords, then error correction, interleaved by block."""
    buffer = _Bits()
    for chunk in code.data_list:
        buffer.put(chunk.mode, 4)
        buffer.put(len(chunk), qrcode.util.length_in_bits(chunk.mode, code.version))
        chunk.write(buffer)
    blocks = qrcode.base.rs_blocks(code.version, code.error_correction)
    limit = sum(block.data_count for block in blocks)
    bits = buffer.length
    words = list((buffer.value << (-bits % 8)).to_bytes((bits + 7) // 8, "big"))
    if bits > 8 * limit:
        raise qrcode.exceptions.DataOverflowError(f"{bits} bits > {8 * limit}")
    # Terminator and zero bits to the byte (BitBuffer keeps them 0), then the pad bytes.
    words += [0] * (((min(bits + 4, 8 * limit) + 7) // 8) - len(words))
    words += [(0xEC, 0x11)[i % 2] for i in range(limit - len(words))]
    data_blocks, ec_blocks, at = [], [], 0
    for block in blocks:
        dc = words[at:at + block.data_count]
        at += block.data_count
        data_blocks.append(dc)
        ec_blocks.append(_rs_remainder(dc, block.total_count - block.data_count))
    out = []
    for group in (data_blocks, ec_blocks):
        for i in range(max(len(b) for b in group)):
            out += [b[i] for b in group if i < len(b)]
    return out


class _Bits:
    """The put() of qrcode.util.BitBuffer, into one integer (its put_bit loop is slow)."""

    def __init__(self):
        self.value = self.length = 0

    def put(self, num: int, length: int) -> None:
        self.value = (self.value << length) | (num & ((1 << length) - 1))
        self.length += length


_EXP = [1] * 512
for _i in range(1, 255):
    _EXP[_i] = (_EXP[_i - 1] << 1) ^ (0x11D if _EXP[_i - 1] & 0x80 else 0)
for _i in range(255, 512):
    _EXP[_i] = _EXP[_i - 255]
_LOG = [0] * 256
for _i in range(255):
    _LOG[_EXP[_i]] = _i
del _i


@functools.cache
def _generator_logs(count: int) -> tuple[int, ...]:
    """Logs of the coefficients after the leading 1 of the degree-`count` RS generator."""
    poly = [1]
    for i in range(count):  # multiply by (x - a^i)
        poly = [a ^ (_EXP[_LOG[b] + i] if b else 0) for a, b in zip([*poly, 0], [0, *poly], strict=True)]
    return tuple(_LOG[c] for c in poly[1:])


def _rs_remainder(data: list[int], count: int) -> list[int]:
    """The `count` error-correction codewords of `data` (polynomial division in GF(256))."""
    logs = _generator_logs(count)
    rest = [0] * count
    for byte in data:
        factor = byte ^ rest[0]
        rest = rest[1:] + [0]
        if factor:
            log = _LOG[factor]
            rest = [r ^ _EXP[g + log] for r, g in zip(rest, logs, strict=True)]
    return rest


@functools.cache
def _placement(version: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the data modules in the order bits are placed (the zigzag of
    qrcode's map_data: two columns at a time from the right, up then down, skipping column 6)."""
    data, _grids = _data_region(version)
    n = data.shape[0]
    order, upward = [], True
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1
        for row in (range(n - 1, -1, -1) if upward else range(n)):
            order += [(row, c) for c in (col, col - 1) if data[row, c]]
        upward = not upward
    rows, cols = zip(*order, strict=True)
    return np.array(rows), np.array(cols)


def _test_layout(code: qrcode.QRCode) -> np.ndarray:
    """Function patterns with blank format and version bits (how the package scores masks),
    data modules light."""
    version = code.version
    if version not in _test_layouts:
        code.makeImpl(True, 0)
        layout = np.array(code.modules, dtype=bool)
        layout[_data_region(version)[0]] = False
        _test_layouts[version] = layout
    return _test_layouts[version]


def _mask_grids(n: int) -> np.ndarray:
    """The 8 QR mask patterns over an n×n grid (True: flip the module), as in ISO/IEC 18004."""
    i, j = np.indices((n, n))
    return np.stack([
        (i + j) % 2 == 0, i % 2 == 0, j % 3 == 0, (i + j) % 3 == 0,
        (i // 2 + j // 3) % 2 == 0, (i * j) % 2 + (i * j) % 3 == 0,
        ((i * j) % 2 + (i * j) % 3) % 2 == 0, ((i * j) % 3 + (i + j) % 2) % 2 == 0,
    ])


@functools.cache
def _data_region(version: int) -> tuple[np.ndarray, np.ndarray]:
    """(modules that carry data, mask grids) for a version: everything but the function patterns."""
    n = 17 + 4 * version
    finder = np.zeros((n, n), bool)
    finder[:8, :8] = finder[:8, n - 8:] = finder[n - 8:, :8] = True  # finder + separator
    fixed = finder.copy()
    centres = qrcode.util.pattern_position(version)
    for r in centres:
        for c in centres:
            if not finder[r, c]:
                fixed[r - 2:r + 3, c - 2:c + 3] = True  # alignment pattern
    fixed[6, :] = fixed[:, 6] = True  # timing
    fixed[8, :9] = fixed[:9, 8] = fixed[8, n - 8:] = fixed[n - 8:, 8] = True  # format, dark module
    if version >= 7:
        fixed[:6, n - 11:n - 8] = fixed[n - 11:n - 8, :6] = True  # version information
    return ~fixed, _mask_grids(n)


_checked_versions: dict[int, bool] = {}
_function_modules: dict[tuple[int, int], np.ndarray] = {}
_test_layouts: dict[int, np.ndarray] = {}


# Rule 3's finder-like runs 1:1:3:1:1 beside 4 light modules, as 11-bit numbers (first = high).
_FINDER_LIKE = (0b10111010000, 0b00001011101)


def _penalties(stack: np.ndarray) -> list[int]:
    """ISO/IEC 18004 mask penalty of each of the 8 candidates, exactly as qrcode.util.lost_point
    computes it."""
    count, n, _n = stack.shape
    scores = np.zeros(count, dtype=np.int64)
    cells = n * (n + 2)
    for grid in (stack, stack.transpose(0, 2, 1)):
        # rule 1: runs of 5 or more of one colour (a sentinel column ends every row)
        padded = np.full((count, n, n + 2), 2, np.int8)
        padded[:, :, 1:-1] = grid
        flat = padded.ravel()
        edges = np.flatnonzero(flat[1:] != flat[:-1])
        lengths = np.diff(edges)
        long = lengths >= 5
        scores += np.bincount(edges[:-1][long] // cells, weights=lengths[long] - 2,
                              minlength=count).astype(np.int64)
        # rule 3: the finder-like pattern in any 11 modules of a row
        value = np.zeros((count, n, n - 10), np.int32)
        for k in range(11):
            value = (value << 1) | grid[:, :, k:n - 10 + k]
        scores += 40 * sum((value == pattern).sum(axis=(1, 2)) for pattern in _FINDER_LIKE)
    top = stack[:, :-1, :-1]  # rule 2: 2x2 blocks of one colour
    scores += 3 * ((top == stack[:, 1:, :-1]) & (top == stack[:, :-1, 1:])
                   & (top == stack[:, 1:, 1:])).sum(axis=(1, 2))
    dark = stack.sum(axis=(1, 2))
    return [int(score) + int(abs(float(d) / (n * n) * 100 - 50) / 5) * 10  # rule 4: balance
            for score, d in zip(scores, dark, strict=True)]


def _path_data(matrix: Sequence[Sequence[bool]] | np.ndarray) -> str:
    """One SVG path: a rectangle per horizontal run of dark modules, a run repeated in the rows
    below stacked into one taller rectangle (a fifth fewer shapes, and Chromium's time to print
    a poster grows with them)."""
    grid = np.asarray(matrix, dtype=np.int8)
    edges = np.diff(np.pad(grid, ((0, 0), (1, 1))), axis=1)  # +1 where a run starts, -1 after it
    ys, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]  # row-major: the k-th end closes the k-th start
    rows: dict[int, list[tuple[int, int]]] = {}
    for y, x, end in zip(ys.tolist(), starts.tolist(), ends.tolist(), strict=True):
        rows.setdefault(y, []).append((x, end - x))
    parts: list[str] = []
    stacks: dict[tuple[int, int], tuple[int, int]] = {}  # (x, width) -> (top row, height)
    for y in range(len(grid) + 1):
        below = {}
        for key in rows.get(y, ()):
            top, height = stacks.pop(key, (y, 0))
            below[key] = (top, height + 1)
        parts += [f"M{x} {top}h{width}v{height}h-{width}z"
                  for (x, width), (top, height) in stacks.items()]
        stacks = below
    return "".join(parts)


def _svg(n: int, path_data: str, attrs: str, inner: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" {attrs}'
            f' shape-rendering="crispEdges">{inner}<rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path fill="#000" d="{path_data}"/></svg>')


_SVG_FILE = re.compile(r'viewBox="0 0 (\d+) \1".*?<title>(.*?)</title>.*?<path fill="#000" d="([^"]*)"/>',
                       re.DOTALL)


def svg_document(url: str, matrix: Sequence[Sequence[bool]] | None = None) -> str:
    """A standalone SVG file; its <title> is the encoded URL (readable by staff and by us)."""
    matrix = matrix if matrix is not None else _matrix_array(url)
    size = len(matrix) * 10
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + _svg(len(matrix), _path_data(matrix), f'width="{size}" height="{size}"',
                   f"<title>{escape(url)}</title>") + "\n")


def qr_svg_inline(url: str, css_class: str = "qr", label: str | None = None,
                  svg_file: Path | None = None) -> str:
    """An <svg> element to embed in HTML; it scales to its CSS box (set width on the class).

    With svg_file (a file written by write_qr), its drawing is reused when it encodes this
    same URL, which saves computing the code again (posters for 10,600 units).
    """
    aria = escape(label if label is not None else f"Mã QR: {url}")
    attrs = f'class="{escape(css_class)}" role="img" aria-label="{aria}"'
    if svg_file is not None:
        try:
            found = _SVG_FILE.search(Path(svg_file).read_text(encoding="utf-8"))
        except OSError:
            found = None
        if found and found.group(2) == escape(url):
            return _svg(int(found.group(1)), found.group(3), attrs)
    matrix = qr_matrix(url)
    return _svg(len(matrix), _path_data(matrix), attrs)


def png_bytes(matrix: Sequence[Sequence[bool]]) -> bytes:
    """A 1-bit PNG of about PNG_TARGET_PX pixels, whole pixels per module, with a dpi that
    prints it PRINT_WIDTH_CM wide. Written by hand (filter 0 on every row: the rows repeat,
    which zlib takes care of): Pillow's encoder took three times as long."""
    n = len(matrix)
    box = max(1, PNG_TARGET_PX // n)
    light = ~np.asarray(matrix, dtype=bool)  # in a 1-bit grey PNG a set bit is white
    rows = np.packbits(np.repeat(light, box, axis=1), axis=1)  # one packed pixel row per module row
    size = n * box
    lines = np.repeat(np.hstack([np.zeros((n, 1), np.uint8), rows]), box, axis=0)
    dpi = round(size / (PRINT_WIDTH_CM / 2.54))
    per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow writes pHYs for dpi
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _png_chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)),
        _png_chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
        _png_chunk(b"IDAT", zlib.compress(lines.tobytes(), 6)),
        _png_chunk(b"IEND", b""),
    ])


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _replace(path: Path, data: bytes) -> None:
    """No fsync per image (21,200 of them at national scale): the manifest is written last, with
    fsync, so an interrupted run simply redraws the units it had not recorded."""
    atomic_write_bytes(path, data, fsync=False)


def write_qr(url: str, svg_path: Path | None, png_path: Path | None) -> None:
    """Write the QR code of `url` as SVG and/or PNG (either path may be None)."""
    matrix = _matrix_array(url)
    for path in (svg_path, png_path):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if svg_path is not None:
        _replace(Path(svg_path), svg_document(url, matrix).encode("utf-8"))
    if png_path is not None:
        _replace(Path(png_path), png_bytes(matrix))


def _write_many(folder: str, jobs: Sequence[tuple[str, str]]) -> int:
    """Worker: draw (code, url) pairs into folder. Top-level so a process pool can call it."""
    base = Path(folder)
    for code, url in jobs:
        write_qr(url, base / f"{code}.svg", base / f"{code}.png")
    return len(jobs)


def _read_manifest(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("urls"), dict):
        return {}
    return {str(k): str(v) for k, v in data["urls"].items()}


def _chunks(items: list, count: int) -> Iterable[list]:
    size = max(1, -(-len(items) // count))
    for i in range(0, len(items), size):
        yield items[i:i + size]


def generate_qr_images(survey, out: Path, base_url: str, workers: int | None = None,
                       allow_http: bool = False) -> tuple[int, int]:
    """SVG and PNG for every unit; returns (written, skipped). Unchanged units are skipped.

    Images of units no longer in units.csv (recorded in the previous manifest) are removed.
    """
    base = check_base_url(base_url, allow_http)
    folder = Layout(Path(out), survey.id).qr
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    previous = _read_manifest(manifest_path)
    present = {entry.name for entry in os.scandir(folder)}
    urls = {unit.code: unit_url(base, survey.id, unit.code) for unit in survey.units}
    todo = [(code, url) for code, url in urls.items()
            if not (previous.get(code) == url and f"{code}.svg" in present and f"{code}.png" in present)]
    workers = workers or procpool.cores()
    done = 0
    with steps(_("Drawing QR codes"), len(todo)) as advance:
        if todo and workers > 1 and len(todo) >= _POOL_MIN:
            # the workers need only qrcode and numpy: already imported under fork, imported
            # once per worker under spawn (Windows)
            with procpool.executor(workers) as pool:
                chunks = list(_chunks(todo, workers * 8))
                for chunk, written in zip(chunks, pool.map(_write_many, [str(folder)] * len(chunks),
                                                          chunks), strict=True):
                    done += written
                    advance(len(chunk))
        elif todo:
            done = _write_many(str(folder), todo)
            advance(len(todo))
    for code in previous.keys() - urls.keys():
        for suffix in (".svg", ".png"):
            (folder / f"{code}{suffix}").unlink(missing_ok=True)
    if todo or previous != urls:
        atomic_write_text(manifest_path, json.dumps({"format": FORMAT, "urls": urls},
                                                    ensure_ascii=False, indent=0))
    return done, len(urls) - len(todo)
