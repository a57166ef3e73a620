"""Stage 1: load and check a survey folder (survey.toml + units.csv).

Every mistake a person can make gives one HailongError naming the file, key or row and the fix.
Optional files (roster, visitors, transactions) are read by the stages that use them, through
`hailong.survey.tables.read_table`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.survey import config
from hailong.survey.config import REQUIRED
from hailong.survey.tables import nfc, read_table, read_text
from hailong.survey.tomltext import load_toml

SURVEY_ID = re.compile(r"^[a-z0-9-]+$")
QUESTION_ID = re.compile(r"^[a-z0-9_]+$")
BLOCK_ID = re.compile(r"^[a-z0-9_-]+$")
UNIT_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SCALE_ANSWERS = 11
TEXT_LISTS = {"options", "labels", "fields", "respondent_types", "checks", "public"}


@dataclass(frozen=True)
class Block:
    id: str
    title: str
    weight: float = 1.0


_ZERO = re.compile(r"-?0+(?:\.0+)?", re.ASCII)  # a scale answer of 0: no opinion


@dataclass(frozen=True)
class Question:
    id: str
    block: str
    text: str
    type: str = "scale"
    required: bool = False
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Band:
    min: float
    label: str


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent: str = ""
    quota_individual: int | None = None
    quota_organization: int | None = None
    collector_url: str = ""  # v2: this unit's page posts here instead of [collector] url

    @property
    def quota(self) -> int | None:
        """The total quota, which is what must be met (a shortfall of one type may be made up
        by the other)."""
        if self.quota_individual is None and self.quota_organization is None:
            return None
        return (self.quota_individual or 0) + (self.quota_organization or 0)


@dataclass(frozen=True)
class Section:
    """A settings section with attribute access: survey.scale.min, survey.dedupe.keep ..."""

    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "values":
            # unpickling (a spawned worker gets the survey this way) asks before `values` is
            # set: looking it up here would recurse without end
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Survey:
    path: Path
    id: str
    title: str
    year: int | None
    series: str | None
    organizer: str
    intro: str
    base_url: str
    timezone: str
    access: str
    respondent_types: list[str]
    start: dt.date
    end: dt.date
    scale: Section
    scoring: Section
    dedupe: Section
    collector: Section
    sheets: Section
    participation: Section
    sampling: Section
    signals: Section
    blocks: list[Block]
    questions: list[Question]
    bands: list[Band]
    units: list[Unit]
    settings: dict[str, Any] = field(repr=False, default_factory=dict)
    publish: Section = field(default_factory=lambda: Section(
        {k: v.default for k, v in config.SECTIONS["publish"].items()}))

    # -- derived views, used by every later stage --------------------------------------------
    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def scale_questions(self) -> list[Question]:
        return [q for q in self.questions if q.type == "scale"]

    @property
    def response_columns(self) -> list[str]:
        """The canonical header of a response row (contract, section 2)."""
        return [*config.META_COLUMNS, *(q.id for q in self.questions), config.COMMENT_COLUMN]

    def answers_nothing(self, row: Mapping[str, str]) -> bool:
        """Whether a response row answers no question (contract v2: rule `empty`): every
        question cell empty, or 0 for a scale question; the comment does not count."""
        for q in self.questions:
            cell = str(row.get(q.id) or "").strip()
            if cell and not (q.type == "scale" and _ZERO.fullmatch(cell)):
                return False
        return True

    @property
    def unit_codes(self) -> list[str]:
        return [u.code for u in self.units]

    def unit(self, code: str) -> Unit:
        return self._unit_index[code.strip().upper()]

    def find_unit(self, code: str) -> Unit | None:
        """The unit a response names, matched after trimming and case-insensitively."""
        return self._unit_index.get(str(code).strip().upper())

    @property
    def _unit_index(self) -> dict[str, Unit]:
        # cached per units list: find_unit is called once per response row (10,600 units)
        cached = self.__dict__.get("_unit_cache")
        if cached is None or cached[0] is not self.units or cached[1] != len(self.units):
            cached = (self.units, len(self.units), {u.code.upper(): u for u in self.units})
            self.__dict__["_unit_cache"] = cached
        return cached[2]

    def block(self, block_id: str) -> Block:
        return next(b for b in self.blocks if b.id == block_id)

    def units_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "unit_code": [u.code for u in self.units],
                "unit_name": [u.name for u in self.units],
                "parent": [u.parent for u in self.units],
                "quota_individual": [u.quota_individual for u in self.units],
                "quota_organization": [u.quota_organization for u in self.units],
            }
        )

    def band_for(self, index: float | None) -> str:
        """The band label of an index (already rounded to two decimals)."""
        if index is None or pd.isna(index):
            return self.scoring.unranked_label
        for band in self.bands:
            if band.min <= index:
                return band.label
        return self.bands[-1].label

    def days(self) -> list[dt.date]:
        n = (self.end - self.start).days + 1
        return [self.start + dt.timedelta(days=i) for i in range(n)]

    def optional_file(self, name: str) -> Path | None:
        path = self.path / name
        return path if path.exists() else None


def load_survey(path: str | Path) -> Survey:
    """Load and check the survey folder at `path` (or its survey.toml)."""
    folder = Path(path)
    if folder.name == "survey.toml":
        folder = folder.parent
    if not folder.exists():
        raise HailongError(_("{folder}: no such survey folder", folder=folder))
    if not folder.is_dir():
        raise HailongError(_("{folder}: not a folder; give the survey folder holding survey.toml",
                             folder=folder))
    toml_path = folder / "survey.toml"
    if not toml_path.exists():
        raise HailongError(_("{folder}: no survey.toml in this folder; is it a survey folder?",
                             folder=folder))
    raw = _parse_toml(toml_path)
    settings = _check_settings(raw)
    survey = _build(folder, settings)
    survey.units = load_units(folder / "units.csv")
    _check_collectors(survey)
    return survey


def _check_collectors(survey: Survey) -> None:
    """units.csv collector_url (one Apps Script web app per province or shard) against
    [collector]: only an apps_script survey posts elsewhere, and every unit needs somewhere."""
    own = [u for u in survey.units if u.collector_url]
    if survey.collector.kind != "apps_script":
        if own:
            raise HailongError(
                _("units.csv: unit {code} has a collector_url, but survey.toml's collector.kind "
                  "is not \"apps_script\"; set kind = \"apps_script\" or empty the collector_url "
                  "column", code=own[0].code)
            )
        return
    if not survey.collector.url and len(own) < len(survey.units):
        lacking = next(u for u in survey.units if not u.collector_url)
        raise HailongError(
            _("survey.toml: collector.url must be the Apps Script web app's https://…/exec address "
              "when collector.kind = \"apps_script\" (see collector/README.md)")
            + (_(", or every unit needs a collector_url in units.csv (unit {code} has none)",
                 code=lacking.code) if own else "")
        )


def _parse_toml(path: Path) -> dict[str, Any]:
    return load_toml("survey.toml", read_text(path))


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return _("did you mean '{value}'?", value=close[0])
    return _("known keys: {value}", value=', '.join(known))


def _type_name(types: tuple[type, ...]) -> str:
    names = {str: "text in quotes", int: "a whole number", float: "a number", bool: "true or false",
             list: "a list in [ ]"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check_value(where: str, setting: config.Setting, value: Any) -> Any:
    types = setting.types
    if type(value) is dt.date and str in types:
        value = value.isoformat()  # a TOML date written without quotes: start = 2024-06-12
    if float in types and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        raise HailongError(_("survey.toml: {where} must be {value}, not {value2!r}",
                             where=where, value=_type_name(types), value2=value))
    if isinstance(value, str):
        value = nfc(value).strip()
    if isinstance(value, list):
        if where.split(".")[-1] in TEXT_LISTS and not all(isinstance(v, str) for v in value):
            raise HailongError(
                _('survey.toml: every item of {where} must be text in quotes, e.g. ["Có", '
                  '"Không"]',
                  where=where)
            )
        value = [nfc(v).strip() if isinstance(v, str) else v for v in value]
    return value


def _fill(where: str, schema: dict[str, config.Setting], given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in given:
        if key not in schema:
            if where and key in config.SECTIONS[""]:
                raise HailongError(
                    _("survey.toml: unknown key '{where}{key}'; '{key}' is a top-level key: move "
                      "it above the first [section] or [[table]] (TOML puts every key below a "
                      "heading into that section)",
                      where=where, key=key)
                )
            raise HailongError(_("survey.toml: unknown key '{where}{key}'; {value}",
                                 where=where, key=key, value=_suggest(key, list(schema))))
    for key, setting in schema.items():
        if key in given:
            out[key] = _check_value(f"{where}{key}", setting, given[key])
        elif setting.default is REQUIRED:
            raise HailongError(_("survey.toml: '{where}{key}' is required ({help})",
                                 where=where, key=key, help=_(setting.help)))
        else:
            default = setting.default
            out[key] = list(default) if isinstance(default, list) else default
    return out


def _check_settings(raw: dict[str, Any]) -> dict[str, Any]:
    sections = [s for s in config.SECTIONS if s]
    arrays = ["blocks", "questions"]
    top_schema = config.SECTIONS[""]
    for key, value in raw.items():
        if key in top_schema or key in arrays:
            continue
        if key in sections:
            if not isinstance(value, dict):
                raise HailongError(_("survey.toml: '{key}' must be a section [{key}]", key=key))
            continue
        raise HailongError(
            _("survey.toml: unknown key '{key}'; {value}",
              key=key, value=_suggest(key, [*top_schema, *sections, *arrays]))
        )
    settings = _fill("", top_schema, {k: v for k, v in raw.items() if k in top_schema})
    for name in sections:
        given = raw.get(name, {})
        if name == "window" and name not in raw:
            raise HailongError(_("survey.toml: section [window] with start and end dates is "
                                 "required"))
        settings[name] = _fill(f"{name}.", config.SECTIONS[name], given)
    scoring = settings["scoring"]
    if "min_cell" not in raw.get("scoring", {}) and isinstance(scoring["min_responses"], int):
        # a survey ranking units from 3 answers withholds cells below 3, not below the default 5
        scoring["min_cell"] = max(1, min(scoring["min_cell"], scoring["min_responses"]))
    for name, schema in (("blocks", config.BLOCK_KEYS), ("questions", config.QUESTION_KEYS)):
        items = raw.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise HailongError(_("survey.toml: '{name}' must be written as [[{name}]] tables",
                                 name=name))
        settings[name] = [_fill(f"{name}[{i + 1}].", schema, item) for i, item in enumerate(items)]
    return settings


# A survey day past 2200 is a slip (9999-12-31 for "no end"): pandas' clock ends in 2262 and
# every later stage counts days in the window.
FIRST_YEAR, LAST_YEAR = 1990, 2200


def _date(key: str, text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise HailongError(
            _("survey.toml: {key} = '{text}' is not a date; write it as YYYY-MM-DD, e.g. "
              "2024-06-12", key=key, text=text)
        ) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise HailongError(
            _("survey.toml: {key} = '{text}' is not a real survey day (years {first} to {last}); "
              "write the day the survey really starts or ends", key=key, text=text,
              first=FIRST_YEAR, last=LAST_YEAR))
    return day


def _build(folder: Path, s: dict[str, Any]) -> Survey:
    if not SURVEY_ID.match(s["id"]):
        raise HailongError(
            _("survey.toml: id '{value}' may hold only lower-case letters, digits and '-' (it "
              "is part of the web address)", value=s['id'])
        )
    if not s["title"]:
        raise HailongError(_("survey.toml: title is empty; write the survey's title in Vietnamese"))
    try:
        ZoneInfo(s["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise HailongError(_("survey.toml: timezone '{value}' is not a known time zone, e.g. "
                             "Asia/Ho_Chi_Minh",
                             value=s['timezone'])) from None
    if s["access"] not in ("open", "roster", "tickets", "sample"):
        raise HailongError(_("survey.toml: access = '{value}'; use open, roster, tickets or "
                             "sample", value=s['access']))
    types = s["respondent_types"]
    bad = [t for t in types if t not in config.RESPONDENT_TYPES]
    if not types or bad or len(set(types)) != len(types):
        raise HailongError(
            _("survey.toml: respondent_types = {types}; use a list of distinct values from "
              "{value}", types=types, value=list(config.RESPONDENT_TYPES))
        )
    start = _date("window.start", s["window"]["start"])
    end = _date("window.end", s["window"]["end"])
    if end < start:
        raise HailongError(_("survey.toml: window.end {end} is before window.start {start}",
                             end=end, start=start))

    scale = s["scale"]
    if scale["min"] >= scale["max"]:
        raise HailongError(_("survey.toml: scale.min ({value}) must be below scale.max ({value2})",
                             value=scale['min'], value2=scale['max']))
    if scale["min"] < 1:
        raise HailongError(_("survey.toml: scale.min must be at least 1 (0 means 'no opinion')"))
    if not scale["min"] <= scale["satisfied_min"] <= scale["max"]:
        raise HailongError(_("survey.toml: scale.satisfied_min must lie between scale.min and "
                             "scale.max"))
    answers = scale["max"] - scale["min"] + 1
    if answers > MAX_SCALE_ANSWERS:
        raise HailongError(
            _("survey.toml: the scale {value}..{value2} has {answers} answers; use at most "
              "{MAX_SCALE_ANSWERS} (e.g. 1..5 or 1..10)",
              value=scale['min'], value2=scale['max'], answers=answers,
              MAX_SCALE_ANSWERS=MAX_SCALE_ANSWERS)
        )
    if scale["labels"] == config.DEFAULT_LABELS and answers != len(config.DEFAULT_LABELS):
        scale["labels"] = [str(v) for v in range(scale["min"], scale["max"] + 1)]
    if len(scale["labels"]) != answers:
        raise HailongError(
            _("survey.toml: scale.labels has {value} labels but the scale has {value2} answers "
              "({value3}..{value4})",
              value=len(scale['labels']), value2=scale['max'] - scale['min'] + 1,
              value3=scale['min'], value4=scale['max'])
        )

    scoring = s["scoring"]
    if scoring["method"] not in ("percent_satisfied", "mean_score"):
        raise HailongError(_("survey.toml: scoring.method = '{value}'; use percent_satisfied or "
                             "mean_score",
                             value=scoring['method']))
    if scoring["min_responses"] < 1:
        raise HailongError(_("survey.toml: scoring.min_responses must be at least 1"))
    if not 1 <= scoring["min_cell"] <= scoring["min_responses"]:
        # a ranked unit whose index is withheld would still show a rank and band that narrow it
        raise HailongError(
            _("survey.toml: scoring.min_cell ({value}) must be from 1 to scoring.min_responses "
              "({value2})", value=scoring['min_cell'], value2=scoring['min_responses'])
        )
    bands = _bands(scoring["bands"])

    if s["dedupe"]["keep"] not in ("first", "last"):
        raise HailongError(_("survey.toml: dedupe.keep = '{value}'; use first or last",
                             value=s['dedupe']['keep']))
    collector = s["collector"]
    if collector["kind"] not in ("local", "apps_script"):
        raise HailongError(_("survey.toml: collector.kind = '{value}'; use local or apps_script",
                             value=collector['kind']))
    # an empty url is checked once the units are read: each unit may bring its own (v2)
    if collector["kind"] == "apps_script" and collector["url"] and not collector["url"].startswith("https://"):
        raise HailongError(
            _("survey.toml: collector.url must be the Apps Script web app's https://…/exec "
              'address when collector.kind = "apps_script" (see collector/README.md)')
        )
    ids = s["sheets"]["spreadsheet_id"]
    s["sheets"]["spreadsheet_ids"] = [i for i in ([ids] if isinstance(ids, str) else ids) if i]
    sampling = s["sampling"]
    sampling["start"] = _date("sampling.start", sampling["start"]) if sampling["start"] else start
    sampling["end"] = _date("sampling.end", sampling["end"]) if sampling["end"] else end
    if sampling["end"] < sampling["start"]:
        raise HailongError(
            _("survey.toml: sampling.end {value} is before sampling.start {value2} (when not "
              "given, sampling.start is window.start)",
              value=sampling['end'], value2=sampling['start'])
        )
    if s["letter"]["date"]:
        _date("letter.date", s["letter"]["date"])
    if not 0 <= sampling["reserve_ratio"] <= 10:
        raise HailongError(_("survey.toml: sampling.reserve_ratio must be between 0 and 10"))
    if not 0 <= s["publish"]["min_share"] <= 1:
        raise HailongError(_("survey.toml: publish.min_share must be between 0 and 1, e.g. 0.5 "
                             "(0 turns the check off)"))
    if not 0 < s["participation"]["tolerance"] < 1:
        raise HailongError(_("survey.toml: participation.tolerance must be between 0 and 1, e.g. "
                             "0.5"))

    _check_signals(s["signals"])
    if not 0 < s["scoring"]["withhold_margin"] <= 100:
        raise HailongError(_("survey.toml: scoring.withhold_margin must be above 0 and at most 100, "
                             "e.g. 10"))

    blocks = _blocks(s["blocks"])
    questions = _questions(s["questions"], blocks)
    return Survey(
        path=folder, id=s["id"], title=s["title"], year=s["year"], series=s["series"],
        organizer=s["organizer"], intro=s["intro"], base_url=s["base_url"], timezone=s["timezone"], access=s["access"],
        respondent_types=types, start=start, end=end,
        scale=Section(scale), scoring=Section(scoring), dedupe=Section(s["dedupe"]),
        collector=Section(collector), sheets=Section(s["sheets"]),
        participation=Section(s["participation"]), sampling=Section(sampling),
        signals=Section(s["signals"]), blocks=blocks, questions=questions, bands=bands, units=[],
        settings=s, publish=Section(s["publish"]),
    )


def _check_signals(sig: dict[str, Any]) -> None:
    """[signals]: known names, sensible thresholds; office hours become minutes of the day."""
    for key in ("checks", "public"):
        bad = [n for n in sig[key] if n not in config.SIGNALS]
        if bad:
            raise HailongError(_("survey.toml: signals.{key} has '{name}'; use names from {names}",
                                 key=key, name=bad[0], names=list(config.SIGNALS)))
    for key in ("identical_share", "straightline_share", "speed_share", "off_hours_share",
                "ticket_age_share"):
        if not 0 <= sig[key] <= 1:
            raise HailongError(_("survey.toml: signals.{key} must be a share from 0 to 1, e.g. 0.3",
                                 key=key))
    if not 0 <= sig["identical_alpha"] < 1:
        raise HailongError(_("survey.toml: signals.identical_alpha must be a probability from 0 "
                             "(off) to below 1, e.g. 0.001"))
    if not 0 < sig["uptake_alpha"] < 1:
        raise HailongError(_("survey.toml: signals.uptake_alpha must be a probability between 0 "
                             "and 1, e.g. 0.001"))
    for key in ("burst_minutes", "burst_max", "device_max", "min_count", "min_answers",
                "ticket_age_days", "helper_minutes", "helper_max"):
        if sig[key] < 1:
            raise HailongError(_("survey.toml: signals.{key} must be at least 1", key=key))
    if sig["seconds_per_answer"] < 0:
        raise HailongError(_("survey.toml: signals.seconds_per_answer must not be negative"))
    for key in ("office_open", "office_close"):
        hhmm = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", sig[key])
        if not hhmm:
            raise HailongError(_("survey.toml: signals.{key} = '{value}' is not a time; write it as "
                                 "HH:MM, e.g. 07:30", key=key, value=sig[key]))
        sig[f"{key}_minute"] = int(hhmm[1]) * 60 + int(hhmm[2])
    if sig["office_open_minute"] >= sig["office_close_minute"]:
        raise HailongError(_("survey.toml: signals.office_open must be before signals.office_close"))
    if not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= 7
               for d in sig["office_days"]):
        raise HailongError(_("survey.toml: signals.office_days must list days 1 (Monday) to 7 "
                             "(Sunday)"))


def _bands(items: list[Any]) -> list[Band]:
    bands = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) != {"min", "label"}:
            raise HailongError(_('survey.toml: scoring.bands[{i}] must be {{ min = …, label = "…" '
                                 "}}",
                                 i=i))
        if not isinstance(item["min"], int | float) or isinstance(item["min"], bool) \
                or not 0 <= item["min"] <= 100:
            raise HailongError(_("survey.toml: scoring.bands[{i}].min must be a number from 0 to "
                                 "100",
                                 i=i))
        label = nfc(str(item["label"])).strip()
        if not label:
            raise HailongError(_("survey.toml: scoring.bands[{i}].label is empty; give the band a "
                                 "name",
                                 i=i))
        bands.append(Band(float(item["min"]), label))
    if not bands:
        raise HailongError(_("survey.toml: scoring.bands is empty; give at least one band"))
    for a, b in zip(bands, bands[1:], strict=False):
        if b.min >= a.min:
            raise HailongError(
                _("survey.toml: scoring.bands are out of order ('{label}' min {min:g} after "
                  "'{label2}' min {min2:g}); list them from the highest min to the lowest",
                  label=b.label, min=b.min, label2=a.label, min2=a.min)
            )
    if bands[-1].min > 0:
        raise HailongError(
            _("survey.toml: the last band ('{label}') must have min = 0 so every index has a "
              "band", label=bands[-1].label)
        )
    return bands


def _blocks(items: list[dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    for i, b in enumerate(items, 1):
        if not BLOCK_ID.match(b["id"]):
            raise HailongError(_("survey.toml: blocks[{i}].id '{value}' may hold only a-z, 0-9, "
                                 "'_' and '-'",
                                 i=i, value=b['id']))
        if any(x.id == b["id"] for x in blocks):
            raise HailongError(_("survey.toml: blocks[{i}]: duplicate block id '{value}'",
                                 i=i, value=b['id']))
        if not 0 < b["weight"] < math.inf:  # also refuses nan
            raise HailongError(_("survey.toml: blocks[{i}].weight must be a number above 0", i=i))
        blocks.append(Block(b["id"], b["title"], float(b["weight"])))
    if not blocks:
        raise HailongError(_("survey.toml: no [[blocks]]; a survey needs at least one block of "
                             "questions"))
    return blocks


def _questions(items: list[dict[str, Any]], blocks: list[Block]) -> list[Question]:
    reserved = {*config.META_COLUMNS, config.COMMENT_COLUMN}
    block_ids = [b.id for b in blocks]
    questions: list[Question] = []
    for i, q in enumerate(items, 1):
        where = f"survey.toml: questions[{i}] (id '{q['id']}')"
        if not QUESTION_ID.match(q["id"]):
            raise HailongError(_("{where}: the id may hold only a-z, 0-9 and '_'", where=where))
        if q["id"] in reserved:
            raise HailongError(_("{where}: '{value}' is a response column name; choose another id",
                                 where=where, value=q['id']))
        if any(x.id == q["id"] for x in questions):
            raise HailongError(_("{where}: duplicate question id", where=where))
        if q["block"] not in block_ids:
            raise HailongError(_("{where}: block '{value}' is not a [[blocks]] id; {value2}",
                                 where=where, value=q['block'],
                                 value2=_suggest(q['block'], block_ids)))
        if q["type"] not in ("scale", "choice", "text"):
            raise HailongError(_("{where}: type '{value}'; use scale, choice or text",
                                 where=where, value=q['type']))
        if q["type"] == "choice" and not q["options"]:
            raise HailongError(_('{where}: a choice question needs options = ["…", "…"]',
                                 where=where))
        if q["type"] != "choice" and q["options"]:
            raise HailongError(_("{where}: only choice questions take options", where=where))
        questions.append(Question(q["id"], q["block"], q["text"], q["type"], q["required"],
                                  tuple(q["options"]), q["help"]))
    if not any(q.type == "scale" for q in questions):
        raise HailongError(_("survey.toml: no scale question; a survey needs at least one scored "
                             "question"))
    return questions


def load_units(path: Path) -> list[Unit]:
    if not path.exists():
        raise HailongError(_("{parent}: units.csv is missing; it lists the rated units as "
                             "code,name",
                             parent=path.parent))
    table = read_table(path, ["code", "name"], ["parent", "quota_individual", "quota_organization",
                                                 "collector_url"])
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for row in table:
        code = row["code"]
        if not UNIT_CODE.match(code):
            raise table.error(row, "code", _("'{code}' may hold only letters, digits, '_' and '-'",
                                             code=code))
        key = code.upper()
        if key in seen:
            raise table.error(row, "code", _("duplicate code '{code}' (also on row {value})",
                                             code=code, value=seen[key]))
        seen[key] = row.number
        if not row["name"]:
            raise table.error(row, "name", _("unit '{code}' has no name", code=code))
        url = row["collector_url"].strip()
        if url and not url.startswith("https://"):
            raise table.error(row, "collector_url", _(
                "'{url}' is not an https:// address; give the /exec address of the Apps Script "
                "web app this unit posts to", url=url))
        units.append(Unit(
            code=code, name=row["name"], parent=row["parent"],
            quota_individual=table.integer(row, "quota_individual"),
            quota_organization=table.integer(row, "quota_organization"), collector_url=url,
        ))
    if not units:
        raise HailongError(_("units.csv: no units; add one row per rated unit under the header "
                             "code,name"))
    return units
