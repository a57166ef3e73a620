"""`hailong tickets`: single-use tickets for access = "tickets", and the slips to hand out.

Per unit and day, N new tickets (hailong.survey.tickets) are signed under HAILONG_SIGNING_KEY,
recorded in `<out>/<id>/tickets/issued.csv` (`ticket,unit_code,date,serial`) and printed as A4
sheets of cut-out slips, ten to a page, each unit on its own pages so each office gets its own
sheets: `tickets/slips/<date>-<run>.pdf`. Serials continue from issued.csv. Each run draws a
random start for each unit's numbers (hailong.survey.tickets: 30 bits), redrawn until its run
misses every number issued.csv holds for that unit and day, so a second run never issues a
ticket again, and an issuer without this issued.csv (another folder, a lost file, a second
machine) makes a ticket of this one only when its random run overlaps this one's. `tickets/key-check.txt` holds the key's fingerprint: a run under
another key is refused (slips already handed out would stop counting).

The slips are printed first into a scratch file, then issued.csv is replaced (atomically), then
the PDF is moved into place: a failed print records nothing; a recorded ticket is never
reissued even if its PDF is lost.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from pathlib import Path

import pandas as pd
from filelock import FileLock
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hailong.collect.pdf import html_to_pdf
from hailong.collect.posters import short_url
from hailong.collect.qr import check_base_url, qr_svg_inline
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout, unit_url
from hailong.survey import tickets
from hailong.survey.keycheck import KEY_CHECK, key_check, require_same_key, stored_check
from hailong.survey.tokens import KEY_ENV, signing_key
from hailong.ui import steps

TEMPLATES = Path(__file__).resolve().parents[2] / "site" / "templates"
ISSUED = "issued.csv"
COLUMNS = ["ticket", "unit_code", "date", "serial"]
MAX_COUNT = 2000  # a day's slips for one office; more is a typo (an extra zero)
FRAGMENT = "#ve="  # after '#': the ticket never reaches a server's logs


def ticket_url(base_url: str, survey_id: str, unit_code: str, ticket: str) -> str:
    """The unit's survey page with the ticket in the fragment (the slip's QR code)."""
    return unit_url(base_url, survey_id, unit_code) + FRAGMENT + ticket


def read_issued(path: Path) -> pd.DataFrame:
    """issued.csv (every ticket issued so far), or an empty table when none was issued."""
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(_("{path}: cannot read the file ({exc}); `hailong tickets` writes this "
                             "file, do not edit it by hand", path=path, exc=exc)) from None
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise HailongError(_("{path}: column(s) {columns} missing; `hailong tickets` writes this "
                             "file, do not edit it by hand", path=path, columns=", ".join(missing)))
    bad = table[~table["serial"].str.fullmatch(r"\d+")]
    if len(bad):
        row = int(bad.index[0]) + 2
        raise HailongError(_("{path}: line {row}, column serial: '{value}' is not a number; "
                             "`hailong tickets` writes this file, do not edit it by hand", path=path,
                             row=row, value=bad["serial"].iloc[0]))
    return table[COLUMNS]


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    # a byte-order mark so that Excel shows it right; every cell is ours (codes, digits, dates)
    return ("\ufeff" + frame.to_csv(index=False, lineterminator="\n")).encode("utf-8")


def _day(survey, day: dt.date | None) -> dt.date:
    day = day or dt.datetime.now(survey.tz).date()
    if not survey.start <= day <= survey.end:
        raise HailongError(
            _("the day {day} is outside the survey window ({start} – {end}, the [window] table in "
              "{path}): answers outside the window do not count; choose another day with --date "
              "YYYY-MM-DD", day=f"{day:%d/%m/%Y}", start=f"{survey.start:%d/%m/%Y}",
              end=f"{survey.end:%d/%m/%Y}", path=survey.path / "survey.toml")
        )
    return day


def _units(survey, codes) -> list:
    if not codes:
        return list(survey.units)
    picked = []
    for code in codes:
        unit = survey.find_unit(code)
        if unit is None:
            raise HailongError(_("--unit {code}: no such unit code in {path}", code=code,
                                 path=survey.path / "units.csv"))
        if unit not in picked:
            picked.append(unit)
    return picked


def _base(survey, base_url: str | None, allow_http: bool) -> str:
    if (base_url or "").strip():
        return check_base_url(base_url, allow_http)
    if (survey.base_url or "").strip():
        return check_base_url(survey.base_url, allow_http, source=f"{survey.path / 'survey.toml'}: base_url")
    raise HailongError(
        _("no address of the survey pages of '{survey}' to print in the tickets' QR codes: add "
          "--base-url or set base_url in survey.toml (e.g. base_url = "
          "\"https://khaosat.example.gov.vn\")", survey=survey.id)
    )


def _same_key(folder: Path, check: str) -> None:
    require_same_key(folder, check, _(
        "the tickets already handed out in {folder} were signed with another {KEY_ENV}; signing "
        "new tickets with this key would make `score` count every ticket handed out as invalid. "
        "Set {KEY_ENV} back to the key used before", folder=folder, KEY_ENV=KEY_ENV))


def slips_html(survey, slips: list[dict]) -> str:
    """One HTML document of A4 sheets of slips (a pure function of its inputs)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    pages, page = [], []
    for slip in slips:  # a unit's slips start on a new sheet: each office gets its own sheets
        if page and (len(page) == 10 or page[-1]["unit_code"] != slip["unit_code"]):
            pages.append(page)
            page = []
        page.append(slip)
    if page:
        pages.append(page)
    return env.get_template("print/slips.html").render(root="", survey=survey, pages=pages)


