"""Personal links for roster access (`hailong links`): a signed link, a QR code and a printed
letter per cooperative.

Everything goes to `<out>/<id>/links/` (Layout.links), which is personal and never published:
`links.csv` (id,name,unit_code,url), `qr/<id>.svg|png`, `letters.pdf` (every letter, one A4
page each, for printing at once), `letters/<id>.pdf` and `key-check.txt`, a fingerprint of the
signing key (never the key) so that a run under another key cannot silently replace letters
already sent. The folder is built aside and swapped in whole, so a failed run leaves the
previous links in place.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from hailong.collect.pdf import html_to_pdf, merge_pdfs, split_pdf
from hailong.collect.qr import check_base_url, qr_svg_inline, write_qr
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv, atomic_write_text, replacing_dir
from hailong.i18n import _
from hailong.layout import DEFAULT_OUT, Layout, unit_url
from hailong.survey.keycheck import KEY_CHECK, key_check, require_same_key
from hailong.survey.roster import Member, load_roster
from hailong.survey.tokens import KEY_ENV, sign, signing_key
from hailong.templating import environment
from hailong.ui import steps

BATCH = 200  # letters per Chromium call: a Chromium start costs more than many pages
# where a place name starts: the administrative level and the name after it ("tỉnh Hà Tĩnh");
# the "xã" of "thị xã" belongs to it, and the "xã" of "hợp tác xã" is no place
_PLACE = re.compile(r"\b(?=(?:tỉnh|thành phố|huyện|quận|thị xã|thị trấn|phường|(?<!thị )(?<!tác )xã)\s)",
                    re.IGNORECASE)
_COOPERATIVE = re.compile(r"\bhợp\s+tác\s+xã\b", re.IGNORECASE)


def personal_url(base_url: str, survey_id: str, unit_code: str, token: str) -> str:
    """The unit's survey page with the member's token; the page sends it as respondent_key."""
    return unit_url(base_url, survey_id, unit_code) + "?t=" + quote(token, safe="")


def _glue(text: str) -> str:
    return re.sub(r"\s+", "\u00a0", text)


def keep_names_whole(text: str) -> str:
    """Non-breaking spaces inside each place name ("tỉnh Hà Tĩnh", "huyện Nghi Xuân", up to the
    next place or comma) and inside "hợp tác xã": a printed header must never end a line with
    «HÀ» and start the next with «TĨNH»."""
    starts = [m.start() for m in _PLACE.finditer(text)]
    ends = [*starts[1:], len(text)] if starts else []
    parts = [text[:starts[0]] if starts else text]
    for start, stop in zip(starts, ends, strict=True):
        name, comma, rest = text[start:stop].partition(",")
        kept = name.rstrip()
        parts.append(_glue(kept) + name[len(kept):] + comma + rest)
    return _COOPERATIVE.sub(lambda m: _glue(m.group()), "".join(parts))


def date_line(place: str, day: dt.date) -> str:
    """"Hà Tĩnh, ngày 05 tháng 12 năm 2026" as an official letter writes it (Decree 30/2020):
    a day below 10 and the months 1 and 2 with a leading zero."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place + ', ' if place else ''}ngày {day.day:02d} tháng {month} năm {day.year}"


def url_pieces(url: str) -> tuple[list[str], str]:
    """(the address up to the token, cut after each '/' where a printed line may break; the
    token with its '?t='), so a line never breaks inside the token someone copies by hand."""
    base, sep, query = url.partition("?")
    return re.findall(r"[^/]*/|[^/]+$", base), sep + query


def letters_html(survey, entries: list[dict], day: dt.date | None = None) -> str:
    """One HTML document holding one A4 letter per entry (a pure function of its inputs);
    `day` is the letters' date when survey.toml's [letter] date is not given."""
    env = environment()
    letter = survey.settings.get("letter", {})
    when = dt.date.fromisoformat(letter["date"]) if letter.get("date") else (day or dt.date.today())
    entries = [{**e, "url_pieces": url_pieces(e["url"])} for e in entries]
    return env.get_template("print/letter.html").render(
        root="", survey=survey, letters=entries, deadline=survey.end.strftime("%d/%m/%Y"),
        organizer=keep_names_whole(survey.organizer),
        keep_last=survey.dedupe.keep == "last", sample=survey.access == "sample",
        number=letter.get("number", ""), date_line=date_line(letter.get("place", ""), when),
        signer_title=[t for t in letter.get("signer_title", "").split("\n") if t.strip()],
        signer_name=letter.get("signer_name", ""),
    )


def sample_members(survey, layout: Layout) -> list[Member]:
    """The active members of a sample survey as roster members: name and address from
    transactions.csv (the letter is addressed to them; the list itself holds ids only)."""
    from hailong.field.sample import read_transactions
    from hailong.survey.sampled import load_state

    found = {row.get("id", "").strip(): row for row in read_transactions(survey)}
    members = []
    for m in load_state(layout).active():
        row = found.get(m.id, {})
        members.append(Member(m.id, row.get("name", "").strip() or m.id, m.unit_code,
                              district=row.get("address", "").strip()))
    return members


