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

import hashlib
import hmac
import re
import tempfile
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hailong.collect.pdf import html_to_pdf, merge_pdfs, split_pdf
from hailong.collect.qr import check_base_url, qr_svg_inline, write_qr
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv, atomic_write_text, replacing_dir
from hailong.layout import DEFAULT_OUT, Layout, unit_url
from hailong.survey.roster import load_roster
from hailong.survey.tokens import KEY_ENV, sign, signing_key
from hailong.ui import steps

TEMPLATES = Path(__file__).resolve().parents[2] / "site" / "templates"
BATCH = 200  # letters per Chromium call: a Chromium start costs more than many pages
KEY_CHECK = "key-check.txt"
# where a place name starts: the administrative level and the name after it ("tỉnh Hà Tĩnh");
# the "xã" of "thị xã" belongs to it, and the "xã" of "hợp tác xã" is no place
_PLACE = re.compile(r"\b(?=(?:tỉnh|thành phố|huyện|quận|thị xã|thị trấn|phường|(?<!thị )(?<!tác )xã)\s)",
                    re.IGNORECASE)
_COOPERATIVE = re.compile(r"\bhợp\s+tác\s+xã\b", re.IGNORECASE)


def personal_url(base_url: str, survey_id: str, unit_code: str, token: str) -> str:
    """The unit's survey page with the member's token; the page sends it as respondent_key."""
    return unit_url(base_url, survey_id, unit_code) + "?t=" + quote(token, safe="")


def key_check(key: bytes) -> str:
    """A fingerprint of the signing key, safe to keep beside the letters: it tells whether the
    same key is in use, and reveals nothing more of it than a signed link already does."""
    return hmac.new(key, b"hailong key check", hashlib.sha256).hexdigest()[:16]


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


def letters_html(survey, entries: list[dict]) -> str:
    """One HTML document holding one A4 letter per entry (a pure function of its inputs)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("print/letter.html").render(
        root="", survey=survey, letters=entries, deadline=survey.end.strftime("%d/%m/%Y"),
        organizer=keep_names_whole(survey.organizer),
        keep_last=survey.dedupe.keep == "last",
    )


def make_links(survey, out, base_url: str | None = None, allow_http: bool = False) -> str:
    """Sign a link per roster member and write links.csv, the QR codes and the letters.

    The address is `base_url` (--base-url) or, when not given, survey.toml's `base_url`."""
    key = signing_key()  # first: refuse before anything is written
    if survey.access != "roster":
        raise HailongError(
            f"survey '{survey.id}' has access = \"{survey.access}\"; personal links are for "
            "access = \"roster\" (set it in survey.toml and add roster.csv)"
        )
    if (base_url or "").strip():
        base = check_base_url(base_url, allow_http)
    elif (survey.base_url or "").strip():
        base = check_base_url(survey.base_url, allow_http, source=f"{survey.path / 'survey.toml'}: base_url")
    else:
        raise HailongError(
            f"no address for the personal links of '{survey.id}': give --base-url or set base_url in "
            f"survey.toml (e.g. base_url = \"https://khaosat.example.gov.vn\"), the https address "
            "the survey pages are published at"
        )
    layout = Layout(Path(out), survey.id)
    check = key_check(key)
    _same_key(layout, check)
    members = load_roster(survey)
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
        with steps("Tạo đường dẫn riêng", 2 * len(rows)) as advance, \
                tempfile.TemporaryDirectory(prefix="hailong-letters-") as work:
            for member_id, _, _, url in rows:  # first half of the bar: QR codes
                write_qr(url, fresh / "qr" / f"{member_id}.svg", fresh / "qr" / f"{member_id}.png")
                advance()
            parts = []
            for start in range(0, len(entries), BATCH):  # second half: the letters
                batch = entries[start:start + BATCH]
                html = Path(work) / f"letters-{start:06d}.html"
                html.write_text(letters_html(survey, batch), encoding="utf-8")
                pdf = Path(work) / f"letters-{start:06d}.pdf"
                html_to_pdf(html, pdf)
                split_pdf(pdf, [fresh / "letters" / f"{e['id']}.pdf" for e in batch])
                parts.append(pdf)
                advance(len(batch))
            merge_pdfs(parts, fresh / "letters.pdf")
    summary = (f"{len(rows)} personal links for {survey.id}: {layout.links / 'links.csv'}, QR codes "
               f"in {layout.links / 'qr'}, letters in {layout.links / 'letters.pdf'} and "
               f"{layout.links / 'letters'}/ (personal: do not publish)")
    if not layout.survey_site.exists():
        # the links point at the unit pages, which only `build` makes
        where = "" if Path(out) == DEFAULT_OUT else f" --out {out}"
        summary += (f"\nnote: the links open pages that are not built yet ({layout.survey_site} is "
                    f"missing): run `hailong build {survey.path} --base-url {base}{where}` and publish "
                    f"the site at {base}/ before sending the letters")
    return summary


def _same_key(layout: Layout, check: str) -> None:
    """Refuse to sign with a key other than the one the letters already made were signed with:
    the new letters would replace them silently, and `score` would then quarantine every
    answer sent from an earlier letter as an invalid token."""
    stored = layout.links / KEY_CHECK
    try:
        before = stored.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return  # first run (or links made before the check was kept)
    except OSError as exc:
        raise HailongError(f"{stored}: cannot read it ({exc.strerror})") from None
    if before != check:
        raise HailongError(
            f"{stored}: the personal links and letters already in {layout.links} were signed with "
            f"another {KEY_ENV}; signing again with this one would make every letter already sent "
            f"count for nothing (`score` quarantines its answers as invalid token). Set {KEY_ENV} "
            "back to the key used before; only to start over knowingly, with new letters sent to "
            f"every member, delete {layout.links} and run again"
        )
