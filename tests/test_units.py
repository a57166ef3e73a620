"""The communes and wards since 1 July 2025 (hailong.survey.units), from vietnam-provinces."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.survey.load import UNIT_CODE, load_units
from hailong.survey.units import (
    MERGED,
    find_province,
    fold,
    province_names,
    units_frame,
    write_units,
)


def test_the_list_is_the_one_after_the_2025_reorganisation():
    # 34 provinces and 3,321 communes, wards and special zones (Resolution 202/2025/QH15)
    assert len(province_names()) == 34
    country = units_frame(everywhere=True)
    assert len(country) == 3321
    assert country["code"].is_unique
    assert country["parent"].nunique() == 34
    assert not set(MERGED) & set(province_names())


def test_ha_tinh_has_69_communes_and_wards_with_official_codes():
    frame = units_frame("Hà Tĩnh")
    assert len(frame) == 69
    assert set(frame["parent"]) == {"Hà Tĩnh"}
    assert frame["name"].str.match(r"^(Xã|Phường) ").all()
    assert frame["official_code"].str.fullmatch(r"\d{5}").all()
    # the unit code is the province's initials and the official code, so either finds the other
    assert (frame["code"] == "HT" + frame["official_code"]).all()
    assert frame["code"].map(lambda c: bool(UNIT_CODE.match(c))).all()
    assert "Phường Thành Sen" in set(frame["name"])
    assert list(frame["official_code"]) == sorted(frame["official_code"])


@pytest.mark.parametrize("typed", ["Hà Tĩnh", "ha tinh", "HA TINH", "Tỉnh Hà Tĩnh", " hà  tĩnh ",
                                   "ha-tinh", "Hà Tỉnh"])  # a wrong tone mark is no obstacle
def test_a_province_is_found_with_or_without_diacritics(typed):
    assert find_province(typed).name == "Hà Tĩnh"


def test_cities_are_found_without_thanh_pho():
    assert find_province("ho chi minh").name == "Thành phố Hồ Chí Minh"
    assert find_province("Đà Nẵng").name == "Thành phố Đà Nẵng"
    assert find_province("Thừa Thiên Huế").name == "Thành phố Huế"


@pytest.mark.parametrize("typed,suggested", [("Ha Tinhh", "Hà Tĩnh"), ("Hà Tinh Tinh", "Hà Tĩnh"),
                                             ("nghe an x", "Nghệ An"), ("Lam dongg", "Lâm Đồng")])
def test_a_misspelt_province_gets_a_suggestion(typed, suggested, vietnamese):
    with pytest.raises(HailongError, match=f"có phải '{suggested}'"):
        find_province(typed)


def test_a_merged_province_names_the_one_it_joined(vietnamese):
    with pytest.raises(HailongError, match="Quảng Bình đã hợp nhất vào Quảng Trị"):
        find_province("quang binh")


def test_nonsense_lists_the_provinces(vietnamese):
    with pytest.raises(HailongError, match="34 tỉnh, thành phố: Thành phố Hà Nội, Cao Bằng"):
        find_province("qqqq")


@given(st.sampled_from(sorted(province_names())))
def test_every_province_folds_to_itself_alone(name):
    assert find_province(fold(name)).name == name


def test_write_units_gives_a_units_csv_that_loads(tmp_path):
    path = tmp_path / "units.csv"
    message = write_units(path, "ha tinh")
    assert "69" in message and "Hà Tĩnh" in message
    units = load_units(path)
    assert len(units) == 69 and units[0].parent == "Hà Tĩnh"
    assert re.fullmatch(r"HT\d{5}", units[0].code)


def test_write_units_never_overwrites_without_force(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("code,name\nA,Xã A\n", encoding="utf-8")
    with pytest.raises(HailongError, match="--force"):
        write_units(path, "Hà Tĩnh")
    assert path.read_text(encoding="utf-8") == "code,name\nA,Xã A\n"
    write_units(path, "Hà Tĩnh", force=True)
    assert len(load_units(path)) == 69


def test_province_and_all_are_one_or_the_other():
    with pytest.raises(HailongError, match="--all"):
        units_frame(None)
    with pytest.raises(HailongError, match="--all"):
        units_frame("Hà Tĩnh", everywhere=True)
