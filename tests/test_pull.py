"""pull (local kind): copy new sheet rows into data/raw.csv exactly once, even after a crash."""

from __future__ import annotations

import csv
import json
import sys
import types
from pathlib import Path

import pytest

from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.localsheet import append_row
from hailong.pull import LOCAL_SOURCE, pull


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def raw_rows(out: Path, survey) -> list[dict[str, str]]:
    with open(Layout(out, survey.id).raw_csv, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def add(out: Path, survey, ids):
    for rid in ids:
        append_row(Layout(out, survey.id).sheet_csv, survey.response_columns,
                   {"response_id": rid, "survey_id": survey.id, "unit_code": "X01", "q1": "4",
                    "comment": "Hài lòng, cảm ơn"})


def test_no_sheet_yet_is_not_an_error(out, survey):
    message = pull(survey, out)
    assert "no answers yet" in message and "0 rows" in message
    layout = Layout(out, survey.id)
    assert layout.raw_csv.read_text("utf-8").splitlines() == [",".join(survey.response_columns)]


def test_pull_copies_once_then_only_new_rows(out, survey):
    add(out, survey, ["a", "b", "c"])
    assert pull(survey, out) == (
        f"pulled 3 new rows (total 3) into {Layout(out, survey.id).raw_csv}")
    assert pull(survey, out).startswith("pulled 0 new rows (total 3)")
    add(out, survey, ["d", "e"])
    assert pull(survey, out).startswith("pulled 2 new rows (total 5)")
    rows = raw_rows(out, survey)
    assert [r["response_id"] for r in rows] == ["a", "b", "c", "d", "e"]
    assert rows[0]["comment"] == "Hài lòng, cảm ơn" and rows[0]["q1"] == "4"
    assert list(rows[0]) == survey.response_columns


def test_sheet_with_other_order_and_extra_column(out, survey):
    sheet = Layout(out, survey.id).sheet_csv
    sheet.parent.mkdir(parents=True)
    sheet.write_text("unit_code,q1,response_id,ghi_chu\nX02,5,r1,thêm\n", encoding="utf-8")
    pull(survey, out)
    row = raw_rows(out, survey)[0]
    assert (row["unit_code"], row["q1"], row["response_id"], row["ghi_chu"]) == ("X02", "5", "r1", "thêm")


def test_half_written_sheet_row_waits_for_the_next_pull(out, survey):
    add(out, survey, ["a"])
    sheet = Layout(out, survey.id).sheet_csv
    with open(sheet, "ab") as fh:
        fh.write(b",torn,thu-nghiem,X0")
    assert pull(survey, out).startswith("pulled 1 new rows")
    add(out, survey, ["b"])  # repairs the sheet, then appends
    assert pull(survey, out).startswith("pulled 1 new rows (total 2)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b"]


def test_pull_killed_while_appending_is_redone_whole(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    layout = Layout(out, survey.id)
    add(out, survey, ["c", "d"])
    # a pull died after writing part of its block and before saving its state
    good = layout.raw_csv.read_bytes()
    with open(layout.raw_csv, "ab") as fh:
        fh.write(b"2024-06-12T08:00:00+07:00,c,thu-nghiem,X01,,,,,,4,,,,,H\xc3")  # cut inside "à"
    assert pull(survey, out).startswith("pulled 2 new rows (total 4)")
    assert layout.raw_csv.read_bytes().startswith(good)
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b", "c", "d"]


def test_pull_killed_after_appending_before_saving_state(out, survey):
    add(out, survey, ["a"])
    pull(survey, out)
    layout = Layout(out, survey.id)
    state_before = layout.pull_state.read_text("utf-8")
    add(out, survey, ["b"])
    pull(survey, out)
    layout.pull_state.write_text(state_before, "utf-8")  # the state save never happened
    assert pull(survey, out).startswith("pulled 1 new rows (total 2)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b"]
    assert json.loads(layout.pull_state.read_text("utf-8"))["sources"][LOCAL_SOURCE]["rows"] == 2


def test_shrunken_sheet_is_a_clear_error(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    sheet = Layout(out, survey.id).sheet_csv
    sheet.unlink()
    add(out, survey, ["z"])
    with pytest.raises(HailongError, match="holds 1 rows but 2 were already pulled"):
        pull(survey, out)


def test_apps_script_kind_calls_sheets(tmp_path, monkeypatch):
    from conftest import SMALL_TOML, write_survey

    from hailong.survey import load_survey

    toml = SMALL_TOML + '\n[collector]\nkind = "apps_script"\nurl = "https://script.google.com/macros/s/x/exec"\n'
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    calls = []
    fake = types.ModuleType("hailong.sheets")

    def pull_sheets(survey_, out, store):
        calls.append((survey_.id, out, store.path))
        return "pulled 0 new rows from Google Sheets"

    fake.pull_sheets = pull_sheets
    monkeypatch.setitem(sys.modules, "hailong.sheets", fake)
    assert pull(survey, tmp_path / "out") == "pulled 0 new rows from Google Sheets"
    assert calls == [(survey.id, tmp_path / "out", Layout(tmp_path / "out", survey.id).raw_csv)]
