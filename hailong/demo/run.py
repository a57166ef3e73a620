"""`hailong demo`: the whole pipeline on a shipped survey with generated answers.

build the site → fill the local sheet with generated answers (through the same append the
preview server uses) → weekly (pull, score, publish) → say where the pages and files are.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

from hailong import sitefiles
from hailong.collect.localsheet import append_row
from hailong.demo.generate import generate_responses
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey.load import Survey, load_survey
from hailong.survey.sampled import load_state
from hailong.survey.tokens import KEY_ENV

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SURVEY = REPO / "surveys" / "sipas-xa-2020"
DEMO_KEY = "hailong-demo-key-public-never-use-for-a-real-survey"
# <out>/<id>/.hailong-demo: the manifest of every file the demo wrote for a survey, so the next
# run may clear them, and only them
MANIFEST = ".hailong-demo"
SITE_STATIC = "static"  # <out>/site/static/: shared by every survey of a site


def run_demo(out: str | Path, survey_dir: str | Path | None = None, seed: int = 2020) -> str:
    out = Path(out)
    survey = load_survey(Path(survey_dir) if survey_dir else DEFAULT_SURVEY)
    if survey.collector.kind != "local":
        raise HailongError(
            _("{path}: the demo fills the embedded local sheet, but collector.kind is '{kind}'; "
              'use a survey with collector.kind = "local"',
              path=survey.path, kind=survey.collector.kind)
        )
    layout = Layout(out, survey.id)
    # earlier years of the same series too, so the results pages show the change over time
    earlier = earlier_in_series(survey)
    layouts = [Layout(out, s.id) for s in (*earlier, survey)]
    # every check before anything is removed: a refusal must leave every folder as it was
    check_site(out, [lay.survey_id for lay in layouts])
    for lay in layouts:
        check_clearable(lay)
    for lay in layouts:
        clear(lay)
        # made-up answers: their pages say so, and deploy refuses them for the public
        atomic_write_text(lay.demo_mark, "hailong demo: generated answers, never publish\n")
    notes = [_fill_and_score(s, out, seed + s.year) for s in earlier]
    if survey.access in ("roster", "tickets", "sample") and not os.environ.get(KEY_ENV, "").strip():
        # personal links and tickets need a signing key; a demo may use a fixed, public one
        os.environ[KEY_ENV] = DEMO_KEY
        notes.append(_("note: {KEY_ENV} was not set; the demo signed its personal links or "
                       "tickets with a fixed demo key (never use it for a real survey)",
                       KEY_ENV=KEY_ENV))

    lines = [*notes, _build(survey, out)]
    members = None
    if survey.access == "sample":
        lines.append(_draw_sample(survey, out, seed))
        members = [(m.id, m.unit_code, m.respondent_type)
                   for m in load_state(layout).active()]
    rows = generate_responses(survey, seed=seed, members=members)
    if survey.access == "tickets":
        lines.append(_issue_tickets(survey, out, rows))
    for row in rows:
        append_row(layout.sheet_csv, survey.response_columns, row)
    lines.append(_("generated {rows} answers (seed {seed}) into {sheet_csv}",
                   rows=len(rows), seed=seed, sheet_csv=layout.sheet_csv))
    lines.append(_weekly(survey, out))
    lines.append(summary(survey, layout))
    # last, so the manifest lists exactly what this run left behind
    for lay in layouts:
        write_manifest(lay)
    return "\n".join(line for line in lines if line)


def _draw_sample(survey: Survey, out: Path, seed: int) -> str:
    """A sample survey: draw it, then replace the first member of the first unit as someone
    who could not be reached, so the demo shows a replacement from the reserve."""
    from hailong.field.sample import draw_sample, replace_member

    lines = [draw_sample(survey, out, seed)]
    first = load_state(Layout(out, survey.id)).official[:1]
    if first:
        lines.append(replace_member(survey, out, first[0].id, "unreachable"))
    return "\n".join(lines)


def _issue_tickets(survey: Survey, out: Path, rows: list[dict[str, str]]) -> str:
    """Record the tickets the generated visitors hold, as `hailong tickets` would have issued
    them each morning (serials from 1 up, a few more than each office's visitors used), without
    printing slips: the visitors are generated."""
    import datetime as dt

    from hailong.collect.tickets import make_tickets
    from hailong.demo.generate import demo_start
    from hailong.survey.tickets import NUMBERS, check
    from hailong.survey.tokens import signing_key

    key = signing_key()
    most: dict[tuple[dt.date, str], int] = {}
    for row in rows:
        unit = survey.find_unit(row["unit_code"])
        day = dt.date.fromisoformat(row["submitted_at"][:10])
        got = check(survey.id, unit.code, row["ticket"], day, key) if unit else None
        if got is not None and got.ok and survey.start <= got.date <= survey.end:
            serial = (got.number - demo_start(survey.id, unit.code, got.date)) % NUMBERS + 1
            most[got.date, unit.code] = max(most.get((got.date, unit.code), 0), serial)
    spare = 2  # slips handed out to visitors who then did not answer
    for (day, code), serial in sorted(most.items()):
        make_tickets(survey, out, serial + spare, units=[code], day=day, slips=False,
                     start=lambda unit, when: demo_start(survey.id, unit, when))
    issued = sum(n + spare for n in most.values())
    return _("issued {issued} tickets for the generated visitors into {path}/", issued=issued,
             path=Layout(out, survey.id).tickets)


def earlier_in_series(survey: Survey) -> list[Survey]:
    """Shipped surveys of the same series and an earlier year, oldest first."""
    if not survey.series or survey.year is None:
        return []
    found = []
    for toml in sorted(survey.path.parent.glob("*/survey.toml")):
        if toml.parent.resolve() == survey.path.resolve():
            continue
        other = load_survey(toml.parent)
        if other.series == survey.series and other.year is not None and other.year < survey.year \
                and other.collector.kind == "local":
            found.append(other)
    return sorted(found, key=lambda s: s.year)


def _fill_and_score(survey: Survey, out: Path, seed: int) -> str:
    from hailong.ingest.pull import pull
    from hailong.score.pipeline import score

    layout = Layout(out, survey.id)
    rows = generate_responses(survey, seed=seed)
    for row in rows:
        append_row(layout.sheet_csv, survey.response_columns, row)
    pull(survey, out)
    score(survey, out)
    return _("scored the earlier survey '{id}' of the series ({rows} generated answers)",
             id=survey.id, rows=len(rows))


# -- what the demo may clear ---------------------------------------------------------------
# The demo clears its folders on every run so that `make demo` is repeatable. The same folders
# are where real work goes (answers posted through `hailong serve`, QR posters, samples,
# history), so it clears only what it can prove it made: every file listed in its manifest,
# unchanged, and nothing else.
def _refuse(path: Path, why: str) -> HailongError:
    return HailongError(
        _("{path}: {why}; the demo would overwrite work that it did not make, so run it "
          "with another --out folder (e.g. --out output/demo)", path=path, why=why)
    )


def _owned(layout: Layout) -> list[Path]:
    """The folders of one survey that the demo writes and clears."""
    return [layout.root, layout.survey_site]


def _walk(layout: Layout):
    """(relative path, path) of every file and folder under the survey's folders but the
    manifest itself, in a stable order so the error names the same file every time."""
    manifest = layout.root / MANIFEST
    for top in _owned(layout):
        if not top.exists():
            continue
        for path in sorted(top.rglob("*")):
            if path != manifest:
                yield path.relative_to(layout.out).as_posix(), path


def _entry(path: Path) -> dict:
    if path.is_dir() and not path.is_symlink():
        return {"dir": True}
    st = path.lstat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "sha256": "" if path.is_symlink() else sitefiles.digest(path)}


def write_manifest(layout: Layout) -> None:
    """List every file and folder the demo left for this survey (path -> size, mtime, hash)."""
    files = {rel: _entry(path) for rel, path in _walk(layout)}
    layout.root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(layout.root / MANIFEST, json.dumps(
        {"made_by": "hailong demo", "survey": layout.survey_id, "files": files},
        ensure_ascii=False, indent=1, sort_keys=True) + "\n")


def _read_manifest(layout: Layout) -> dict | None:
    """The manifest's entries; None when there is none. A marker of an older demo, which
    listed nothing, cannot vouch for any file."""
    path = layout.root / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        files = data["files"]
        if data.get("survey") != layout.survey_id or not isinstance(files, dict):
            raise ValueError
        return files
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, OSError):
        raise _refuse(path, _("this demo marker lists no files (an older demo made it, or it was "
                              "edited), so the demo's files cannot be told from later work")) from None


def _unchanged(path: Path, entry: dict) -> bool:
    if entry.get("dir"):
        return path.is_dir() and not path.is_symlink()
    if path.is_dir() or not path.is_symlink() and not path.is_file():
        return False
    st = path.lstat()
    if st.st_size != entry.get("size"):
        return False
    # a lock file reopened, or a file rewritten with the same bytes, is still the demo's
    return st.st_mtime_ns == entry.get("mtime_ns") or (
        not path.is_symlink() and sitefiles.digest(path) == entry.get("sha256"))


def check_clearable(layout: Layout) -> None:
    """Raise unless everything in the survey's folders is listed, unchanged, in the manifest."""
    files = _read_manifest(layout)
    for rel, path in _walk(layout):
        if files is None or rel not in files:
            raise _refuse(path, _("added after the demo ran") if files is not None else
                          _("not listed in a demo manifest ({MANIFEST})", MANIFEST=MANIFEST))
        if not _unchanged(path, files[rel]):
            raise _refuse(path, _("changed since the demo wrote it"))


def check_site(out: Path, ids: list[str]) -> None:
    """Refuse a site that holds surveys the demo does not make: the demo would add its survey,
    with generated rankings, to that real home page."""
    site = Layout(out, "").site
    if not site.is_dir():
        return
    for path in sorted(site.iterdir()):
        if path.is_dir() and path.name not in {*ids, SITE_STATIC}:
            raise _refuse(path, _("a survey the demo did not make: this is a real site, and the "
                                  "demo would add its generated rankings to its home page"))


def clear(layout: Layout) -> None:
    """Remove the survey's folders; call only after check_clearable."""
    for top in _owned(layout):
        shutil.rmtree(top, ignore_errors=True)
    layout.root.mkdir(parents=True, exist_ok=True)


def _build(survey: Survey, out: Path) -> str:
    from hailong.collect.build import build_site

    return build_site([survey], out)


def _weekly(survey: Survey, out: Path) -> str:
    from hailong.jobs import weekly

    return weekly(survey, out)


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, newline="", encoding="utf-8") as fh:
        return max(0, sum(1 for _ in csv.reader(fh)) - 1)


