"""QR codes for every unit's survey page, and the printable kit (`hailong qr`).

Each unit gets `<out>/<id>/qr/<code>.svg` and `.png` encoding `layout.unit_url(base, id, code)`,
encoded and drawn by segno: a full QR code (segno.make_qr never makes Micro QR), error correction
M and not boosted, a 4-module quiet zone. The code is encoded once per unit for both files.

A manifest (`.manifest.json`: the URL per unit code) lets a second run skip every unit whose
URL and files are unchanged, so re-running the kit costs a directory listing.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import segno

from hailong import procpool
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout, unit_url
from hailong.ui import steps

# Bump when the drawing changes, so images made by an older version are redrawn
# (2: segno draws them, where 1 was an own encoder over the qrcode package).
FORMAT = 2
ERROR_CORRECTION = "M"
BORDER = 4  # modules of quiet zone on every side: the minimum the QR standard asks for
PNG_TARGET_PX = 640  # whole pixels per module; ~600 px prints sharp at 10 cm (150 dpi)
PRINT_WIDTH_CM = 10  # the PNG's dpi is set so that it prints at this width by default
SVG_SCALE = 10  # user units per module in the SVG file (its default size: 10 px a module)
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


def qr_code(url: str) -> segno.QRCode:
    """The smallest full QR code (level M, not boosted) holding `url` as UTF-8 bytes."""
    return segno.make_qr(url, error=ERROR_CORRECTION, boost_error=False, encoding="utf-8")


def qr_matrix(url: str) -> list[list[bool]]:
    """The module matrix of `url`'s QR code, quiet zone included (True: dark)."""
    return [[bool(v) for v in row] for row in qr_code(url).matrix_iter(scale=1, border=BORDER)]


def svg_document(url: str, code: segno.QRCode | None = None) -> str:
    """segno's standalone SVG file; its <title> is the encoded URL (readable by staff and by us)."""
    out = io.BytesIO()
    (code or qr_code(url)).save(out, kind="svg", scale=SVG_SCALE, border=BORDER, title=url,
                                light="#fff", nl=True)
    return out.getvalue().decode("utf-8")


# segno's file: its drawing (background and modules, in module units) scaled in one group.
_SVG_FILE = re.compile(rf'<svg [^>]*><title>([^<]*)</title><g transform="scale\({SVG_SCALE}\)">(.*)</g></svg>',
                       re.DOTALL)
_SVG_INLINE = re.compile(r'<svg viewBox="0 0 (\d+) \1">(.*)</svg>', re.DOTALL)


def qr_svg_inline(url: str, css_class: str = "qr", label: str | None = None,
                  svg_file: Path | None = None) -> str:
    """An <svg> element to embed in HTML; it scales to its CSS box (set width on the class).

    segno draws it (svg_inline); only the attributes HTML needs are added to its tag: a class,
    role and label for screen readers, crisp edges. With svg_file (a file written by write_qr),
    its drawing is reused when it encodes this same URL: encoding costs segno about 4.5 ms a
    code, 48 s of one core for the posters of 10,600 units, and reading the file 0.1 ms.
    """
    aria = escape(label if label is not None else f"Mã QR: {url}")
    attrs = (f'class="{escape(css_class)}" role="img" aria-label="{aria}" '
             'shape-rendering="crispEdges"')
    found = None
    if svg_file is not None:
        try:
            found = _SVG_FILE.search(Path(svg_file).read_text(encoding="utf-8"))
        except OSError:
            found = None
    if found and found.group(1) == escape(url, quote=False):
        drawing = found.group(2)
    else:
        code = qr_code(url)
        drawing = _SVG_INLINE.fullmatch(code.svg_inline(
            scale=1, border=BORDER, omitsize=True, light="#fff", svgclass=None)).group(2)
    n = re.search(r'd="M0 0h(\d+)v', drawing).group(1)  # the background: the whole symbol
    return f'<svg viewBox="0 0 {n} {n}" {attrs}>{drawing}</svg>'


def png_bytes(code: segno.QRCode) -> bytes:
    """segno's 1-bit PNG of about PNG_TARGET_PX pixels, whole pixels per module, with a dpi that
    prints it PRINT_WIDTH_CM wide (zlib level 6: half the time of segno's default 9)."""
    n = code.symbol_size(border=BORDER)[0]
    box = max(1, PNG_TARGET_PX // n)
    out = io.BytesIO()
    code.save(out, kind="png", scale=box, border=BORDER,
              dpi=round(n * box / (PRINT_WIDTH_CM / 2.54)), compresslevel=6)
    return out.getvalue()


def _replace(path: Path, data: bytes) -> None:
    """No fsync per image (21,200 of them at national scale): the manifest is written last, with
    fsync, so an interrupted run simply redraws the units it had not recorded."""
    atomic_write_bytes(path, data, fsync=False)


def write_qr(url: str, svg_path: Path | None, png_path: Path | None) -> None:
    """Write the QR code of `url` as SVG and/or PNG (either path may be None)."""
    code = qr_code(url)
    for path in (svg_path, png_path):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    if svg_path is not None:
        _replace(Path(svg_path), svg_document(url, code).encode("utf-8"))
    if png_path is not None:
        _replace(Path(png_path), png_bytes(code))


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
            # the workers need only segno: already imported under fork, imported once per
            # worker under spawn (Windows)
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
