"""QR codes for every unit's survey page, and the printable kit (`hailong qr`).

Each unit gets `<out>/<id>/qr/<code>.svg` and `.png` encoding `layout.unit_url(base, id, code)`:
a full QR code (the `qrcode` package never makes Micro QR), error correction M, a 4-module
quiet zone. The module matrix is computed once per unit and drawn by hand into both formats:
far faster than the package's image factories, which matters at 10,600 units.

A manifest (`.manifest.json`: the URL per unit code) lets a second run skip every unit whose
URL and files are unchanged, so re-running the kit costs a directory listing.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from html import escape
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import qrcode
import qrcode.util
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

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

    The qrcode package encodes the data, places it and lays out the function patterns and
    format bits; only the choice of mask (which of the 8 patterns has the lowest penalty) and
    the final XOR are done here, in numpy, because the package's pure-Python search is most of
    its run time. The result is the package's own symbol, module for module (tests/test_qr.py
    compares them).
    """
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION, border=BORDER, box_size=1)
    code.add_data(url.encode("utf-8"))
    code.best_fit()  # the smallest version that holds the data
    mask, candidates = _candidates(code)
    if candidates is None:  # a qrcode release that lays out differently: its own way
        code.makeImpl(False, mask)
        return code.get_matrix()
    data, _size = _data_region(code.version)
    key = (code.version, mask)
    if key not in _function_modules:
        # Function patterns, format and version bits depend only on version, level and mask.
        code.makeImpl(False, mask)
        _function_modules[key] = np.array(code.modules, dtype=bool)
    symbol = np.where(data, candidates[mask], _function_modules[key])
    return np.pad(symbol, BORDER).tolist()


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


def _candidates(code: qrcode.QRCode) -> tuple[int, np.ndarray | None]:
    """(best mask, the 8 masked test layouts) for a code whose version is set: the mask
    qrcode's best_mask_pattern() would pick, found in numpy.

    The eight layouts are derived from one test layout (format bits blank, as qrcode scores
    them). The first time a version is seen, they are compared with the package's own
    layouts; should a future qrcode lay them out differently, its own (slower) search is used
    and no layouts are returned, so the result is never wrong.
    """
    version = code.version
    if _checked_versions.get(version) is False:
        return code.best_mask_pattern(), None
    code.makeImpl(True, 0)
    base = np.array(code.modules, dtype=bool)
    data, grids = _data_region(version)
    plain = base ^ (grids[0] & data)  # the unmasked data bits (function modules unchanged)
    candidates = plain[None, :, :] ^ (grids & data)
    if version not in _checked_versions:
        same = True
        for mask in range(8):
            code.makeImpl(True, mask)
            same = same and bool((np.array(code.modules, dtype=bool) == candidates[mask]).all())
        _checked_versions[version] = same
        if not same:
            return code.best_mask_pattern(), None
    return int(np.argmin([_penalty(candidate) for candidate in candidates])), candidates


_FINDER_LIKE = (np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], bool),
                np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1], bool))


def _penalty(m: np.ndarray) -> int:
    """ISO/IEC 18004 mask penalty, computed exactly as qrcode.util.lost_point does."""
    n = m.shape[0]
    score = 0
    for grid in (m, m.T):  # rule 1: runs of 5 or more of one colour, in rows and columns
        flat = np.concatenate([[2], np.hstack([grid.astype(np.int8), np.full((n, 1), 2, np.int8)]).ravel()])
        starts = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        lengths = np.diff(np.concatenate([starts, [flat.size]]))
        score += int((lengths[lengths >= 5] - 2).sum())
    top = m[:-1, :-1]  # rule 2: 2×2 blocks of one colour
    score += 3 * int(((top == m[1:, :-1]) & (top == m[:-1, 1:]) & (top == m[1:, 1:])).sum())
    for grid in (m, m.T):  # rule 3: finder-like 1:1:3:1:1 runs beside 4 light modules
        windows = np.lib.stride_tricks.sliding_window_view(grid, 11, axis=1)
        score += 40 * sum(int((windows == pattern).all(axis=2).sum()) for pattern in _FINDER_LIKE)
    dark = float(m.sum()) / (n * n)  # rule 4: balance of dark and light
    score += int(abs(dark * 100 - 50) / 5) * 10
    return score


def _path_data(matrix: Sequence[Sequence[bool]]) -> str:
    """One SVG path: a rectangle per horizontal run of dark modules (small and crisp)."""
    parts = []
    for y, row in enumerate(matrix):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts)


def _svg(n: int, path_data: str, attrs: str, inner: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" {attrs}'
            f' shape-rendering="crispEdges">{inner}<rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path fill="#000" d="{path_data}"/></svg>')


_SVG_FILE = re.compile(r'viewBox="0 0 (\d+) \1".*?<title>(.*?)</title>.*?<path fill="#000" d="([^"]*)"/>',
                       re.DOTALL)


def svg_document(url: str, matrix: Sequence[Sequence[bool]] | None = None) -> str:
    """A standalone SVG file; its <title> is the encoded URL (readable by staff and by us)."""
    matrix = matrix if matrix is not None else qr_matrix(url)
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
    prints it PRINT_WIDTH_CM wide."""
    n = len(matrix)
    box = max(1, PNG_TARGET_PX // n)
    light = ~np.asarray(matrix, dtype=bool)  # in mode "1" a set bit is white
    rows = np.packbits(np.repeat(light, box, axis=1), axis=1)  # one packed pixel row per module row
    size = n * box
    image = Image.frombytes("1", (size, size), np.repeat(rows, box, axis=0).tobytes())
    dpi = round(size / (PRINT_WIDTH_CM / 2.54))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(dpi, dpi))
    return buffer.getvalue()


def _replace(path: Path, data: bytes) -> None:
    """No fsync per image (21,200 of them at national scale): the manifest is written last, with
    fsync, so an interrupted run simply redraws the units it had not recorded."""
    atomic_write_bytes(path, data, fsync=False)


def write_qr(url: str, svg_path: Path | None, png_path: Path | None) -> None:
    """Write the QR code of `url` as SVG and/or PNG (either path may be None)."""
    matrix = qr_matrix(url)
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
    workers = workers or os.cpu_count() or 1
    done = 0
    with steps(_("Drawing QR codes"), len(todo)) as advance:
        if todo and workers > 1 and len(todo) >= _POOL_MIN:
            # fork: the workers need only qrcode and Pillow, already imported here.
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
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