def make_tickets(survey, out, count: int, units=(), day: dt.date | None = None,
                 base_url: str | None = None, allow_http: bool = False, slips: bool = True,
                 start=None) -> str:
    """Issue `count` new tickets per unit (all units, or `units`) for `day` (default today).

    `slips=False` records the tickets without printing them (the demo, whose visitors are
    generated); `start(unit_code, day)` gives the first number instead of a random one (the
    demo, whose visitors already hold their tickets)."""
    key = signing_key()  # first: refuse before anything is written
    if survey.access != "tickets":
        raise HailongError(
            _("survey '{survey}' has access = \"{access}\"; tickets are only for access = "
              "\"tickets\" (set in survey.toml)", survey=survey.id, access=survey.access)
        )
    if not 1 <= count <= MAX_COUNT:
        raise HailongError(_("--count {count}: give a number of tickets per unit from 1 to {max}",
                             count=count, max=MAX_COUNT))
    day = _day(survey, day)
    picked = _units(survey, units)
    base = _base(survey, base_url, allow_http) if slips else ""
    folder = Layout(Path(out), survey.id).tickets
    folder.mkdir(parents=True, exist_ok=True)
    check = key_check(key)
    with FileLock(str(folder / ".lock")):
        _same_key(folder, check)
        issued = read_issued(folder / ISSUED)
        of_day = issued[issued["date"] == day.isoformat()]
        last = {code.upper(): int(s) for code, s in
                of_day.groupby(of_day["unit_code"].str.upper())["serial"].apply(
                    lambda s: s.astype(int).max()).items()}
        taken = numbers_taken(of_day)
        # a step per unit (signing, drawing its slips' QR codes), one for writing and printing
        with steps(_("Issuing tickets"), len(picked) + 1) as advance:
            rows, printed = _issue(survey, picked, last, taken, count, day, key, base, slips,
                                   advance, start)
            target = _slips_path(folder, day)
            table = pd.concat([issued, pd.DataFrame(rows, columns=COLUMNS)], ignore_index=True)
            with tempfile.TemporaryDirectory(prefix="hailong-slips-") as work:
                pdf = Path(work) / "slips.pdf"
                if printed:
                    html = Path(work) / "slips.html"
                    html.write_text(slips_html(survey, printed), encoding="utf-8")
                    html_to_pdf(html, pdf)
                if stored_check(folder) is None:
                    atomic_write_text(folder / KEY_CHECK, check + "\n")
                atomic_write_bytes(folder / ISSUED, _csv_bytes(table))
                if printed:
                    atomic_write_bytes(target, pdf.read_bytes())
                advance()
    if not slips:
        return _("Wrote {count} tickets for {day} into {path} (not printed)", count=len(rows),
                 day=f"{day:%d/%m/%Y}", path=folder / ISSUED)
    return _("Handed out {count} tickets ({per_unit} per unit in {units} units), day {day}: print "
             "{target}, cut along the lines and give each person one ticket; the list of tickets "
             "handed out: {path} (not published, no names of who received them)", count=len(rows),
             per_unit=count, units=len(picked), day=f"{day:%d/%m/%Y}", target=target,
             path=folder / ISSUED)


