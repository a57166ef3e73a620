"""The staff data-entry page for paper questionnaires (contract v3, section 9).

`build` writes it for a survey with `[entry] enabled = true` at `<out>/site/<id>/nhap-phieu/`
(index.html and its script entry.js) and records both in the survey's *staff* manifest
(hailong.sitefiles, part "entry"): deploy sends them only to a target marked audience =
"staff". The page is `noindex` and no public page links to it. A survey without the setting
has the folder removed and the part forgotten, so turning entry off takes the page away.

The page checks the form's code before sending: its shape, and, for each unit, a 24-bit
fingerprint (FNV-1a) of every code printed or issued for it so far (paper/forms.csv,
tickets/issued.csv, data/sample-codes.csv, links/links.csv), so a mistyped code is caught;
the page never holds a code itself. Codes issued after the build are not known to the page:
build again after printing (the page says a code is not on the list).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hailong import sitefiles
from hailong.collect.webapp import LOCAL_ENDPOINT
from hailong.fsutil import atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey import tickets
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.templating import TEMPLATES, environment

SEGMENT = "nhap-phieu"
PART = "entry"


def enabled(survey) -> bool:
    return bool(survey.settings.get("entry", {}).get("enabled", False))


def fingerprint(code: str) -> str:
    """The page's 24-bit check of a code (FNV-1a 32 over its UTF-8 bytes, top 24 bits)."""
    h = 0x811C9DC5
    for byte in code.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h >> 8:06x}"


def code_kind(survey) -> str:
    return "respondent_key" if survey.access in ("roster", "sample") else "ticket"


def known_codes(survey, out: Path) -> dict[str, set[str]]:
    """{unit code in upper case: codes printed or issued for it}, as the page compares them."""
    layout = Layout(Path(out), survey.id)
    found: dict[str, set[str]] = {}
    ticket_kind = code_kind(survey) == "ticket"

    def add(unit: str, code: str) -> None:
        code = code.strip()
        if ticket_kind:
            code = tickets.normalise(code) or ""
        if unit.strip() and code:
            found.setdefault(unit.strip().upper(), set()).add(code)

    sources = [(layout.root / "paper" / "forms.csv", "code"),
               (layout.tickets / "issued.csv", "ticket") if ticket_kind else None,
               (layout.data_file("sample-codes.csv"), "code") if not ticket_kind else None]
    for source in filter(None, sources):
        for row in _rows(source[0]):
            add(row.get("unit_code", ""), row.get(source[1], ""))
    if not ticket_kind:
        for row in _rows(layout.links / "links.csv"):
            token = parse_qs(urlsplit(row.get("url", "")).query).get("t", [""])[0]
            add(row.get("unit_code", ""), token)
    return found


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def entry_html(survey, out: Path) -> str:
    questions, number = [], 0
    for block in survey.blocks:
        for q in survey.questions:
            if q.block != block.id:
                continue
            number += 1
            questions.append({"id": q.id, "number": number, "text": q.text, "type": q.type,
                              "options": list(q.options),
                              "max": survey.scale.max if q.type == "scale" else len(q.options)})
    lists = {unit: sorted(fingerprint(c) for c in codes)
             for unit, codes in sorted(known_codes(survey, out).items())}
    codes = {"length": tickets.LENGTH, "units": lists}
    kind = survey.collector.kind
    action = survey.collector.url if kind == "apps_script" and survey.collector.url \
        else "../../" + LOCAL_ENDPOINT
    return environment().get_template("staff/entry.html").render(
        root="../../", survey=survey,
        units=[{"code": u.code, "name": u.name, "url": u.collector_url} for u in survey.units],
        questions=questions, types=[{"id": t, "label": RESPONDENT_TYPE_LABELS.get(t, t)}
                                    for t in survey.respondent_types],
        scale_min=survey.scale.min, scale_max=survey.scale.max, code_kind=code_kind(survey),
        action=action, codes_json=json.dumps(codes, separators=(",", ":")).replace("</", "<\\/"))


def write_entry_pages(surveys, out: Path) -> list[str]:
    """Write (or remove) each survey's data-entry page; lines for build's summary."""
    lines = []
    site = Path(out) / "site"
    for survey in surveys:
        folder = site / survey.id / SEGMENT
        if not enabled(survey):
            if folder.exists():
                shutil.rmtree(folder)
            sitefiles.forget(Path(out), survey.id, PART)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "index.html", entry_html(survey, Path(out)))
        atomic_write_text(folder / "entry.js",
                          (TEMPLATES / "staff" / "entry.js").read_text(encoding="utf-8"))
        sitefiles.record(Path(out), survey.id, PART, [folder / "index.html", folder / "entry.js"],
                         audience=sitefiles.STAFF)
        lines.append(_("  {id}: paper data-entry page (staff only, never published): {page}",
                       id=survey.id, page=folder / "index.html"))
    return lines
