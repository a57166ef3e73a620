"""`hailong paper`: printable A4 paper questionnaires (contract v3, section 9).

Every form carries the code that identifies it, as text and as a QR code of the unit's page
carrying the code, so the respondent may answer online instead and the clerks' two keyings of
the form can be matched in score (hailong.score.keying):
- roster and sample surveys: one form per member (for a sample survey, per active member:
  hailong.survey.sampled), the code being the member's signed token (`respondent_key`; the QR
  opens the page with `?t=`, as the personal letters do);
- open and tickets surveys: `--count N` forms per unit, each with a new signed ticket issued
  and recorded exactly as `hailong tickets` records them (tickets/issued.csv; the QR opens the
  page with `#ve=`);
- `--blank`: one copy per unit without any code, for a cooperative's board to agree its answers
  in a meeting before filling in its own coded form.
Output: `<out>/<id>/paper/<unit code>.pdf` (each unit's forms, for the office that hands them
out; a unit printed again has its file replaced, other units' files stay) and
`<out>/<id>/paper/forms.csv` (`code,unit_code,kind,id`: every code printed so far and its unit;
personal for roster and sample surveys, never published). The PDFs are printed through
the posters' Chromium (hailong.collect.printer), one browser for every unit.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
from filelock import FileLock

from hailong.collect import tickets as ticketing
from hailong.collect.posters import short_url
from hailong.collect.printer import Printer
from hailong.collect.qr import qr_svg_inline
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_csv, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout, unit_url
from hailong.survey import tickets
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.survey.keycheck import KEY_CHECK, key_check, require_same_key, stored_check
from hailong.survey.tokens import KEY_ENV, sign, signing_key
from hailong.templating import environment
from hailong.ui import steps

FOLDER = "paper"
FORMS = "forms.csv"
FORM_COLUMNS = ["code", "unit_code", "kind", "id"]


def _read_forms(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=FORM_COLUMNS)
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")[FORM_COLUMNS]


def paper_html(survey, forms: list[dict]) -> str:
    """One HTML document holding the given forms, one after the other (a pure function)."""
    number = 0
    blocks = []
    for block in survey.blocks:
        questions = []
        for q in survey.questions:
            if q.block == block.id:
                number += 1
                questions.append({"id": q.id, "number": number, "text": q.text, "type": q.type,
                                  "options": list(q.options)})
        if questions:
            blocks.append({"title": block.title, "questions": questions})
    labels = list(survey.scale.labels)
    scale = [{"value": v, "label": labels[i] if i < len(labels) else str(v)}
             for i, v in enumerate(range(survey.scale.min, survey.scale.max + 1))]
    types = [{"id": t, "label": RESPONDENT_TYPE_LABELS.get(t, t)} for t in survey.respondent_types]
    return environment().get_template("print/paper.html").render(
        root="", survey=survey, forms=forms, blocks=blocks, scale=scale, types=types,
        organizer=survey.organizer, deadline=survey.end.strftime("%d/%m/%Y"))


def make_paper(survey, out, base_url: str | None = None, units=(), count: int | None = None,
               blank: bool = False, day: dt.date | None = None, allow_http: bool = False) -> str:
    """Print the paper questionnaires; a summary of what was written."""
    base = ticketing._base(survey, base_url, allow_http)
    layout = Layout(Path(out), survey.id)
    picked = ticketing._units(survey, units)
    folder = layout.root / FOLDER
    if blank:
        forms = [_blank(unit) for unit in picked]
        rows: list[tuple] = []
    elif survey.access in ("roster", "sample"):
        if count is not None:
            raise HailongError(_("--count: a {access} survey prints one form per member; leave "
                                 "--count out", access=survey.access))
        forms, rows = _members(survey, layout, picked, base)
    else:
        if count is None:
            raise HailongError(_("--count N: how many forms to print per unit (each gets its own "
                                 "ticket), e.g. --count 30"))
        forms, rows = _tickets(survey, layout, picked, count, day, base)
    by_unit: dict[str, list[dict]] = {}
    for form in forms:
        by_unit.setdefault(form["unit_code"], []).append(form)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hailong-paper-") as work, \
            steps(_("Printing paper questionnaires"), len(by_unit)) as advance, \
            Printer() as printer:
        for code, unit_forms in by_unit.items():
            html = Path(work) / f"{code}.html"
            html.write_text(paper_html(survey, unit_forms), encoding="utf-8")
            pdf = Path(work) / f"{code}.pdf"
            printer.print(html, pdf)
            # each unit's file replaced whole; other units' files stay
            atomic_write_bytes(folder / f"{code}.pdf", pdf.read_bytes())
            advance()
    if rows:
        # every code printed so far (the data-entry page checks typed codes against them)
        before = _read_forms(folder / FORMS)
        new = pd.DataFrame(rows, columns=FORM_COLUMNS)
        atomic_write_csv(folder / FORMS, pd.concat([before, new]).drop_duplicates(
            "code", keep="last").reset_index(drop=True))
    what = _("blank meeting copies") if blank else _("questionnaires")
    return _("{count} {what} for {units} unit(s) in {folder}/ (one PDF per unit; A4, print "
             "single-sided){extra}", count=len(forms), what=what, units=len(by_unit),
             folder=folder, extra="" if blank else _("; their codes: {path} (not published)",
                                                     path=folder / FORMS))


def _form(unit, code: str, shown: str, url: str | None, rtype: str = "") -> dict:
    return {"unit_code": unit.code, "unit": unit.name, "code": code, "shown": shown,
            "blank": False, "rtype": rtype,
            "svg": qr_svg_inline(url, label=f"Mã QR trả lời trực tuyến: {unit.name}")
            if url else "", "short_url": short_url(url) if url else ""}


def _blank(unit) -> dict:
    return {**_form(unit, "", "", None), "blank": True}


def _members(survey, layout: Layout, picked, base: str) -> tuple[list[dict], list[tuple]]:
    """A form per (active) member of the picked units, coded with the member's token."""
    from urllib.parse import quote

    key = signing_key()
    require_same_key(layout.links, key_check(key), _(
        "the personal codes already handed out were signed with another {KEY_ENV}; set it back",
        KEY_ENV=KEY_ENV))
    if survey.access == "roster":
        from hailong.survey.roster import load_roster

        members = [(m.id, m.unit_code, "") for m in load_roster(survey)]
    else:
        from hailong.survey.sampled import load_state

        members = [(m.id, m.unit_code, m.respondent_type) for m in load_state(layout).active()]
    wanted = {u.code: u for u in picked}
    forms, rows = [], []
    for member_id, code, rtype in members:
        unit = wanted.get(code)
        if unit is None:
            continue
        token = sign(survey.id, member_id, key)
        url = unit_url(base, survey.id, code) + "?t=" + quote(token, safe="")
        forms.append(_form(unit, token, token, url, rtype))
        rows.append((token, code, "respondent_key", member_id))
    if stored_check(layout.links) is None:
        atomic_write_text(layout.links / KEY_CHECK, key_check(key) + "\n")
    return forms, rows


