"""Personal links for roster access (`hailong links`): a signed link, a QR code and a printed
letter per cooperative.

Everything goes to `<out>/<id>/links/` (Layout.links), which is personal and never published:
`links.csv` (id,name,unit_code,url), `qr/<id>.svg|png`, `letters.pdf` (every letter, one A4
page each, for printing at once) and `letters/<id>.pdf`. The folder is built aside and swapped
in whole, so a failed run leaves the previous links in place.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv, replacing_dir
from hailong.layout import Layout, unit_url
from hailong.pdf import html_to_pdf, merge_pdfs, split_pdf
from hailong.qr import check_base_url, qr_svg_inline, write_qr
from hailong.roster import load_roster
from hailong.tokens import sign, signing_key

TEMPLATES = Path(__file__).resolve().parent.parent / "site" / "templates"
BATCH = 200  # letters per Chromium call: a Chromium start costs more than many pages


def personal_url(base_url: str, survey_id: str, unit_code: str, token: str) -> str:
    """The unit's survey page with the member's token; the page sends it as respondent_key."""
    return unit_url(base_url, survey_id, unit_code) + "?t=" + quote(token, safe="")


def letters_html(survey, entries: list[dict]) -> str:
    """One HTML document holding one A4 letter per entry (a pure function of its inputs)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("print/letter.html").render(
        root="", survey=survey, letters=entries, deadline=survey.end.strftime("%d/%m/%Y"),
        keep_last=survey.dedupe.keep == "last",
    )


def make_links(survey, out, base_url: str, allow_http: bool = False) -> str:
    """Sign a link per roster member and write links.csv, the QR codes and the letters."""
    key = signing_key()  # first: refuse before anything is written
    if survey.access != "roster":
        raise HailongError(
            f"survey '{survey.id}' has access = \"{survey.access}\"; personal links are for "
            "access = \"roster\" (set it in survey.toml and add roster.csv)"
        )
    base = check_base_url(base_url, allow_http)
    members = load_roster(survey)
    units = {u.code: u for u in survey.units}
    layout = Layout(Path(out), survey.id)
    entries, rows = [], []
    for m in members:
        url = personal_url(base, survey.id, m.unit_code, sign(survey.id, m.id, key))
        rows.append((m.id, m.name, m.unit_code, url))
        entries.append({"id": m.id, "name": m.name, "tax_code": m.tax_code,
                        "district": m.district, "unit": units[m.unit_code].name, "url": url,
                        "svg": qr_svg_inline(url, label=f"Mã QR trả lời khảo sát của {m.name}")})
    with replacing_dir(layout.links) as fresh:
        atomic_write_csv(fresh / "links.csv",
                         pd.DataFrame(rows, columns=["id", "name", "unit_code", "url"]))
        for member_id, _, _, url in rows:
            write_qr(url, fresh / "qr" / f"{member_id}.svg", fresh / "qr" / f"{member_id}.png")
        with tempfile.TemporaryDirectory(prefix="hailong-letters-") as work:
            parts = []
            for start in range(0, len(entries), BATCH):
                batch = entries[start:start + BATCH]
                html = Path(work) / f"letters-{start:06d}.html"
                html.write_text(letters_html(survey, batch), encoding="utf-8")
                pdf = Path(work) / f"letters-{start:06d}.pdf"
                html_to_pdf(html, pdf)
                split_pdf(pdf, [fresh / "letters" / f"{e['id']}.pdf" for e in batch])
                parts.append(pdf)
            merge_pdfs(parts, fresh / "letters.pdf")
    return (f"{len(rows)} personal links for {survey.id}: {layout.links / 'links.csv'}, QR codes "
            f"in {layout.links / 'qr'}, letters in {layout.links / 'letters.pdf'} and "
            f"{layout.links / 'letters'}/ (personal: do not publish)")
