"""Cooperative rosters (access = "roster"): who may answer, and who has answered so far.

roster.csv holds `id,name,unit_code` and optionally `tax_code,district,contact`. Each member
answers once, on a personal link whose signed token (hailong.survey.tokens) the page sends as
`respondent_key`; an accepted response therefore names its member by the token's roster id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.survey.tables import read_table
from hailong.survey.tokens import roster_id_of, signing_key, verify

ROSTER_FILE = "roster.csv"
# Ids end up in file names (letters/<id>.pdf) and in the token before its last dot.
ROSTER_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
TOTAL = "total"
COMPLETION_COLUMNS = ["unit_code", "district", "eligible", "answered", "percent"]
PENDING_COLUMNS = ["id", "name", "unit_code", "district", "tax_code", "contact"]


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    unit_code: str
    tax_code: str = ""
    district: str = ""
    contact: str = ""


def load_roster(survey) -> list[Member]:
    """The survey's roster.csv, checked: unique ids, a name, a unit of units.csv."""
    path = survey.optional_file(ROSTER_FILE)
    if path is None:
        raise HailongError(
            _('{path}: roster.csv is missing; access = "roster" needs one row per eligible '
              "cooperative as id,name,unit_code (optional tax_code,district,contact)",
              path=survey.path)
        )
    table = read_table(path, ["id", "name", "unit_code"], ["tax_code", "district", "contact"])
    members: list[Member] = []
    seen: dict[str, int] = {}
    for row in table:
        rid = row["id"]
        if not rid:
            raise table.error(row, "id", _("the id is empty; give every cooperative an id"))
        if not ROSTER_ID.match(rid):
            raise table.error(row, "id", _("'{rid}' may hold only letters, digits, '_', '-' and "
                                           "'.'",
                                           rid=rid))
        if rid in seen:
            raise table.error(row, "id", _("duplicate id '{rid}' (also on row {value})",
                                           rid=rid, value=seen[rid]))
        seen[rid] = row.number
        if not row["name"]:
            raise table.error(row, "name", _("cooperative '{rid}' has no name", rid=rid))
        unit = survey.find_unit(row["unit_code"])
        if unit is None:
            raise table.error(
                row, "unit_code",
                _("'{value}' is not a code in units.csv; use one of {value2}{value3}",
                  value=row['unit_code'], value2=', '.join(survey.unit_codes[:10]),
                  value3='…' if len(survey.units) > 10 else ''),
            )
        members.append(Member(rid, row["name"], unit.code, row["tax_code"], row["district"],
                              row["contact"]))
    if not members:
        raise HailongError(_("roster.csv: no rows; add one row per eligible cooperative"))
    return members


def roster_frame(members: list[Member]) -> pd.DataFrame:
    return pd.DataFrame(
        [vars(m) for m in members],
        columns=["id", "name", "unit_code", "tax_code", "district", "contact"],
    )


def answered_ids(members: list[Member], accepted: pd.DataFrame) -> set[str]:
    """Roster ids with at least one accepted response.

    Accepted responses have passed token verification in scoring, so the roster id in the
    token is enough here (progress runs without the signing key).
    """
    if accepted is None or accepted.empty or "respondent_key" not in accepted:
        return set()
    ids = {roster_id_of(k) for k in accepted["respondent_key"].dropna().astype(str)}
    return ids & {m.id for m in members}


def percent(part: int, whole: int) -> str:
    """A percentage with two decimals, half up; empty where there is nothing to divide by."""
    if whole == 0:
        return ""
    value = Decimal(100 * part) / Decimal(whole)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def completion(members: list[Member], answered: set[str]) -> pd.DataFrame:
    """Eligible, answered and percent per unit and district.

    Rows: each (unit, district) pair on the roster; then `district = total` per unit; then
    `unit_code = total` per district; then `total,total`. Cooperatives rating one provincial
    department may come from many districts, so both cuts are useful.
    """
    frame = roster_frame(members)
    frame["answered"] = frame["id"].isin(answered).astype(int)
    rows: list[tuple[str, str, int, int]] = []

    def add(unit: str, district: str, part: pd.DataFrame) -> None:
        rows.append((unit, district, len(part), int(part["answered"].sum())))

    unit_order = list(dict.fromkeys(frame["unit_code"]))
    for unit in unit_order:
        of_unit = frame[frame["unit_code"] == unit]
        for district in sorted(of_unit["district"].unique()):
            add(unit, district, of_unit[of_unit["district"] == district])
    for unit in unit_order:
        add(unit, TOTAL, frame[frame["unit_code"] == unit])
    for district in sorted(frame["district"].unique()):
        add(TOTAL, district, frame[frame["district"] == district])
    add(TOTAL, TOTAL, frame)
    out = pd.DataFrame(rows, columns=COMPLETION_COLUMNS[:4])
    out["percent"] = [percent(a, e) for a, e in zip(out["answered"], out["eligible"], strict=True)]
    return out


def not_answered(members: list[Member], answered: set[str]) -> pd.DataFrame:
    """Cooperatives still to call, by unit then district then name, with their contact."""
    frame = roster_frame(members)
    frame = frame[~frame["id"].isin(answered)]
    order = {m.unit_code: i for i, m in reversed(list(enumerate(members)))}
    frame = frame.assign(_u=frame["unit_code"].map(order))
    frame = frame.sort_values(["_u", "district", "name", "id"], kind="stable")
    return frame[PENDING_COLUMNS].reset_index(drop=True)


def check_keys(survey, keys: pd.Series, roster_ids=None, key: bytes | None = None,
               units: pd.Series | None = None) -> pd.Series:
    """True where a respondent key is a valid token of this survey for a member of its roster.

    Missing, malformed, forged, other-survey tokens, and tokens of ids no longer on the roster
    are False. With `units` (the rows' unit_code, same index), a token is also False on another
    unit's page than the one its member rates. `roster_ids` (ids, or {id: unit code}) and `key`
    default to the survey's roster.csv and HAILONG_SIGNING_KEY.
    """
    if key is None:
        key = signing_key(making=False)
    if roster_ids is None:
        roster_ids = {m.id: m.unit_code for m in load_roster(survey)}
    members = roster_ids if isinstance(roster_ids, dict) else dict.fromkeys(roster_ids)

    def ok(value, unit) -> bool:
        if not isinstance(value, str) or not verify(survey.id, value, key):
            return False
        rid = roster_id_of(value)
        if rid not in members:
            return False
        if unit is None or members[rid] is None:
            return True
        found = survey.find_unit(unit) if isinstance(unit, str) else None
        return found is not None and found.code == members[rid]

    unit_values = [None] * len(keys) if units is None else list(units.reindex(keys.index))
    return pd.Series([ok(v, u) for v, u in zip(keys, unit_values, strict=True)], index=keys.index,
                     dtype=bool)