def _tickets(survey, layout: Layout, picked, count: int, day: dt.date | None,
             base: str) -> tuple[list[dict], list[tuple]]:
    """`count` forms per unit, each with a new ticket recorded in tickets/issued.csv exactly as
    `hailong tickets` records its slips (serials continue; the key is checked)."""
    if not 1 <= count <= ticketing.MAX_COUNT:
        raise HailongError(_("--count {count}: give a number of tickets per unit from 1 to {max}",
                             count=count, max=ticketing.MAX_COUNT))
    key = signing_key()
    day = ticketing._day(survey, day)
    folder = layout.tickets
    folder.mkdir(parents=True, exist_ok=True)
    check = key_check(key)
    with FileLock(str(folder / ".lock")):
        ticketing._same_key(folder, check)
        issued = ticketing.read_issued(folder / ticketing.ISSUED)
        of_day = issued[issued["date"] == day.isoformat()]
        last = {code.upper(): int(s) for code, s in
                of_day.groupby(of_day["unit_code"].str.upper())["serial"].apply(
                    lambda s: s.astype(int).max()).items()}
        new, _printed = ticketing._issue(survey, picked, last, ticketing.numbers_taken(of_day),
                                         count, day, key, base, False, lambda *_a: None)
        table = pd.concat([issued, pd.DataFrame(new, columns=ticketing.COLUMNS)],
                          ignore_index=True)
        if stored_check(folder) is None:
            atomic_write_text(folder / KEY_CHECK, check + "\n")
        atomic_write_bytes(folder / ticketing.ISSUED, ticketing._csv_bytes(table))
    units = {u.code: u for u in picked}
    forms, rows = [], []
    for ticket, code, _date, serial in new:
        url = ticketing.ticket_url(base, survey.id, code, ticket)
        forms.append(_form(units[code], ticket, tickets.display(ticket), url))
        rows.append((ticket, code, "ticket", serial))
    return forms, rows
