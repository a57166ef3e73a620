"""`hailong build`: freeze the survey pages into `<out>/site/`.

The small pages (index, landing and thank-you pages, static files) are frozen by Frozen-Flask
from `hailong.collect.webapp`. The unit pages, ten thousand for a national survey, are rendered from the
same contexts and templates by `webapp.render` in a process pool (both cores), so they are
byte-identical to what the Flask view answers (tests check that).

Nothing unchanged is written twice: a fingerprint of every input (page contexts, templates,
static files, this code) is kept in `<out>/.hailong-build.json`; when it matches and every page
is there, the build renders nothing. Otherwise a file is replaced (atomically) only when its bytes
differ. Results (`ket-qua/`) and staff (`tien-do/`) pages written by other stages are never
touched; unit pages of units no longer in units.csv are removed.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hailong import procpool, sitefiles
from hailong.collect import assets, webapp
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text
from hailong.i18n import _
from hailong.ui import steps

STATE_FILE = ".hailong-build.json"  # under <out>, outside the published site
PAGE_BUDGET = 30 * 1024  # bytes: a survey page with the CSS and script it loads, uncompressed
PARALLEL_MIN = 400  # fewer unit pages than this render faster in-process than a pool starts
CHUNK = 500  # unit pages per worker task


def build_site(surveys: Sequence, out: str | Path, base_url: str | None = None,
               workers: int | None = None) -> str:
    """Build the survey pages of `surveys` into `<out>/site/`; returns a short summary."""
    started = time.perf_counter()
    surveys = list(surveys)
    ids = [s.id for s in surveys]
    if len(set(ids)) != len(ids):
        raise HailongError(_("build: the same survey is given twice ({value}); give each folder "
                             "once",
                             value=', '.join(ids)))
    out = Path(out)
    site = out / "site"
    state_path = out / STATE_FILE
    state = _read_state(state_path)

    # the index lists surveys built earlier into this site too, while their pages are there
    entries = {e["id"]: e for e in state.get("index", []) if (site / e["id"]).is_dir()}
    entries.update({s.id: webapp.index_entry(s) for s in surveys})
    index = sorted(entries.values(), key=lambda e: e["id"])
    env = webapp.jinja_env()
    commons = {s.id: webapp.with_questions(env, webapp.survey_context(s, out)) for s in surveys}
    units = {s.id: [webapp.unit_entry(u) for u in s.units] for s in surveys}
    # whether each survey has results is an input too: the landing page and index link to them
    fingerprint = _fingerprint(base_url, webapp.with_results_flags(index, out), commons, units)
    pages = [webapp.unit_page_path(sid, code) for sid, us in units.items() for u in us
             for code in (u["code"], *webapp.unit_aliases(u["code"]))]
    areas = {sid: len(webapp.unit_groups(us)) if webapp.split_landing(us) else 0
             for sid, us in units.items()}
    pages += [f"{sid}/{webapp.AREA_SEGMENT}/{n}/index.html" for sid, count in areas.items()
              for n in range(1, count + 1)]
    pages += ["index.html", *(f"{sid}/index.html" for sid in ids),
              *(f"{sid}/{webapp.THANKS_SEGMENT}/index.html" for sid in ids),
              *(f"static/{name}" for name in assets.shipped_static())]

    unit_count = sum(len(us) for us in units.values())
    try:
        if state.get("fingerprint") == fingerprint and all((site / p).is_file() for p in pages):
            written = removed = 0
            fresh = False
        else:
            app = webapp.create_app(surveys, base_url, out=out, index_entries=index)
            written = _freeze_small_pages(app, site, ids, areas)
            written += _render_unit_pages(site, base_url, commons, units, workers)
            removed = _remove_stale(site, units, areas)
            fresh = True
            atomic_write_text(state_path, json.dumps({"fingerprint": fingerprint, "index": index},
                                                     ensure_ascii=False, indent=1))
    except OSError as exc:
        raise HailongError(_("{value}: cannot write the site ({strerror}); check that the --out "
                             "folder is writable and the disk is not full",
                             value=exc.filename or site, strerror=exc.strerror)) from None

    _record(out, ids, pages)
    # the staff data-entry pages: written and recorded apart from the public pages above
    # (their own staff manifest), so that what build publishes never includes nhap-phieu/
    from hailong.collect.entry import write_entry_pages

    staff_lines = write_entry_pages(surveys, out)
    seconds = time.perf_counter() - started
    if fresh:
        head = _("Built the survey pages: {surveys} survey(s), {units} unit(s); wrote {written} "
                 "file(s), removed {removed} old unit page(s) ({seconds:.1f} s).",
                 surveys=len(surveys), units=unit_count, written=written, removed=removed,
                 seconds=seconds)
    else:
        head = _("The survey pages are unchanged ({units} unit(s)); no file written "
                 "({seconds:.1f} s).", units=unit_count, seconds=seconds)
    lines = [head, _("Home page: {page}", page=site / "index.html")]
    lines += [f"  {sid}: {site / sid / 'index.html'}" for sid in ids]
    lines += staff_lines
    lines += _weight_warnings(site, units)
    return "\n".join(lines)


# -- the weight budget ---------------------------------------------------------------------------
# what a page loads: stylesheets, scripts and images (links to other pages are not loaded)
_LOADS = re.compile(r'<(?:link\b[^>]*\brel="stylesheet"[^>]*\bhref|script\b[^>]*\bsrc|img\b[^>]*\bsrc)="([^"]+)"')


def page_weight(site: Path, rel: str) -> int:
    """Bytes of a built page plus every stylesheet, script and image of this site it loads."""
    page = site / rel
    data = page.read_bytes()
    total = len(data)
    for ref in sorted(set(_LOADS.findall(data.decode("utf-8", "replace")))):
        if "://" in ref or ref.startswith("//"):
            continue  # another host: the survey page has none, and they are not ours to weigh
        target = page.parent / ref.split("#", 1)[0].split("?", 1)[0]
        if target.is_file():
            total += target.stat().st_size
    return total


def _vi_int(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def _weight_warnings(site: Path, units: dict[str, list[dict[str, str]]]) -> list[str]:
    """A warning line per survey whose heaviest unit page, with its CSS and script, is over
    the 30 KB budget (slow 3G, cheap phones). Unit pages differ only in the unit's name, code
    and area, so the unit with the longest of those is the heaviest page."""
    lines = []
    for sid, us in units.items():
        if not us:
            continue
        unit = max(us, key=lambda u: len(json.dumps(u, ensure_ascii=False).encode("utf-8")))
        rel = webapp.unit_page_path(sid, unit["code"])
        if not (site / rel).is_file():
            continue
        weight = page_weight(site, rel)
        if weight > PAGE_BUDGET:
            lines.append(_("Warning: the survey page of {survey} weighs {weight} bytes with its "
                           "CSS and JS, over the budget of {budget} bytes (30 KB) for cheap "
                           "phones on slow 3G ({page}); shorten the questions or their "
                           "explanations, or ask fewer questions.",
                           survey=sid, weight=_vi_int(weight), budget=_vi_int(PAGE_BUDGET),
                           page=site / rel))
    return lines


# -- skipping unchanged work ---------------------------------------------------------------------
def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _tree_digest(h, folder: Path) -> None:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())


def _fingerprint(base_url, index, commons, units) -> str:
    """A digest of everything a page is made from: change any input and it changes."""
    h = hashlib.sha256()
    for module in (webapp.__file__, assets.__file__, __file__):
        h.update(Path(module).read_bytes())
    _tree_digest(h, webapp.TEMPLATES)
    _tree_digest(h, webapp.STATIC)
    h.update(json.dumps([base_url, index, commons, units], sort_keys=True, ensure_ascii=False,
                        default=str).encode("utf-8"))
    return h.hexdigest()


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` unless it already holds exactly that; True if written.

    Atomic (temporary file + rename) so a reader never sees half a page. No fsync: ten thousand
    of them would cost more than the whole build, and a page lost in a crash is rebuilt by the
    next run (its fingerprint is written only after every page)."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    # one writer per file (each page belongs to one task), so the process id makes it unique
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return True


# -- the small pages, by Frozen-Flask --------------------------------------------------------------
def _freeze_small_pages(app, site: Path, ids: list[str], areas: dict[str, int]) -> int:
    """Freeze the index, landing and thank-you pages and the static files into a scratch folder,
    then copy into the site only the files whose bytes changed."""
    from flask_frozen import Freezer, MissingURLGeneratorWarning

    site.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=site.parent, prefix=".freeze-"))
    try:
        app.config.update(FREEZER_DESTINATION=str(scratch.resolve()), FREEZER_REMOVE_EXTRA_FILES=False,
                          FREEZER_RELATIVE_URLS=True, FREEZER_DEFAULT_MIMETYPE="text/html",
                          FREEZER_IGNORE_MIMETYPE_WARNINGS=True)
        freezer = Freezer(app, with_no_argument_rules=True, log_url_for=False)

        @freezer.register_generator
        def landing():
            for sid in ids:
                yield {"survey_id": sid}

        @freezer.register_generator
        def area():
            for sid, count in areas.items():
                for number in range(1, count + 1):
                    yield {"survey_id": sid, "number": number}

        @freezer.register_generator
        def thanks():
            for sid in ids:
                yield {"survey_id": sid}

        with warnings.catch_warnings():
            # unit pages are deliberately not frozen here: _render_unit_pages writes them
            warnings.simplefilter("ignore", MissingURLGeneratorWarning)
            freezer.freeze()
        written = 0
        for path in sorted(p for p in scratch.rglob("*") if p.is_file()):
            rel = path.relative_to(scratch).as_posix()
            if rel.startswith("static/"):
                continue  # written below, under their hashed names
            written += write_if_changed(site / rel, path.read_bytes())
        return written + assets.sync_static(site)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# -- the unit pages, in a process pool -------------------------------------------------------------
_ENV = None


def _render_chunk(site: str, base_url: str | None, common: dict[str, Any],
                  units: list[dict[str, str]]) -> int:
    """Render and write one batch of unit pages (runs in a worker process)."""
    global _ENV
    if _ENV is None:
        _ENV = webapp.jinja_env()
    written = 0
    for unit in units:
        html = webapp.render(_ENV, webapp.UNIT_TEMPLATE, webapp.unit_context(common, unit, base_url))
        path = Path(site) / webapp.unit_page_path(common["id"], unit["code"])
        data = html.encode("utf-8")
        written += write_if_changed(path, data)
        for alias in webapp.unit_aliases(unit["code"]):
            copy = Path(site) / webapp.unit_page_path(common["id"], alias)
            if copy.exists() and os.path.samefile(copy, path):
                continue  # a file system that ignores case (macOS, Windows): one folder serves both
            written += write_if_changed(copy, data)
    return written


def _cores() -> int:
    return procpool.cores()


def _render_unit_pages(site: Path, base_url: str | None, commons: dict[str, dict[str, Any]],
                       units: dict[str, list[dict[str, str]]], workers: int | None) -> int:
    tasks = [(str(site), base_url, commons[sid], us[i:i + CHUNK])
             for sid, us in units.items() for i in range(0, len(us), CHUNK)]
    count = sum(len(us) for us in units.values())
    workers = workers or _cores()
    with steps(_("Creating the survey pages"), count) as advance:
        if workers < 2 or count < PARALLEL_MIN:
            written = 0
            for task in tasks:
                written += _render_chunk(*task)
                advance(len(task[3]))
            return written
        with procpool.executor(workers) as pool:
            futures = {pool.submit(_render_chunk, *task): len(task[3]) for task in tasks}
            written = 0
            for future in concurrent.futures.as_completed(futures):
                written += future.result()
                advance(futures[future])
            return written


def _remove_stale(site: Path, units: dict[str, list[dict[str, str]]], areas: dict[str, int]) -> int:
    """Remove the pages of units no longer in units.csv, and of areas no longer there (only
    under <id>/u/ and <id>/dia-ban/: other stages' folders are not ours)."""
    removed: set[tuple[str, str]] = set()  # (survey, code in upper case): a unit with its copies
    for sid, us in units.items():
        codes = {c for u in us for c in (u["code"], *webapp.unit_aliases(u["code"]))}
        for folder, keep in ((site / sid / "u", codes),
                             (site / sid / webapp.AREA_SEGMENT, {str(n) for n in range(1, areas[sid] + 1)})):
            if not folder.is_dir():
                continue
            for child in folder.iterdir():
                if child.is_dir() and child.name not in keep:
                    shutil.rmtree(child)
                    if folder.name == "u":
                        removed.add((sid, child.name.upper()))
    return len(removed)


# -- the pages that link to results, refreshed by the publish stage -------------------------------
def _record(out: Path, ids: list[str], pages: list[str]) -> None:
    """Each survey's public manifest part "build": its own pages and the shared ones (the
    site index, static files) that they need."""
    shared = [p for p in pages if not any(p.startswith(f"{sid}/") for sid in ids)]
    for sid in ids:
        own = [p for p in pages if p.startswith(f"{sid}/")]
        sitefiles.record(out, sid, "build", [out / "site" / p for p in (*shared, *own)])
    # the site index lists every survey built here: the other surveys' manifests learn its
    # new bytes too, or their next deploy would find it changed
    sitefiles.rehash(out, shared)


def refresh_result_links(survey, out: str | Path) -> list[str]:
    """Re-render the survey's landing page and the site index so they link to the results that
    `publish` has just written (`weekly` and `demo` build before they score). Only pages `build`
    has made are refreshed, each atomically and only when its bytes change; the build's
    fingerprint includes whether results exist, so the next `build` agrees with these pages.
    Returns the pages (relative to the site) that were rewritten."""
    out = Path(out)
    site = out / "site"
    landing = f"{survey.id}/index.html"
    if not (site / landing).is_file():
        return []  # never built: there is no landing page to link from
    env = webapp.jinja_env()
    common = webapp.survey_context(survey, out)  # the landing page does not show the questions
    units = [webapp.unit_entry(u) for u in survey.units]
    pages = {landing: webapp.render(env, webapp.LANDING_TEMPLATE, webapp.landing_context(common, units))}
    if (site / "index.html").is_file():
        state = _read_state(out / STATE_FILE)
        entries = {e["id"]: e for e in state.get("index", []) if (site / e["id"]).is_dir()}
        entries[survey.id] = webapp.index_entry(survey)
        index = webapp.with_results_flags(sorted(entries.values(), key=lambda e: e["id"]), out)
        pages["index.html"] = webapp.render(env, webapp.INDEX_TEMPLATE, webapp.index_context(index))
    try:
        written = [rel for rel, html in pages.items()
                   if write_if_changed(site / rel, html.encode("utf-8"))]
        sitefiles.rehash(out, written)
        return written
    except OSError as exc:
        raise HailongError(_("{value}: cannot write the site ({strerror}); check that the --out "
                             "folder is writable and the disk is not full",
                             value=exc.filename or site, strerror=exc.strerror)) from None
