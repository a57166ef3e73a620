"""A release: what one publish puts before the public, and how it is judged against what is live.

Every publish writes a `release` into ranking.json (contract v3, section 4): the score run it
shows (`id`, `time`), its `date`, the accepted `responses` behind it and `key_check`, a
fingerprint of the signing key's check (never the key). Before a deploy replaces a survey's
results on a target, the release there is read back (deploy.live) and this one is judged
against it (section 7): another key, far fewer answers or an older run is refused, so a fresh
machine with a wrong setting cannot replace a good ranking with an empty one.

`history.csv` beside it holds every published release of the survey, a row per unit, so that a
machine with no local history (a CI runner) reads the earlier releases back from the live site.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from hailong import cells, csvtext
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout
from hailong.publish.history import Period, Result
from hailong.survey.keycheck import key_check
from hailong.survey.load import Survey
from hailong.survey.tokens import KEY_ENV

SIGNED_ACCESS = ("roster", "tickets", "sample")  # surveys whose answers carry signed codes
HISTORY_COLUMNS = ["date", "unit_code", "n", "index", "ci_low", "ci_high", "rank", "rank_low",
                   "rank_high"]
RUN_FILE = "run.json"
DEFAULT_MIN_SHARE = 0.5


@dataclass(frozen=True)
class Release:
    id: str
    date: str  # YYYY-MM-DD in the survey's time zone
    time: str  # ISO 8601 with offset: when the score run behind it was made
    responses: int
    key_check: str | None

    def as_json(self) -> dict:
        return {"id": self.id, "date": self.date, "time": self.time, "responses": self.responses,
                "key_check": self.key_check}


def key_fingerprint(survey: Survey) -> str | None:
    """A fingerprint of the key check of the signing key in use, for surveys whose answers
    are signed (a changed key makes every answer invalid); None for the others."""
    if survey.access not in SIGNED_ACCESS:
        return None
    key = os.environ.get(KEY_ENV, "").strip().encode("utf-8")
    if not key:
        return None
    return hashlib.sha256(b"hailong release\x00" + key_check(key).encode()).hexdigest()[:16]


def run_facts(layout: Layout) -> dict:
    """What score wrote about its run (data/run.json), or {} before score wrote one."""
    try:
        doc = json.loads(layout.data_file(RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def release_of(survey: Survey, layout: Layout, responses: int,
               day: dt.date | None = None) -> Release:
    """This publish's release: the score run in data/ (its run.json, or the ranking's bytes
    and time when there is none), dated `day` (weekly's day; default the run's own)."""
    run = run_facts(layout)
    ranking = layout.data_file("ranking.csv")
    ident = run.get("id") if isinstance(run.get("id"), str) else None
    when = _when(run.get("time")) if isinstance(run.get("time"), str) else None
    if ident is None:
        ident = hashlib.sha256(ranking.read_bytes()).hexdigest()[:16]
    if when is None:
        when = dt.datetime.fromtimestamp(ranking.stat().st_mtime, survey.tz)
    when = when.astimezone(survey.tz)
    return Release(ident, (day or when.date()).isoformat(), when.isoformat(timespec="seconds"),
                   responses, key_fingerprint(survey))


def _when(text: str | None) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value if value is not None and value.tzinfo is not None else None


def live_release(doc: dict | None) -> Release | None:
    """The release a live ranking.json names (None when there is no live ranking). A ranking
    published before releases existed gives its responses and no id, time or key."""
    if not isinstance(doc, dict):
        return None
    rel = doc.get("release") if isinstance(doc.get("release"), dict) else {}
    responses = rel.get("responses", doc.get("responses"))
    if not isinstance(responses, int) or isinstance(responses, bool):
        responses = 0
    return Release(str(rel.get("id") or ""), str(rel.get("date") or ""), str(rel.get("time") or ""),
                   responses, rel.get("key_check") if isinstance(rel.get("key_check"), str) else None)


def judge(survey: Survey | str, new: Release, live: Release | None, where: str,
          force: bool = False, local: bool = False) -> None:
    """Refuse (one line) a release that would leave the public worse informed than what is
    live at `where`: signed with another key, resting on fewer than [publish] min_share of
    the live answers (unless `force`), or older than the live one."""
    if live is None or live.id == new.id:
        return
    # a survey given by its id alone (a program calling deploy) takes the default share
    share = survey.publish.min_share if isinstance(survey, Survey) else DEFAULT_MIN_SHARE
    sid = survey.id if isinstance(survey, Survey) else survey
    outcome = (_("not published, the site is unchanged") if local
               else _("nothing was sent, the live site is unchanged"))
    if live.key_check is not None and new.key_check != live.key_check:
        raise HailongError(_(
            "{where}: the live results of {survey} were made with another {KEY_ENV} (key check "
            "{live}, this run {new}); {outcome}. Set {KEY_ENV} to the survey's key and run "
            "again", where=where, survey=sid,
            KEY_ENV=KEY_ENV, live=live.key_check, new=new.key_check or "—", outcome=outcome))
    new_time, live_time = _when(new.time), _when(live.time)
    if new_time is not None and live_time is not None and live_time > new_time:
        raise HailongError(_(
            "{where}: the live results of {survey} come from a newer run ({live}) than this one "
            "({new}); {outcome}. Pull and score again, then publish", where=where,
            survey=sid, live=live.time, new=new.time, outcome=outcome))
    if not force and share and live.responses and new.responses < share * live.responses:
        raise HailongError(_(
            "{where}: the new results of {survey} rest on {now} valid responses, fewer than "
            "{share} times the {before} of the published release; {outcome}. Check the data "
            "(the right spreadsheet? all responses pulled? the right {KEY_ENV}?); if that is how "
            "it is, run again with --force", where=where,
            survey=sid, now=new.responses, share=f"{share:g}", before=live.responses,
            KEY_ENV=KEY_ENV, outcome=outcome))


# -- history ------------------------------------------------------------------------------------

def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def history_csv(periods: list[Period], current: dict[str, Result], codes: list[str],
                release: Release) -> bytes:
    """Every published release, oldest first, a row per unit: the earlier periods, then this
    release (the next run, wherever it runs, reads them back from here)."""
    safe = cells.safe
    lines = [csvtext.line(HISTORY_COLUMNS)]
    for date, results in [*((p.date, p.results) for p in periods), (release.date, current)]:
        for code in codes:
            r = results.get(code.upper())
            if r is None:
                continue
            lines.append(csvtext.line([date, safe(code), str(r.n), _num(r.index), _num(r.low),
                                       _num(r.high), _int(r.rank), _int(r.rank_low),
                                       _int(r.rank_high)]))
    return (cells.BOM + "".join(lines)).encode("utf-8")


def read_history_csv(data: bytes, where: str) -> dict[str, dict[str, Result]]:
    """A live history.csv back into releases: date -> unit code (upper) -> figures."""
    try:
        text = data.decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames or any(c not in reader.fieldnames for c in HISTORY_COLUMNS):
            raise ValueError
        found: dict[str, dict[str, Result]] = {}
        for row in reader:
            day = dt.date.fromisoformat(row["date"]).isoformat()
            found.setdefault(day, {})[cells.restore(row["unit_code"]).upper()] = Result(
                index=_float(row["index"]), low=_float(row["ci_low"]), high=_float(row["ci_high"]),
                rank=_opt_int(row["rank"]), band="", n=int(row["n"]),
                rank_low=_opt_int(row["rank_low"]), rank_high=_opt_int(row["rank_high"]))
    except (ValueError, TypeError, UnicodeDecodeError, csv.Error):
        raise HailongError(_("{where}: the live history.csv cannot be read; fix or remove it on "
                             "the target, then run again", where=where)) from None
    return found


def _float(text: str) -> float | None:
    if text.strip() == "":
        return None
    value = float(text)
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise ValueError(text)
    return value


def _opt_int(text: str) -> int | None:
    return None if text.strip() == "" else int(text)


def live_periods(survey: Survey, releases: dict[str, dict[str, Result]], today: str
                 ) -> tuple[list[Period], list[Period]]:
    """(earlier periods of the series, earlier releases of this survey) from a live history:
    a release dated before the survey's window is an earlier period of its series; one of
    today is the release this run replaces."""
    series, weekly = [], []
    for day in sorted(releases):
        if day >= today:
            continue
        date = dt.date.fromisoformat(day)
        if date < survey.start:
            label = str(date.year)
            series.append(Period(label, f"Năm {label}", "series", releases[day], day))
        else:
            weekly.append(Period(day, date.strftime("%d/%m/%Y"), "weekly", releases[day], day))
    return series, weekly


@dataclass(frozen=True)
class Live:
    """What a target serves now for one survey: its ranking.json and history.csv (None: none)."""

    where: str
    ranking: dict | None
    history: bytes | None

    @classmethod
    def of(cls, where: str, ranking: bytes | None, history: bytes | None) -> Live:
        doc = None
        if ranking is not None:
            try:
                doc = json.loads(ranking.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                raise HailongError(_("{where}: the live ranking.json cannot be read; fix or remove "
                                     "it on the target, then run again", where=where)) from None
        return cls(where, doc if isinstance(doc, dict) else None, history)


def results_file_paths(survey_id: str) -> tuple[str, str]:
    """Where a survey's ranking.json and history.csv are, relative to the site root."""
    base = f"{survey_id}/ket-qua"
    return f"{base}/ranking.json", f"{base}/history.csv"


def local_live(out: Path, survey: Survey | str) -> Live:
    """The local site's release, for runs without a deploy target (the local check)."""
    site = Path(out) / "site"
    ranking, hist = results_file_paths(survey.id if isinstance(survey, Survey) else survey)
    def read(rel):
        return ((site / rel).read_bytes() if (site / rel).is_file() else None)
    return Live.of(str(site / ranking), read(ranking), read(hist))
