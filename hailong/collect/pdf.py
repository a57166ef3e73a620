"""HTML to PDF with Debian's headless Chromium (print-to-PDF), and page-level PDF tools.

Chromium shapes Vietnamese correctly (stacked diacritics such as "Điền", "Hải") with any
system font that covers them (Noto Sans, DejaVu Sans). The command line is used rather than
Playwright so that printing needs nothing beyond the chromium package at run time; each call
gets a fresh profile folder so concurrent calls never share state.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path, PureWindowsPath

from pypdf import PdfReader, PdfWriter

from hailong import procpool
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.i18n import _

DEFAULT_CHROMIUM = "/usr/bin/chromium"  # Debian's package
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-dev-shm-usage", "--no-pdf-header-footer", "--hide-scrollbars",
]


def chromium_candidates(env=None, platform: str | None = None) -> list[str]:
    """Where a Chromium-family browser is looked for, in order: HAILONG_CHROMIUM, the PATH,
    then the usual install places of Chrome and Edge on Windows and macOS, Debian's last.
    (Edge ships with every Windows 10 and 11: a district office has at least that.)"""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    found = [env.get("HAILONG_CHROMIUM")]
    found += [shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome",
                                               "google-chrome-stable", "chrome", "msedge")]
    if platform.startswith("win"):
        for root in (env.get("PROGRAMFILES"), env.get("PROGRAMFILES(X86)"), env.get("LOCALAPPDATA"),
                     r"C:\Program Files", r"C:\Program Files (x86)"):
            if root:
                found += [str(PureWindowsPath(root, "Google", "Chrome", "Application", "chrome.exe")),
                          str(PureWindowsPath(root, "Microsoft", "Edge", "Application", "msedge.exe")),
                          str(PureWindowsPath(root, "Chromium", "Application", "chrome.exe"))]
    elif platform == "darwin":
        for root in ("/Applications", str(Path(env.get("HOME", "~")).expanduser() / "Applications")):
            found += [f"{root}/Google Chrome.app/Contents/MacOS/Google Chrome",
                      f"{root}/Chromium.app/Contents/MacOS/Chromium",
                      f"{root}/Microsoft Edge.app/Contents/MacOS/Microsoft Edge"]
    found.append(DEFAULT_CHROMIUM)
    return [path for path in dict.fromkeys(found) if path]


def chromium_path() -> str:
    """The Chromium executable (HAILONG_CHROMIUM overrides), or a HailongError with the fix."""
    for path in chromium_candidates():
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise HailongError(_("Chromium, Chrome or Edge is needed to print PDFs and none was found; "
                         "install one (Debian: apt-get install chromium; Windows has Edge) or set "
                         "HAILONG_CHROMIUM to its path"))


def _render_one(html: Path, pdf_path: Path, timeout: float) -> None:
    html = Path(html).resolve()
    if not html.is_file():
        raise HailongError(_("{html}: HTML file to print not found", html=html))
    browser = chromium_path()
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=pdf_path.parent, prefix=f".{pdf_path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory(prefix="hailong-chromium-") as profile:
            command = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}",
                       html.as_uri()]
            # Its own session, so that on a timeout the browser's helper processes go too.
            proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                    errors="replace", **procpool.new_session())
            try:
                _out, stderr = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                procpool.kill_tree(proc)
                proc.communicate()
                raise HailongError(_("{html_name}: Chromium took more than {timeout:.0f} s to "
                                     "print; print fewer pages at once or check the machine's "
                                     "load",
                                     html_name=html.name, timeout=timeout)) from None
        with open(tmp, "rb") as fh:
            head = fh.read(5)
        if proc.returncode != 0 or head != b"%PDF-":
            # Headless Chromium always complains about D-Bus; the useful line is another one.
            lines = [line for line in stderr.strip().splitlines() if "dbus" not in line.lower()]
            last = lines[-1] if lines else "no message"
            raise HailongError(_("{html_name}: Chromium could not print it to PDF (exit "
                                 "{returncode}: {last}); check that chromium runs",
                                 html_name=html.name, returncode=proc.returncode, last=last))
        os.chmod(tmp, 0o644)
        os.replace(tmp, pdf_path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def html_to_pdf(html_files: Path | str | Sequence[Path | str], pdf_path: Path | str,
                timeout: float = 600) -> Path:
    """Print one HTML file (or several, concatenated in order) to `pdf_path`, atomically.

    Page size and margins come from the HTML's CSS (@page). Put many documents in one HTML
    with page breaks where possible: each file costs one Chromium start (about half a second).
    """
    pdf_path = Path(pdf_path)
    files = [Path(html_files)] if isinstance(html_files, (str, os.PathLike)) else [Path(f) for f in html_files]
    if not files:
        raise HailongError(_("{pdf_path}: nothing to print (no HTML files given)",
                             pdf_path=pdf_path))
    if len(files) == 1:
        _render_one(files[0], pdf_path, timeout)
        return pdf_path
    with tempfile.TemporaryDirectory(prefix="hailong-pdf-") as work:
        parts = []
        for i, html in enumerate(files):
            part = Path(work) / f"{i:06d}.pdf"
            _render_one(html, part, timeout)
            parts.append(part)
        merge_pdfs(parts, pdf_path)
    return pdf_path


def _write(writer: PdfWriter, path: Path, fsync: bool = True) -> None:
    buffer = io.BytesIO()
    writer.write(buffer)
    atomic_write_bytes(path, buffer.getvalue(), fsync=fsync)


def merge_pdfs(parts: Sequence[Path], pdf_path: Path) -> Path:
    """Concatenate PDFs, in order, into pdf_path (atomically), with pypdf."""
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    _write(writer, Path(pdf_path))
    return Path(pdf_path)


def split_pdf(pdf_path: Path, page_paths: Sequence[Path]) -> None:
    """Write page i of pdf_path to page_paths[i] with pypdf; the counts must match.

    The page files are not fsynced one by one: callers write them into a folder that replaces
    the old one whole (fsutil.replacing_dir) once every page is there."""
    pages = PdfReader(str(pdf_path)).pages
    if len(pages) != len(page_paths):
        raise HailongError(_("{pdf_path}: has {value} pages, expected {value2}; a page overflowed "
                             "its sheet, shorten the text",
                             pdf_path=pdf_path, value=len(pages), value2=len(page_paths)))
    for page, target in zip(pages, page_paths, strict=True):
        writer = PdfWriter()
        writer.add_page(page)
        _write(writer, Path(target), fsync=False)


def page_count(pdf_path: Path) -> int:
    return len(PdfReader(str(pdf_path)).pages)