def summary(survey: Survey, layout: Layout) -> str:
    data = layout.data
    raw = _count(layout.raw_csv)
    accepted = _count(data / "responses.csv")
    quarantined = _count(data / "quarantine.csv")
    duplicates = _count(data / "duplicates.csv")
    ranked = 0
    ranking = data / "ranking.csv"
    if ranking.exists():
        with open(ranking, newline="", encoding="utf-8") as fh:
            ranked = sum(1 for r in csv.DictReader(fh) if r.get("ranked") == "true")
    page = layout.results / "index.html"
    return "\n".join([
        "",
        _("Demo of '{id}': {raw} rows read = {accepted} accepted + {quarantined} quarantined + "
          "{duplicates} duplicates; {ranked} of {units} units ranked",
          id=survey.id, raw=raw, accepted=accepted, quarantined=quarantined, duplicates=duplicates,
          ranked=ranked, units=len(survey.units)),
        "  " + _("ranking page: {page}",
                 page=page) + ("" if page.exists() else " " + _("(not written)")),
        "  " + _("data files:   {data}/ (responses.csv, quarantine.csv, duplicates.csv, "
                 "ranking.csv, questions.csv)", data=data),
        "  " + _("local sheet:  {sheet_csv}", sheet_csv=layout.sheet_csv),
        "  " + _("preview:      .venv/bin/hailong serve {path} --out {out}",
                 path=survey.path, out=layout.out),
    ])