def make_links(survey, out, base_url: str | None = None, allow_http: bool = False) -> str:
    """Sign a link per roster member and write links.csv, the QR codes and the letters.

    The address is `base_url` (--base-url) or, when not given, survey.toml's `base_url`."""
    key = signing_key()  # first: refuse before anything is written
    if survey.access not in ("roster", "sample"):
        raise HailongError(
            _('survey \'{id}\' has access = "{access}"; personal links are for access = "roster" '
              "(set it in survey.toml and add roster.csv)", id=survey.id, access=survey.access)
        )
    if (base_url or "").strip():
        base = check_base_url(base_url, allow_http)
    elif (survey.base_url or "").strip():
        base = check_base_url(survey.base_url, allow_http, source=f"{survey.path / 'survey.toml'}: base_url")
    else:
        raise HailongError(
            _("no address for the personal links of '{id}': give --base-url or set base_url in "
              'survey.toml (e.g. base_url = "https://khaosat.example.gov.vn"), the https '
              "address the survey pages are published at", id=survey.id)
        )
    layout = Layout(Path(out), survey.id)
    today = dt.datetime.now(survey.tz).date()
    check = key_check(key)
    _same_key(layout, check)
    # a sample survey: the active members only (official list, minus replaced, plus reserves)
    members = load_roster(survey) if survey.access == "roster" else sample_members(survey, layout)
    units = {u.code: u for u in survey.units}
    entries, rows = [], []
    for m in members:
        url = personal_url(base, survey.id, m.unit_code, sign(survey.id, m.id, key))
        rows.append((m.id, m.name, m.unit_code, url))
        entries.append({"id": m.id, "name": m.name, "tax_code": m.tax_code,
                        "district": m.district, "unit": units[m.unit_code].name, "url": url,
                        "svg": qr_svg_inline(url, label=f"Mã QR trả lời khảo sát của {m.name}")})
    with replacing_dir(layout.links) as fresh:
        atomic_write_text(fresh / KEY_CHECK, check + "\n")
        atomic_write_csv(fresh / "links.csv",
                         pd.DataFrame(rows, columns=["id", "name", "unit_code", "url"]))
        with steps(_("Creating personal links"), 2 * len(rows)) as advance, \
                tempfile.TemporaryDirectory(prefix="hailong-letters-") as work:
            for member_id, _name, _unit, url in rows:  # first half of the bar: QR codes
                write_qr(url, fresh / "qr" / f"{member_id}.svg", fresh / "qr" / f"{member_id}.png")
                advance()
            parts = []
            for start in range(0, len(entries), BATCH):  # second half: the letters
                batch = entries[start:start + BATCH]
                html = Path(work) / f"letters-{start:06d}.html"
                html.write_text(letters_html(survey, batch, today), encoding="utf-8")
                pdf = Path(work) / f"letters-{start:06d}.pdf"
                html_to_pdf(html, pdf)
                split_pdf(pdf, [fresh / "letters" / f"{e['id']}.pdf" for e in batch])
                parts.append(pdf)
                advance(len(batch))
            merge_pdfs(parts, fresh / "letters.pdf")
    summary = (_("{rows} personal links for {id}: {value}, QR codes in {value2}, letters in "
                 "{value3} and {value4}/ (personal: do not publish)",
                 rows=len(rows), id=survey.id, value=layout.links / 'links.csv',
                 value2=layout.links / 'qr', value3=layout.links / 'letters.pdf',
                 value4=layout.links / 'letters'))
    if not layout.survey_site.exists():
        # the links point at the unit pages, which only `build` makes
        where = "" if Path(out) == DEFAULT_OUT else f" --out {out}"
        summary += (_("\nnote: the links open pages that are not built yet ({survey_site} is "
                      "missing): run `hailong build {path} --base-url {base}{where}` and publish "
                      "the site at {base}/ before sending the letters",
                      survey_site=layout.survey_site, path=survey.path, base=base, where=where))
    return summary


def _same_key(layout: Layout, check: str) -> None:
    """Refuse to sign with a key other than the one the letters already made were signed with:
    the new letters would replace them silently, and `score` would then quarantine every
    answer sent from an earlier letter as an invalid token."""
    require_same_key(layout.links, check, _(
        "the personal links and letters already in {links} were signed with another {KEY_ENV}; "
        "signing again with this one would make every letter already sent count for nothing "
        "(`score` quarantines its answers as invalid token). Set {KEY_ENV} back to the key used "
        "before; only to start over knowingly, with new letters sent to every member, delete "
        "{links} and run again", links=layout.links, KEY_ENV=KEY_ENV))