MAX_SERIAL = 8191  # a unit's tickets a day: a counter hands out far fewer


def numbers_taken(of_day: pd.DataFrame) -> dict[str, set[int]]:
    """The ticket numbers already issued for one day, per upper-case unit code (issued.csv rows
    of that day): a new run draws its numbers around them."""
    taken: dict[str, set[int]] = {}
    for code, ticket in zip(of_day["unit_code"], of_day["ticket"], strict=True):
        number = tickets.number_of(ticket)
        if number is not None:
            taken.setdefault(code.upper(), set()).add(number)
    return taken


def _first_number(taken: set[int], count: int, start) -> int:
    """A random start whose run of `count` numbers (modulo 2**30) misses every taken number."""
    for _attempt in range(1000):  # a run overlaps one already issued with odds below 2**-17
        first = start() if start is not None else secrets.randbelow(tickets.NUMBERS)
        if not any((first + i) % tickets.NUMBERS in taken for i in range(count)):
            return first
        if start is not None:
            break
    raise HailongError(_("no free run of {count} ticket numbers found; issue fewer tickets at a "
                         "time with --count", count=count))


def _issue(survey, picked, last: dict, taken: dict, count: int, day: dt.date, key: bytes,
           base: str, slips: bool, advance, start=None) -> tuple[list[tuple], list[dict]]:
    """The new tickets (issued.csv rows) and, when `slips`, what each printed slip shows."""
    rows, printed = [], []
    for unit in picked:
        first = last.get(unit.code.upper(), 0) + 1
        if first + count - 1 > MAX_SERIAL:
            raise HailongError(
                _("{unit}: {issued} tickets were already handed out on {day}; a unit can hand "
                  "out at most {max} tickets a day", unit=unit.code, issued=first - 1,
                  day=f"{day:%d/%m/%Y}", max=MAX_SERIAL)
            )
        begin = _first_number(taken.get(unit.code.upper(), set()), count,
                              None if start is None else lambda u=unit: start(u.code, day))
        for serial in range(first, first + count):
            number = (begin + serial - first) % tickets.NUMBERS
            t = tickets.sign(survey.id, unit.code, day, number, key)
            rows.append((t, unit.code, day.isoformat(), str(serial)))
            if not slips:
                continue
            url = ticket_url(base, survey.id, unit.code, t)
            printed.append({
                "unit_code": unit.code, "unit": unit.name, "date": f"{day:%d/%m/%Y}",
                "ticket": tickets.display(t), "serial": serial,
                "short_url": short_url(unit_url(base, survey.id, unit.code)),
                "svg": qr_svg_inline(url, label=f"Mã QR vé khảo sát: {unit.name}"),
            })
        advance()
    return rows, printed


def _slips_path(folder: Path, day: dt.date) -> Path:
    slips = folder / "slips"
    n = 1
    while (slips / f"{day.isoformat()}-{n:02d}.pdf").exists():
        n += 1
    return slips / f"{day.isoformat()}-{n:02d}.pdf"


def issued_counts(path: Path) -> dict[tuple[str, str], int]:
    """Tickets issued per (upper-case unit code, ISO date), from issued.csv ({} without one)."""
    table = read_issued(path)
    if table.empty:
        return {}
    sizes = table.groupby([table["unit_code"].str.upper(), table["date"]]).size()
    return {(u, d): int(n) for (u, d), n in sizes.items()}



