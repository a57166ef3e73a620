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
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from hailong.errors import HailongError
from hailong.survey import config
from hailong.survey.config import REQUIRED
from hailong.survey.tables import nfc, read_table, read_text

SURVEY_ID = re.compile(r"^[a-z0-9-]+$")
QUESTION_ID = re.compile(r"^[a-z0-9_]+$")
BLOCK_ID = re.compile(r"^[a-z0-9_-]+$")
UNIT_CODE = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_SCALE_ANSWERS = 11
TEXT_LISTS = {"options", "labels", "fields", "respondent_types"}


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
    blocks: list[Block]
    questions: list[Question]
    bands: list[Band]
    units: list[Unit]
    settings: dict[str, Any] = field(repr=False, default_factory=dict)

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
        raise HailongError(f"{folder}: no such survey folder")
    if not folder.is_dir():
        raise HailongError(f"{folder}: not a folder; give the survey folder holding survey.toml")
    toml_path = folder / "survey.toml"
    if not toml_path.exists():
        raise HailongError(f"{folder}: no survey.toml in this folder; is it a survey folder?")
    raw = _parse_toml(toml_path)
    settings = _check_settings(raw)
    survey = _build(folder, settings)
    survey.units = load_units(folder / "units.csv")
    return survey


def _parse_toml(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise HailongError(f"survey.toml: {exc}; check the quoting and brackets there") from None


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known keys: {', '.join(known)}"


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
        raise HailongError(f"survey.toml: {where} must be {_type_name(types)}, not {value!r}")
    if isinstance(value, str):
        value = nfc(value).strip()
    if isinstance(value, list):
        if where.split(".")[-1] in TEXT_LISTS and not all(isinstance(v, str) for v in value):
            raise HailongError(
                f"survey.toml: every item of {where} must be text in quotes, e.g. [\"Có\", \"Không\"]"
            )
        value = [nfc(v).strip() if isinstance(v, str) else v for v in value]
    return value


def _fill(where: str, schema: dict[str, config.Setting], given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in given:
        if key not in schema:
            if where and key in config.SECTIONS[""]:
                raise HailongError(
                    f"survey.toml: unknown key '{where}{key}'; '{key}' is a top-level key: move "
                    "it above the first [section] or [[table]] (TOML puts every key below a "
                    "heading into that section)"
                )
            raise HailongError(f"survey.toml: unknown key '{where}{key}'; {_suggest(key, list(schema))}")
    for key, setting in schema.items():
        if key in given:
            out[key] = _check_value(f"{where}{key}", setting, given[key])
        elif setting.default is REQUIRED:
            raise HailongError(f"survey.toml: '{where}{key}' is required ({setting.help})")
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
                raise HailongError(f"survey.toml: '{key}' must be a section [{key}]")
            continue
        raise HailongError(
            f"survey.toml: unknown key '{key}'; {_suggest(key, [*top_schema, *sections, *arrays])}"
        )
    settings = _fill("", top_schema, {k: v for k, v in raw.items() if k in top_schema})
    for name in sections:
        given = raw.get(name, {})
        if name == "window" and name not in raw:
            raise HailongError("survey.toml: section [window] with start and end dates is required")
        settings[name] = _fill(f"{name}.", config.SECTIONS[name], given)
    scoring = settings["scoring"]
    if "min_cell" not in raw.get("scoring", {}) and isinstance(scoring["min_responses"], int):
        # a survey ranking units from 3 answers withholds cells below 3, not below the default 5
        scoring["min_cell"] = max(1, min(scoring["min_cell"], scoring["min_responses"]))
    for name, schema in (("blocks", config.BLOCK_KEYS), ("questions", config.QUESTION_KEYS)):
        items = raw.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise HailongError(f"survey.toml: '{name}' must be written as [[{name}]] tables")
        settings[name] = [_fill(f"{name}[{i + 1}].", schema, item) for i, item in enumerate(items)]
    return settings


def _date(key: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise HailongError(
            f"survey.toml: {key} = '{text}' is not a date; write it as YYYY-MM-DD, e.g. 2024-06-12"
        ) from None


def _build(folder: Path, s: dict[str, Any]) -> Survey:
    if not SURVEY_ID.match(s["id"]):
        raise HailongError(
            f"survey.toml: id '{s['id']}' may hold only lower-case letters, digits and '-' "
            "(it is part of the web address)"
        )
    if not s["title"]:
        raise HailongError("survey.toml: title is empty; write the survey's title in Vietnamese")
    try:
        ZoneInfo(s["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        raise HailongError(f"survey.toml: timezone '{s['timezone']}' is not a known time zone, "
                           "e.g. Asia/Ho_Chi_Minh") from None
    if s["access"] not in ("open", "roster", "tickets"):
        raise HailongError(f"survey.toml: access = '{s['access']}'; use open, roster or tickets")
    if s["access"] == "tickets":
        # nothing makes or checks tickets yet: accepting it would publish an unchecked promise
        raise HailongError(
            "survey.toml: access = \"tickets\" is not available in this version (no command "
            "makes or checks tickets yet); use \"open\" or \"roster\" (personal links)"
        )
    types = s["respondent_types"]
    bad = [t for t in types if t not in config.RESPONDENT_TYPES]
    if not types or bad or len(set(types)) != len(types):
        raise HailongError(
            f"survey.toml: respondent_types = {types}; use a list of distinct values from "
            f"{list(config.RESPONDENT_TYPES)}"
        )
    start = _date("window.start", s["window"]["start"])
    end = _date("window.end", s["window"]["end"])
    if end < start:
        raise HailongError(f"survey.toml: window.end {end} is before window.start {start}")

    scale = s["scale"]
    if scale["min"] >= scale["max"]:
        raise HailongError(f"survey.toml: scale.min ({scale['min']}) must be below scale.max ({scale['max']})")
    if scale["min"] < 1:
        raise HailongError("survey.toml: scale.min must be at least 1 (0 means 'no opinion')")
    if not scale["min"] <= scale["satisfied_min"] <= scale["max"]:
        raise HailongError("survey.toml: scale.satisfied_min must lie between scale.min and scale.max")
    answers = scale["max"] - scale["min"] + 1
    if answers > MAX_SCALE_ANSWERS:
        raise HailongError(
            f"survey.toml: the scale {scale['min']}..{scale['max']} has {answers} answers; "
            f"use at most {MAX_SCALE_ANSWERS} (e.g. 1..5 or 1..10)"
        )
    if scale["labels"] == config.DEFAULT_LABELS and answers != len(config.DEFAULT_LABELS):
        scale["labels"] = [str(v) for v in range(scale["min"], scale["max"] + 1)]
    if len(scale["labels"]) != answers:
        raise HailongError(
            f"survey.toml: scale.labels has {len(scale['labels'])} labels but the scale has "
            f"{scale['max'] - scale['min'] + 1} answers ({scale['min']}..{scale['max']})"
        )

    scoring = s["scoring"]
    if scoring["method"] not in ("percent_satisfied", "mean_score"):
        raise HailongError(f"survey.toml: scoring.method = '{scoring['method']}'; use percent_satisfied or mean_score")
    if scoring["min_responses"] < 1:
        raise HailongError("survey.toml: scoring.min_responses must be at least 1")
    if not 1 <= scoring["min_cell"] <= scoring["min_responses"]:
        # a ranked unit whose index is withheld would still show a rank and band that narrow it
        raise HailongError(
            f"survey.toml: scoring.min_cell ({scoring['min_cell']}) must be from 1 to "
            f"scoring.min_responses ({scoring['min_responses']})"
        )
    bands = _bands(scoring["bands"])

    if s["dedupe"]["keep"] not in ("first", "last"):
        raise HailongError(f"survey.toml: dedupe.keep = '{s['dedupe']['keep']}'; use first or last")
    collector = s["collector"]
    if collector["kind"] not in ("local", "apps_script"):
        raise HailongError(f"survey.toml: collector.kind = '{collector['kind']}'; use local or apps_script")
    if collector["kind"] == "apps_script" and not collector["url"].startswith("https://"):
        raise HailongError(
            "survey.toml: collector.url must be the Apps Script web app's https://…/exec address "
            "when collector.kind = \"apps_script\" (see collector/README.md)"
        )
    ids = s["sheets"]["spreadsheet_id"]
    s["sheets"]["spreadsheet_ids"] = [i for i in ([ids] if isinstance(ids, str) else ids) if i]
    sampling = s["sampling"]
    sampling["start"] = _date("sampling.start", sampling["start"]) if sampling["start"] else start
    sampling["end"] = _date("sampling.end", sampling["end"]) if sampling["end"] else end
    if sampling["end"] < sampling["start"]:
        raise HailongError(
            f"survey.toml: sampling.end {sampling['end']} is before sampling.start "
            f"{sampling['start']} (when not given, sampling.start is window.start)"
        )
    if not 0 <= sampling["reserve_ratio"] <= 10:
        raise HailongError("survey.toml: sampling.reserve_ratio must be between 0 and 10")
    if not 0 < s["participation"]["tolerance"] < 1:
        raise HailongError("survey.toml: participation.tolerance must be between 0 and 1, e.g. 0.5")

    blocks = _blocks(s["blocks"])
    questions = _questions(s["questions"], blocks)
    return Survey(
        path=folder, id=s["id"], title=s["title"], year=s["year"], series=s["series"],
        organizer=s["organizer"], intro=s["intro"], base_url=s["base_url"], timezone=s["timezone"], access=s["access"],
        respondent_types=types, start=start, end=end,
        scale=Section(scale), scoring=Section(scoring), dedupe=Section(s["dedupe"]),
        collector=Section(collector), sheets=Section(s["sheets"]),
        participation=Section(s["participation"]), sampling=Section(sampling),
        blocks=blocks, questions=questions, bands=bands, units=[], settings=s,
    )


def _bands(items: list[Any]) -> list[Band]:
    bands = []
    for i, item in enumerate(items, 1):
        if not isinstance(item, dict) or set(item) != {"min", "label"}:
            raise HailongError(f"survey.toml: scoring.bands[{i}] must be {{ min = …, label = \"…\" }}")
        if not isinstance(item["min"], int | float) or isinstance(item["min"], bool) \
                or not 0 <= item["min"] <= 100:
            raise HailongError(f"survey.toml: scoring.bands[{i}].min must be a number from 0 to 100")
        label = nfc(str(item["label"])).strip()
        if not label:
            raise HailongError(f"survey.toml: scoring.bands[{i}].label is empty; give the band a name")
        bands.append(Band(float(item["min"]), label))
    if not bands:
        raise HailongError("survey.toml: scoring.bands is empty; give at least one band")
    for a, b in zip(bands, bands[1:], strict=False):
        if b.min >= a.min:
            raise HailongError(
                f"survey.toml: scoring.bands are out of order ('{b.label}' min {b.min:g} after "
                f"'{a.label}' min {a.min:g}); list them from the highest min to the lowest"
            )
    if bands[-1].min > 0:
        raise HailongError(
            f"survey.toml: the last band ('{bands[-1].label}') must have min = 0 so every index has a band"
        )
    return bands


def _blocks(items: list[dict[str, Any]]) -> list[Block]:
    blocks: list[Block] = []
    for i, b in enumerate(items, 1):
        if not BLOCK_ID.match(b["id"]):
            raise HailongError(f"survey.toml: blocks[{i}].id '{b['id']}' may hold only a-z, 0-9, '_' and '-'")
        if any(x.id == b["id"] for x in blocks):
            raise HailongError(f"survey.toml: blocks[{i}]: duplicate block id '{b['id']}'")
        if not 0 < b["weight"] < math.inf:  # also refuses nan
            raise HailongError(f"survey.toml: blocks[{i}].weight must be a number above 0")
        blocks.append(Block(b["id"], b["title"], float(b["weight"])))
    if not blocks:
        raise HailongError("survey.toml: no [[blocks]]; a survey needs at least one block of questions")
    return blocks


def _questions(items: list[dict[str, Any]], blocks: list[Block]) -> list[Question]:
    reserved = {*config.META_COLUMNS, config.COMMENT_COLUMN}
    block_ids = [b.id for b in blocks]
    questions: list[Question] = []
    for i, q in enumerate(items, 1):
        where = f"survey.toml: questions[{i}] (id '{q['id']}')"
        if not QUESTION_ID.match(q["id"]):
            raise HailongError(f"{where}: the id may hold only a-z, 0-9 and '_'")
        if q["id"] in reserved:
            raise HailongError(f"{where}: '{q['id']}' is a response column name; choose another id")
        if any(x.id == q["id"] for x in questions):
            raise HailongError(f"{where}: duplicate question id")
        if q["block"] not in block_ids:
            raise HailongError(f"{where}: block '{q['block']}' is not a [[blocks]] id; {_suggest(q['block'], block_ids)}")
        if q["type"] not in ("scale", "choice", "text"):
            raise HailongError(f"{where}: type '{q['type']}'; use scale, choice or text")
        if q["type"] == "choice" and not q["options"]:
            raise HailongError(f"{where}: a choice question needs options = [\"…\", \"…\"]")
        if q["type"] != "choice" and q["options"]:
            raise HailongError(f"{where}: only choice questions take options")
        questions.append(Question(q["id"], q["block"], q["text"], q["type"], q["required"],
                                  tuple(q["options"]), q["help"]))
    if not any(q.type == "scale" for q in questions):
        raise HailongError("survey.toml: no scale question; a survey needs at least one scored question")
    return questions


def load_units(path: Path) -> list[Unit]:
    if not path.exists():
        raise HailongError(f"{path.parent}: units.csv is missing; it lists the rated units as code,name")
    table = read_table(path, ["code", "name"], ["parent", "quota_individual", "quota_organization"])
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for row in table:
        code = row["code"]
        if not UNIT_CODE.match(code):
            raise table.error(row, "code", f"'{code}' may hold only letters, digits, '_' and '-'")
        key = code.upper()
        if key in seen:
            raise table.error(row, "code", f"duplicate code '{code}' (also on row {seen[key]})")
        seen[key] = row.number
        if not row["name"]:
            raise table.error(row, "name", f"unit '{code}' has no name")
        units.append(Unit(
            code=code, name=row["name"], parent=row["parent"],
            quota_individual=table.integer(row, "quota_individual"),
            quota_organization=table.integer(row, "quota_organization"),
        ))
    if not units:
        raise HailongError("units.csv: no units; add one row per rated unit under the header code,name")
    return units
