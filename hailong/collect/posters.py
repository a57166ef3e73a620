"""Printable A4 posters, one per unit, for the one-stop office wall (part of `hailong qr`).

Output: `<out>/<id>/qr/posters.pdf` (every unit, one page each) and `<out>/<id>/qr/posters/
<code>.pdf`. Units are printed in batches of BATCH pages by one Chromium per core, each kept
open for all its batches (collect.printer: a browser start costs as much as 150 posters), then
every batch is split into one file per unit and the batches merged (pypdf). A run whose
posters would come out the same (same units, address, survey texts and templates) leaves the
PDFs alone.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import queue
import tempfile
import threading
from pathlib import Path

from hailong.collect.pdf import merge_pdfs, split_pdf
from hailong.collect.printer import Printer
from hailong.collect.qr import check_base_url, qr_svg_inline
from hailong.fsutil import atomic_write_text, replacing_dir
from hailong.i18n import _
from hailong.layout import Layout, unit_url
from hailong.templating import TEMPLATES, environment
from hailong.ui import steps

FORMAT = 3  # bump when the poster's drawing changes outside the template (3: segno's QR)
BATCH = 250  # posters per Chromium call
SECONDS_PER_QUESTION = 8  # reading time of a short question and a tap, for the time promise
MANIFEST = ".posters.json"


def short_url(url: str) -> str:
    """The address as a person types it: no scheme."""
    return url.split("://", 1)[-1]


def _name_size(name: str) -> str:
    """A class that shrinks long unit names so that they fit in two or three lines."""
    length = len(name)
    return ("longest" if length > 60 else "very-long" if length > 45
            else "long" if length > 26 else "")


def poster_html(survey, units, base_url: str, qr_folder: Path | None = None) -> str:
    """The HTML of the posters of `units` (one A4 page each). With qr_folder, the SVG files
    already drawn there are reused (when they encode the same URL)."""
    posters = []
    for unit in units:
        url = unit_url(base_url, survey.id, unit.code)
        svg_file = qr_folder / f"{unit.code}.svg" if qr_folder is not None else None
        posters.append({
            "name": unit.name, "parent": unit.parent or "", "size": _name_size(unit.name),
            "short_url": short_url(url),
            "svg": qr_svg_inline(url, label=f"Mã QR khảo sát: {unit.name}", svg_file=svg_file),
        })
    questions = len(survey.questions)
    minutes = max(1, math.ceil(questions * SECONDS_PER_QUESTION / 60))
    template = environment().get_template("print/poster.html")
    return template.render(root="", survey=survey, posters=posters, questions=questions,
                           minutes=minutes, anonymous=survey.access == "open")


def _batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def make_posters(survey, out: Path, base_url: str, allow_http: bool = False,
                 workers: int | None = None, batch: int = BATCH) -> str:
    """Render the posters PDFs; returns a one-line summary."""
    base = check_base_url(base_url, allow_http)
    folder = Layout(Path(out), survey.id).qr
    folder.mkdir(parents=True, exist_ok=True)
    combined = folder / "posters.pdf"
    per_unit = folder / "posters"
    groups = _batches(list(survey.units), batch)
    digest = _inputs_digest(survey, base, batch)
    manifest = folder / MANIFEST
    targets = [per_unit / f"{unit.code}.pdf" for unit in survey.units]
    if (_read_digest(manifest) == digest and combined.exists()
            and all(path.exists() for path in targets)):
        return _("Posters: unchanged, {combined} ({targets} pages) and {per_unit}/",
                 combined=combined, targets=len(targets), per_unit=per_unit)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".posters-") as work, \
            replacing_dir(per_unit) as fresh:
        job = (survey, base, folder, Path(work), fresh)
        pdfs = [Path(work) / f"batch-{i:05d}.pdf" for i in range(len(groups))]
        procs = max(1, min(workers or os.cpu_count() or 1, len(groups)))
        with steps(_("Printing posters"), len(survey.units)) as advance:
            _print_batches(job, groups, procs, advance)
        merge_pdfs(pdfs, combined)
    atomic_write_text(manifest, json.dumps({"format": FORMAT, "sha256": digest}))
    return _("Posters: {combined} ({targets} A4 pages) and one PDF per unit in {per_unit}/",
             combined=combined, targets=len(targets), per_unit=per_unit)


def _print_batches(job: tuple, groups: list[list], procs: int, advance) -> None:
    """Print every batch with `procs` browsers, one thread each: the threads mostly wait for
    Chromium, and one's Python part (HTML, split) runs while another's browser prints."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for item in enumerate(groups):
        todo.put(item)
    done: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    def work() -> None:
        try:
            with Printer() as printer:
                while not stop.is_set():
                    try:
                        i, group = todo.get_nowait()
                    except queue.Empty:
                        break
                    done.put(_make_batch(printer, job, i, group))
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            stop.set()
            done.put(exc)
        finally:
            done.put(None)

    threads = [threading.Thread(target=work, name=f"posters-{n}", daemon=True)
               for n in range(procs)]
    for thread in threads:
        thread.start()
    failure, running = None, procs
    try:
        while running:
            item = done.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                failure = failure or item
            else:
                advance(item)
    except BaseException:  # Ctrl-C: the workers close their browsers after the current batch
        stop.set()
        raise
    finally:
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure


def _make_batch(printer: Printer, job: tuple, i: int, group: list) -> int:
    """HTML, PDF and per-unit PDFs of batch `i`; its size."""
    survey, base, folder, work, fresh = job
    source = work / f"batch-{i:05d}.html"
    source.write_text(poster_html(survey, group, base, qr_folder=folder), encoding="utf-8")
    pdf = work / f"batch-{i:05d}.pdf"
    printer.print(source, pdf)
    split_pdf(pdf, [fresh / f"{unit.code}.pdf" for unit in group])
    return len(group)


def _inputs_digest(survey, base_url: str, batch: int) -> str:
    """A fingerprint of everything a poster shows, so an unchanged kit is not printed again
    (cheaper than rendering the HTML to compare it)."""
    parts = [str(FORMAT), str(batch), base_url, survey.id, survey.title, survey.organizer or "",
             survey.access, str(len(survey.questions))]
    parts += [f"{u.code}\t{u.name}\t{u.parent or ''}" for u in survey.units]
    parts += [(TEMPLATES / name).read_text(encoding="utf-8")
              for name in ("print/poster.html", "print/_sheet.css", "base.html", "_header.html",
                           "_footer.html")
              if (TEMPLATES / name).exists()]
    return hashlib.sha256("\n\f".join(parts).encode("utf-8")).hexdigest()


def _read_digest(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("sha256") if isinstance(data, dict) and data.get("format") == FORMAT else None
