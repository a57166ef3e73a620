"""The communes and wards in force since 1 July 2025, as a units table (`hailong units`).

The list comes from the `vietnam-provinces` package (34 provinces, 3,321 communes and wards,
with the official codes of the General Statistics Office). A unit code is the province's
initials and the official five-digit code (HT18754): it keeps the official code readable,
and the letters keep Excel from dropping its leading zeros.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv
from hailong.i18n import _
from hailong.survey.tables import nfc

COLUMNS = ["code", "name", "parent", "official_code"]
_PREFIXES = ("thanh pho ", "tinh ")

# Old names that still mean one province of today.
ALIASES = {"Thừa Thiên Huế": "Thành phố Huế"}

# The 29 provinces merged on 1 July 2025 (Resolution 202/2025/QH15) -> the province they
# joined, so a person typing an old name learns where its communes are now.
MERGED = {
    "Hà Giang": "Tuyên Quang", "Yên Bái": "Lào Cai", "Bắc Kạn": "Thái Nguyên",
    "Vĩnh Phúc": "Phú Thọ", "Hòa Bình": "Phú Thọ", "Bắc Giang": "Bắc Ninh",
    "Thái Bình": "Hưng Yên", "Hải Dương": "Thành phố Hải Phòng", "Hà Nam": "Ninh Bình",
    "Nam Định": "Ninh Bình", "Quảng Bình": "Quảng Trị",
    "Quảng Nam": "Thành phố Đà Nẵng", "Kon Tum": "Quảng Ngãi", "Bình Định": "Gia Lai",
    "Ninh Thuận": "Khánh Hòa", "Phú Yên": "Đắk Lắk", "Đắk Nông": "Lâm Đồng",
    "Bình Thuận": "Lâm Đồng", "Bình Phước": "Đồng Nai", "Bình Dương": "Thành phố Hồ Chí Minh",
    "Bà Rịa - Vũng Tàu": "Thành phố Hồ Chí Minh", "Long An": "Tây Ninh",
    "Tiền Giang": "Đồng Tháp", "Bến Tre": "Vĩnh Long", "Trà Vinh": "Vĩnh Long",
    "Kiên Giang": "An Giang", "Sóc Trăng": "Thành phố Cần Thơ",
    "Hậu Giang": "Thành phố Cần Thơ", "Bạc Liêu": "Cà Mau",
}


@dataclass(frozen=True)
class AdminUnit:
    code: str  # hailong unit code, e.g. HT18754
    name: str  # e.g. Phường Sông Trí
    parent: str  # the province, e.g. Hà Tĩnh
    official_code: str  # five digits, e.g. 18754


def fold(text: str) -> str:
    """Lower case without diacritics and without the 'tỉnh'/'thành phố' prefix, so 'ha tinh',
    'Hà Tĩnh' and 'Tỉnh Hà Tĩnh' meet."""
    text = nfc(text).strip().lower().replace("đ", "d")
    text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    text = " ".join(text.replace("-", " ").split())
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def _provinces():
    from vietnam_provinces import Province

    return sorted(Province.iter_all(), key=lambda p: int(p.code))


def province_names() -> list[str]:
    return [p.name for p in _provinces()]


def find_province(name: str):
    """The province a person typed, with or without diacritics; else an error with a suggestion."""
    provinces = _provinces()
    key = fold(name)
    key = {fold(old): fold(new) for old, new in ALIASES.items()}.get(key, key)
    found = [p for p in provinces if fold(p.name) == key]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:  # no two provinces fold alike today; if a split ever makes two, ask
        names = _(" or ").join(f"'{p.name}'" for p in found)
        raise HailongError(_("province '{name}' may be {names}; write the name with its diacritics",
                             name=name, names=names))
    merged = {fold(old): (old, new) for old, new in MERGED.items()}
    if key in merged:
        old, new = merged[key]
        raise HailongError(_("province {old} was merged into {new} on 1 July 2025; use "
                             "--province \"{new}\"", old=old, new=new))
    folded = {fold(p.name): p.name for p in provinces}
    close = difflib.get_close_matches(key, list(folded), n=1, cutoff=0.6)
    hint = (_("did you mean '{name}'?", name=folded[close[0]]) if close
            else _("the 34 provinces and cities: {names}", names=", ".join(p.name for p in provinces)))
    raise HailongError(_("no province or city '{name}' (after 1 July 2025); {hint}", name=name,
                         hint=hint))


def _initials(codename: str) -> str:
    return "".join(part[0] for part in codename.split("_") if part).upper()


def province_units(province) -> list[AdminUnit]:
    from vietnam_provinces import Ward

    parent = nfc(province.name)  # "Hà Tĩnh", "Thành phố Hà Nội": the official names
    prefix = _initials(province.codename)
    wards = sorted(Ward.iter_by_province(province.code), key=lambda w: int(w.code))
    return [AdminUnit(f"{prefix}{int(w.code):05d}", nfc(w.name), parent, f"{int(w.code):05d}")
            for w in wards]


def units_frame(province: str | None = None, *, everywhere: bool = False) -> pd.DataFrame:
    """The units table of one province, or of the whole country with `everywhere`."""
    if everywhere == (province is not None):
        raise HailongError(_("give --province PROVINCE or --all (the whole country), one of them, "
                             "not both"))
    provinces = _provinces() if everywhere else [find_province(province)]
    units = [u for p in provinces for u in province_units(p)]
    return pd.DataFrame([[u.code, u.name, u.parent, u.official_code] for u in units],
                        columns=COLUMNS, dtype=str)


def write_units(out_file: Path, province: str | None = None, *, everywhere: bool = False,
                force: bool = False) -> str:
    """Write units.csv for `hailong units`; never over a file someone may have edited."""
    frame = units_frame(province, everywhere=everywhere)
    if out_file.exists() and not force:
        raise HailongError(
            _("{path}: the file exists; write to another name with --out-file, or add --force to "
              "overwrite it", path=out_file)
        )
    atomic_write_csv(out_file, frame)
    where = _("the whole country") if everywhere else frame["parent"].iloc[0]
    return _("Wrote {path}: {count} communes, wards and special zones of {where} (the "
             "administrative units since 1 July 2025)", path=out_file, count=len(frame), where=where)
