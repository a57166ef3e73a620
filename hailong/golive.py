"""The go-live check (`hailong check`): what would lose answers or mislead, before printing
or publishing.

It reads the survey's settings (survey/), what was built and printed for it (collect/'s
pages and QR manifest) and the key check beside the signed links and tickets. It is a job,
not a stage: it never writes anything. Each problem is one Vietnamese line that says what is
wrong and how to fix it.

The print commands (build, qr, tickets, links, paper) call `refuse_for_print` with a public
(https) base URL: it runs the checks that concern what they make and refuses with one line.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import HailongError
from hailong.i18n import _, ngettext
from hailong.layout import Layout, unit_url
from hailong.survey import keycheck
from hailong.survey.load import Survey
from hailong.survey.tokens import KEY_ENV, signing_key
from hailong.survey.units import MERGED, province_names

# An Apps Script web app's address: script.google.com/macros/s/<deployment id>/exec, or the
# Workspace form /a/<domain>/macros/s/<id>/exec. /dev runs the last saved code for its owner
# only (citizens get a sign-in page); a Drive or editor link is no web app at all.
EXEC_URL = re.compile(r"^https://script\.google\.com/(a/[A-Za-z0-9.-]+/)?macros/s/"
                      r"[A-Za-z0-9_-]{20,}/exec$")
MARK = "SỬA"  # what `hailong new` writes ("# SỬA: …") above every setting to look at
# the districts (huyện, quận, thị xã, district towns) were abolished on 1 July 2025
DISTRICTS_ABOLISHED = dt.date(2025, 7, 1)
_DISTRICT_PREFIXES = ("huyện ", "quận ", "thị xã ", "thị trấn ")

# what each print command makes, and so which checks concern it
CONCERNS = {
    "build": {"collector", "exec"},
    "qr": {"collector", "exec", "over"},
    "tickets": {"collector", "exec", "over", "key"},
    "links": {"collector", "exec", "over", "deadline", "key"},
    # a paper form's QR code opens the unit's page (to answer online instead), and its code
    # is signed like a ticket or a personal link
    "paper": {"collector", "exec", "over", "key"},
}


@dataclass(frozen=True)
class Problem:
    kind: str  # collector | exec | over | started | deadline | edit | unit | key | built
    message: str  # one line: what is wrong and the fix


def is_public(base_url: str | None) -> bool:
    """A base URL the public reads (https): printing for it is final."""
    return (base_url or "").strip().lower().startswith("https://")


def today_in(survey: Survey) -> dt.date:
    return dt.datetime.now(survey.tz).date()


def _day(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def problems(survey: Survey, out: Path, base_url: str | None = None,
             today: dt.date | None = None, kinds: set[str] | None = None) -> list[Problem]:
    """Every problem of `survey` (only those of `kinds` when given), in a fixed order."""
    today = today or today_in(survey)
    base = (base_url or survey.base_url or "").strip().rstrip("/")
    found: list[Problem] = []

    def want(kind: str) -> bool:
        return kinds is None or kind in kinds

    if want("collector"):
        found += _collector(survey, base)
    if want("exec"):
        found += _exec_urls(survey)
    if want("over") or want("started"):
        found += [p for p in _window(survey, today) if want(p.kind)]
    if want("deadline"):
        found += _deadline(survey, today)
    if want("edit"):
        found += _edit_marks(survey)
    if want("unit"):
        found += _units(survey)
    if want("key"):
        found += _key(survey, Path(out))
    if want("built") and base:
        found += _built(survey, Path(out), base)
    return found


def _collector(survey: Survey, base: str) -> list[Problem]:
    if survey.collector.kind != "local" or not is_public(base):
        return []
    return [Problem("collector", _(
        "survey.toml: [collector] kind = \"local\" but the pages are for {base}: the local sheet "
        "exists only under `hailong serve` on this computer, so every answer sent from a poster "
        "would be lost; deploy the Apps Script web app (collector/README.md) and set kind = "
        "\"apps_script\" and url = its /exec address", base=base))]


def _exec_urls(survey: Survey) -> list[Problem]:
    if survey.collector.kind != "apps_script":
        return []
    found = []
    url = (survey.collector.url or "").strip()
    if url and not EXEC_URL.match(url):
        found.append(Problem("exec", _(
            "survey.toml: collector.url = '{url}' is not an Apps Script web app address; copy "
            "the https://script.google.com/macros/s/…/exec address from Deploy > Manage "
            "deployments (not /dev, not the editor's link)", url=url)))
    bad = [u for u in survey.units if u.collector_url and not EXEC_URL.match(u.collector_url)]
    if bad:
        found.append(Problem("exec", _(
            "units.csv: {count} units have a collector_url that is not an Apps Script web app "
            "address (unit {code}: '{url}'); put each province's "
            "https://script.google.com/macros/s/…/exec address in the column",
            count=len(bad), code=bad[0].code, url=bad[0].collector_url)))
    return found


def _window(survey: Survey, today: dt.date) -> list[Problem]:
    if survey.end < today:
        return [Problem("over", _(
            "survey.toml: the window ended on {end} (today is {today}): every answer would be "
            "quarantined; set [window] start and end to the days the survey will really take "
            "answers", end=_day(survey.end), today=_day(today)))]
    if survey.start < today:
        return [Problem("started", _(
            "survey.toml: the window started on {start}, before today ({today}): posters and "
            "letters printed now reach people after it began; move [window] start to the first "
            "day they will be up, or go ahead knowing it", start=_day(survey.start),
            today=_day(today)))]
    return []


def _deadline(survey: Survey, today: dt.date) -> list[Problem]:
    if survey.access != "roster":
        return []
    letter = survey.settings.get("letter") or {}
    found = []
    if survey.end < today:
        found.append(Problem("deadline", _(
            "the letters give the deadline {end}, already passed; set [window] end to a day "
            "after the letters arrive", end=_day(survey.end))))
    dated = (letter.get("date") or "").strip()
    if dated:
        try:
            day = dt.date.fromisoformat(dated)
        except ValueError:
            day = None
        if day is not None and day > survey.end:
            found.append(Problem("deadline", _(
                "survey.toml: [letter] date {date} is after the deadline {end} the letter gives; "
                "date the letter before it or move [window] end", date=_day(day),
                end=_day(survey.end))))
    return found


def _edit_marks(survey: Survey) -> list[Problem]:
    path = Path(survey.path) / "survey.toml"
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return []
    marked = [n for n, line in enumerate(lines, 1) if MARK + ":" in line]
    if not marked:
        return []
    shown = ", ".join(str(n) for n in marked[:8]) + (", …" if len(marked) > 8 else "")
    return [Problem("edit", _(
        "{path}: {count} lines still marked '{mark}' (lines {lines}); check each setting below "
        "the mark, then delete the word '{mark}' from the comment", path=path,
        count=len(marked), mark=MARK, lines=shown))]


def _abolished(parent: str, provinces: set[str]) -> bool:
    """A parent naming a level or a province that no longer exists (since 1 July 2025)."""
    text = " ".join(parent.split()).lower()
    if text.startswith(_DISTRICT_PREFIXES):
        return True
    if text.removeprefix("tỉnh ") in {m.lower() for m in MERGED}:
        return True
    # "Thành phố Hà Tĩnh" was a district-level city; "Thành phố Hà Nội" is a province
    return text.startswith("thành phố ") and text not in provinces


def _units(survey: Survey) -> list[Problem]:
    found = []
    nameless = [u for u in survey.units if not u.name.strip() or u.name.strip() == u.code
                or MARK in u.name]
    if nameless:
        found.append(Problem("unit", _(
            "units.csv: {count} units have no real name (unit {code}); write the name citizens "
            "know, e.g. \"Xã Nghi Văn\", in the name column", count=len(nameless),
            code=nameless[0].code)))
    if survey.end >= DISTRICTS_ABOLISHED:
        provinces = {p.lower() for p in province_names()}
        old = [u for u in survey.units if u.parent and _abolished(u.parent, provinces)]
        if old:
            found.append(Problem("unit", _(
                "units.csv: {count} units have as parent '{parent}' (unit {code}), a district or "
                "province abolished on 1 July 2025; make the list again with `hailong units "
                "--province NAME` or write the province in the parent column",
                count=len(old), parent=old[0].parent, code=old[0].code)))
    return found


def _key(survey: Survey, out: Path) -> list[Problem]:
    if survey.access not in ("roster", "tickets"):
        return []
    try:
        key = signing_key()  # its own message: unset, or too short, and how to make one
    except HailongError as exc:
        return [Problem("key", str(exc))]
    found = keycheck.mismatch(Layout(out, survey.id), key)
    if found is None:
        return []
    return [Problem("key", _(
        "{path}: the current {KEY_ENV} is not the key what is in {folder} was signed with; "
        "every answer would count as invalid; set {KEY_ENV} back to the key used before",
        path=found, KEY_ENV=KEY_ENV, folder=found.parent))]


_CANONICAL = re.compile(r'<link rel="canonical" href="([^"]*)"')


def _built(survey: Survey, out: Path, base: str) -> list[Problem]:
    found = []
    layout = Layout(out, survey.id)
    unit = survey.units[0]
    want = unit_url(base, survey.id, unit.code)
    try:
        manifest = json.loads((layout.qr / ".manifest.json").read_text(encoding="utf-8"))
        urls = manifest.get("urls", {}) if isinstance(manifest, dict) else {}
    except (OSError, ValueError):
        urls = {}
    other = [code for code, url in urls.items() if code in survey.unit_codes and
             url != unit_url(base, survey.id, code)]
    if other:
        found.append(Problem("built", _(
            "{folder}: the QR codes were made for {url}, not {base}; run `hailong qr` again with "
            "--base-url {base} and print the new posters", folder=layout.qr,
            url=urls[other[0]], base=base)))
    page = layout.unit_page(unit.code)
    try:
        with open(page, encoding="utf-8") as fh:
            head = fh.read(1 << 16).split("</head>", 1)[0]
    except OSError:
        return found
    match = _CANONICAL.search(head)
    if match is None:
        found.append(Problem("built", _(
            "{page}: the site was built without --base-url (a preview for hailong serve); run "
            "`hailong build` again with --base-url {base}", page=page, base=base)))
    elif match.group(1) != want:
        found.append(Problem("built", _(
            "{page}: the site was built for {url}, not {base}; run `hailong build` again with "
            "--base-url {base}", page=page, url=match.group(1), base=base)))
    return found


def check(survey: Survey, out: Path, base_url: str | None = None,
          today: dt.date | None = None) -> tuple[bool, str]:
    """`hailong check`: (ready, the report: one line per problem, or one line saying ready)."""
    found = problems(survey, out, base_url, today)
    if not found:
        return True, _("{id}: ready to go live: no problem found", id=survey.id)
    lines = [ngettext("{id}: {count} problem to fix before going live:",
                      "{id}: {count} problems to fix before going live:", len(found),
                      id=survey.id, count=len(found))]
    lines += [f"- {p.message}" for p in found]
    return False, "\n".join(lines)


def refuse_for_print(survey: Survey, base_url: str | None, out: Path, what: str,
                     today: dt.date | None = None) -> None:
    """Before a print command (`what`: build, qr, tickets, links, paper) makes anything for a
    public base URL: a HailongError with the first problem that concerns it (and how many
    more; `hailong check` lists them all). Nothing is checked for a test (http) address."""
    base = (base_url or survey.base_url or "").strip()
    if not is_public(base):
        return
    found = problems(survey, Path(out), base, today, kinds=CONCERNS[what])
    if found:
        more = _(" ({count} more: see `hailong check`)", count=len(found) - 1) if len(found) > 1 else ""
        raise HailongError(found[0].message + more)


def check_all(surveys: Sequence[Survey], out: Path, base_url: str | None = None,
              today: dt.date | None = None) -> tuple[bool, str]:
    results = [check(s, out, base_url, today) for s in surveys]
    return all(ok for ok, _text in results), "\n".join(text for _ok, text in results)
