"""Our stylesheets and script as shipped: minified, and the survey page's CSS inlined.

The survey page carries its stylesheet in a <style> element rather than a <link>: on slow 3G
(300 ms a round trip) a render-blocking stylesheet costs the citizen a round trip and its
download before anything paints; inlined, the first bytes of the page paint at once.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import rcssmin
import rjsmin

from hailong.fsutil import atomic_write_bytes
from hailong.templating import hashed_form, static_name

STATIC = Path(__file__).resolve().parents[2] / "site" / "static"
SURVEY_CSS = "hailong.css"
RESULTS_CSS = "results.css"
# shipped without comments or indentation (see compact); the others as they are
COMPACTED = {"survey.js", "ho-tro.js", "hailong.css", "pages.css", "results.css", "results.js"}


def compact(source: str, name: str) -> str:
    """Our own script or stylesheet, minified: the survey page must weigh under 30 KB with
    everything it loads, on slow 3G. rjsmin and rcssmin only drop what the language ignores
    (comments, white space), so the code runs as written."""
    if name.endswith(".js"):
        return rjsmin.jsmin(source) + "\n"
    return rcssmin.cssmin(source) + "\n"


@functools.cache
def _inline(path: Path, mtime_ns: int) -> str:
    return compact(path.read_text(encoding="utf-8"), path.name).strip()


def inline_css(name: str = SURVEY_CSS) -> str:
    """The minified stylesheet for a <style> element (never holds '</', so it cannot end it)."""
    path = STATIC / name
    css = _inline(path, path.stat().st_mtime_ns)
    if "</" in css:
        raise ValueError(f"{name}: '</' cannot be inlined in a <style> element")
    return css


def shipped_static() -> dict[str, bytes]:
    """Every static file under its published, hashed name (templating.static_name), with the
    bytes it is shipped with."""
    files = {}
    for path in sorted(STATIC.iterdir()):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.name in COMPACTED:
            data = compact(data.decode("utf-8"), path.name).encode("utf-8")
        files[static_name(path.name)] = data
    return files


def sync_static(site: Path, clear: bool = True) -> int:
    """Make <site>/static/ hold our static files under their current hashed names and, when
    `clear`, none of their earlier names (plain or with an older hash): an old name must not
    linger in the site, where deploy would send it. Files of other names are left alone.
    Returns how many files were written or removed.

    build clears (it rewrites every survey page, and publishes the results of a scored
    survey); publish alone does not: the weekly run publishes without building, and the survey
    pages built before an upgrade still name the files they were built with."""
    folder = Path(site) / "static"
    folder.mkdir(parents=True, exist_ok=True)
    current = shipped_static()
    changed = 0
    for name, data in current.items():
        target = folder / name
        try:
            if target.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        atomic_write_bytes(target, data, fsync=False)
        changed += 1
    if not clear:
        return changed
    sources = [p.name for p in STATIC.iterdir() if p.is_file()]
    forms = [hashed_form(n) for n in sources]
    for entry in os.scandir(folder):
        if not entry.is_file() or entry.name in current:
            continue
        if entry.name in sources or any(f.fullmatch(entry.name) for f in forms):
            os.unlink(entry.path)
            changed += 1
    return changed
