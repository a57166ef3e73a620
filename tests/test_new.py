"""`hailong new`: a survey folder from a shipped template, on a province's units."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from hailong.errors import HailongError
from hailong.survey.load import load_survey
from hailong.survey.new import SURVEYS, TEMPLATES, new_survey
from hailong.survey.tables import read_table

TODAY = dt.date(2026, 3, 15)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_each_template_gives_a_survey_that_loads(tmp_path, template, vietnamese):
    folder = tmp_path / f"{template}-ha-tinh-2026"
    message = new_survey(folder, template, "ha tinh", today=TODAY)
    assert "69 đơn vị" in message
    survey = load_survey(folder)
    source = load_survey(SURVEYS / TEMPLATES[template].source)
    assert survey.id == folder.name and survey.year == 2026
    assert (survey.start.year, survey.end.year) == (2026, 2026)
    assert (survey.start.month, survey.start.day) == (source.start.month, source.start.day)
    assert [q.id for q in survey.questions] == [q.id for q in source.questions]
    assert [(b.id, b.weight) for b in survey.blocks] == [(b.id, b.weight) for b in source.blocks]
    assert survey.scale.values == source.scale.values
    assert survey.access == source.access and survey.dedupe.values == source.dedupe.values
    assert len(survey.units) == 69 and {u.parent for u in survey.units} == {"Hà Tĩnh"}
    assert "tỉnh Hà Tĩnh" in survey.title and "2026" in survey.title
    assert "Nghi Xuân" not in survey.title + survey.intro + survey.organizer
    assert "thị trấn" not in (folder / "survey.toml").read_text(encoding="utf-8")


def test_sipas_keeps_quotas_and_sampling_plan(tmp_path):
    new_survey(tmp_path / "s", "sipas", "Hà Tĩnh", today=TODAY)
    survey = load_survey(tmp_path / "s")
    assert {(u.quota_individual, u.quota_organization) for u in survey.units} == {(15, 10)}
    assert survey.sampling.province == "Hà Tĩnh"
    assert survey.sampling.start == dt.date(2026, 1, 2)
    assert survey.sampling.end < survey.start


def test_the_toml_says_in_vietnamese_what_to_edit(tmp_path):
    new_survey(tmp_path / "s", "pks02", "Nghệ An", today=TODAY)
    text = (tmp_path / "s" / "survey.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in ("title", "organizer", "intro", "start"):
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert lines[at - 1].startswith("# SỬA:"), key
    assert lines[0].startswith("# Người dân đến Bộ phận Một cửa")
    assert tomllib.loads(text)["title"].endswith("tỉnh Nghệ An năm 2026")


def test_a_city_is_named_as_a_city(tmp_path):
    new_survey(tmp_path / "s", "sipas", "ha noi", today=TODAY)
    survey = load_survey(tmp_path / "s")
    assert survey.organizer == "Ủy ban nhân dân Thành phố Hà Nội"
    assert len(survey.units) == 126


def test_htx_writes_an_empty_roster_to_fill(tmp_path):
    message = new_survey(tmp_path / "h", "htx", "ha noi", today=TODAY)
    assert "roster.csv" in message
    letter = load_survey(tmp_path / "h").settings["letter"]
    assert letter["place"] == "Hà Nội" and letter["number"] == letter["signer_name"] == ""
    text = (tmp_path / "h" / "survey.toml").read_text(encoding="utf-8")
    assert "# SỬA: họ và tên người ký thư mời.\nsigner_name = \"\"" in text
    table = read_table(tmp_path / "h" / "roster.csv", ["id", "name", "unit_code"])
    assert len(table) == 0


def test_without_a_province_the_template_units_are_kept(tmp_path):
    new_survey(tmp_path / "p", "pks02", None, today=TODAY)
    survey = load_survey(tmp_path / "p")
    assert survey.unit_codes == load_survey(SURVEYS / "pks02-2024").unit_codes


@pytest.mark.parametrize("name,problem", [("Bad_Name", "chữ thường"), ("ok", None)])
def test_the_folder_name_is_the_id(tmp_path, name, problem, vietnamese):
    if problem:
        with pytest.raises(HailongError, match=problem):
            new_survey(tmp_path / name, "sipas", "Hà Tĩnh", today=TODAY)
        assert not (tmp_path / name).exists()
    else:
        new_survey(tmp_path / name, "sipas", "Hà Tĩnh", today=TODAY)
        assert load_survey(tmp_path / name).id == "ok"


def test_never_writes_into_a_folder_with_files(tmp_path, vietnamese):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(HailongError, match="đã có tệp"):
        new_survey(folder, "sipas", "Hà Tĩnh", today=TODAY)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_a_bad_province_leaves_nothing(tmp_path, vietnamese):
    with pytest.raises(HailongError, match="có phải 'Hà Tĩnh'"):
        new_survey(tmp_path / "s", "sipas", "Ha Tinhh", today=TODAY)
    assert list(tmp_path.iterdir()) == []


def test_the_shipped_current_survey_is_what_new_makes(tmp_path):
    shipped = SURVEYS / "sipas-ha-tinh-2026"
    # made in January, before the template's window of that year (a later day moves it to 2027)
    new_survey(tmp_path / "sipas-ha-tinh-2026", "sipas", "Hà Tĩnh", today=dt.date(2026, 1, 15))
    for name in ("survey.toml", "units.csv"):
        assert (tmp_path / "sipas-ha-tinh-2026" / name).read_bytes() == (shipped / name).read_bytes()
