"""pull (local kind): copy new sheet rows into data/raw.csv exactly once, even after a crash."""

from __future__ import annotations

import csv
import json
import sys
import threading
import time
import types
from pathlib import Path

import pytest
from filelock import FileLock

from hailong.collect.localsheet import append_row
from hailong.errors import HailongError
from hailong.ingest.pull import LOCAL_SOURCE, pull
from hailong.ingest.rawstore import RawStore
from hailong.layout import Layout


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def raw_rows(out: Path, survey) -> list[dict[str, str]]:
    with open(Layout(out, survey.id).raw_csv, newline="", encoding="utf-8-sig") as fh:
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
    assert layout.raw_csv.read_text("utf-8-sig").splitlines() == [",".join(survey.response_columns)]


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
    sources = json.loads(layout.pull_state.read_text("utf-8"))["sources"]
    assert [entry["rows"] for entry in sources.values()] == [2]


def write_sheet(out: Path, survey, ids) -> Path:
    """A sheet as append_row writes it, in one go (hundreds of fsyncs would only cost time)."""
    sheet = Layout(out, survey.id).sheet_csv
    sheet.parent.mkdir(parents=True, exist_ok=True)
    with open(sheet, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, survey.response_columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows({"response_id": rid, "survey_id": survey.id, "unit_code": "X02", "q1": "5"}
                         for rid in ids)
    return sheet


def test_sheet_moved_aside_and_started_again_is_pulled_whole(out, survey):
    # issue H2: the new sheet's first 6 rows were skipped, counted as the old sheet's
    old = [f"old{i}" for i in range(6)]
    new = [f"new{i}" for i in range(8)]
    add(out, survey, old)
    assert pull(survey, out).startswith("pulled 6 new rows (total 6)")
    sheet = Layout(out, survey.id).sheet_csv
    sheet.rename(sheet.with_name("sheet-old.csv"))
    add(out, survey, new)
    message = pull(survey, out)
    assert message.startswith("pulled 8 new rows (total 14)")
    assert "sheet.csv is a new sheet" in message and "the 6 rows of the earlier sheet(s) stay" in message
    assert [r["response_id"] for r in raw_rows(out, survey)] == old + new
    add(out, survey, ["new8"])
    assert pull(survey, out) == f"pulled 1 new rows (total 15) into {Layout(out, survey.id).raw_csv}"
    # the old sheet put back (it gained a late row meanwhile) goes on where it stopped
    sheet.rename(sheet.with_name("sheet-new.csv"))
    sheet.with_name("sheet-old.csv").rename(sheet)
    add(out, survey, ["old6"])
    assert pull(survey, out).startswith("pulled 1 new rows (total 16)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == [*old, *new, "new8", "old6"]


def test_new_sheet_with_fewer_rows_than_the_old_is_pulled_whole(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    sheet = Layout(out, survey.id).sheet_csv
    sheet.unlink()
    assert pull(survey, out).startswith("no answers yet")
    add(out, survey, ["z"])
    assert pull(survey, out).startswith("pulled 1 new rows (total 3)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b", "z"]


def test_new_sheet_with_only_its_header_pulls_nothing(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    sheet = Layout(out, survey.id).sheet_csv
    sheet.write_text(",".join(survey.response_columns) + "\n", "utf-8")
    assert pull(survey, out).startswith("pulled 0 new rows (total 2)")


def test_rows_deleted_from_the_sheet_is_a_clear_error(out, survey):
    add(out, survey, ["a", "b", "c"])
    pull(survey, out)
    sheet = Layout(out, survey.id).sheet_csv
    lines = sheet.read_text("utf-8").splitlines(keepends=True)
    sheet.write_text("".join(lines[:2]), "utf-8")
    with pytest.raises(HailongError, match="holds 1 rows but 3 were already pulled.*raw.csv keeps them"):
        pull(survey, out)


def test_a_column_added_to_the_sheet_by_hand_keeps_it_the_same_sheet(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    sheet = Layout(out, survey.id).sheet_csv
    lines = sheet.read_text("utf-8").splitlines()
    sheet.write_text("\n".join([lines[0] + ",ghi_chu", *(line + "," for line in lines[1:])]) + "\n", "utf-8")
    add(out, survey, ["c"])
    assert pull(survey, out).startswith("pulled 1 new rows (total 3)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b", "c"]


def test_counts_from_before_sheet_fingerprints_are_taken_over(out, survey):
    add(out, survey, ["a", "b"])
    pull(survey, out)
    layout = Layout(out, survey.id)
    state = json.loads(layout.pull_state.read_text("utf-8"))
    state["sources"] = {LOCAL_SOURCE: {"rows": 2}}  # as the first version of pull wrote it
    layout.pull_state.write_text(json.dumps(state), "utf-8")
    add(out, survey, ["c"])
    assert pull(survey, out).startswith("pulled 1 new rows (total 3)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == ["a", "b", "c"]


def test_deleted_pull_state_refuses_and_keeps_raw_csv(out, survey):
    # issue H3a: raw.csv with 457 rows was cut to its header
    write_sheet(out, survey, [f"r{i}" for i in range(457)])
    pull(survey, out)
    layout = Layout(out, survey.id)
    data = layout.raw_csv.read_bytes()
    layout.pull_state.unlink()
    layout.sheet_csv.rename(layout.sheet_csv.with_name("sheet-old.csv"))
    with pytest.raises(HailongError, match="pull-state.json beside it is missing"):
        pull(survey, out)
    assert layout.raw_csv.read_bytes() == data


def test_raw_csv_resaved_with_crlf_refuses_then_the_advice_works(out, survey):
    # issue H3b: the next pull cut the CRLF copy mid-row and glued two rows together
    write_sheet(out, survey, [f"r{i}" for i in range(50)])
    pull(survey, out)
    layout = Layout(out, survey.id)
    crlf = layout.raw_csv.read_bytes().replace(b"\n", b"\r\n")
    layout.raw_csv.write_bytes(crlf)
    add(out, survey, ["late"])
    with pytest.raises(HailongError, match="changed since the last pull.*move raw.csv aside") as err:
        pull(survey, out)
    assert "\n" not in str(err.value)
    assert layout.raw_csv.read_bytes() == crlf
    layout.raw_csv.rename(layout.raw_csv.with_name("raw-old.csv"))  # what the message says to do
    assert pull(survey, out).startswith("pulled 51 new rows (total 51)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == [f"r{i}" for i in range(50)] + ["late"]


def test_two_pulls_at_once_copy_each_row_once(out, survey, monkeypatch):
    # issue M2: two pulls started together both copied every row
    write_sheet(out, survey, [f"r{i}" for i in range(300)])
    inside = threading.Event()
    real_append = RawStore.append

    def slow_append(self, source, columns, rows):
        if rows and not inside.is_set():
            inside.set()
            time.sleep(0.5)  # the second pull starts while the first is about to write
        return real_append(self, source, columns, rows)

    monkeypatch.setattr(RawStore, "append", slow_append)
    summaries = []
    first = threading.Thread(target=lambda: summaries.append(pull(survey, out)))
    first.start()
    assert inside.wait(30)
    summaries.append(pull(survey, out))
    first.join()
    assert summaries[0].startswith("pulled 300 new rows (total 300)")
    assert summaries[1].startswith("pulled 0 new rows (total 300)")
    assert [r["response_id"] for r in raw_rows(out, survey)] == [f"r{i}" for i in range(300)]


def test_a_pull_waiting_too_long_for_another_is_one_clear_error(out, survey, monkeypatch):
    import hailong.ingest.pull as pull_module

    monkeypatch.setattr(pull_module, "LOCK_TIMEOUT", 0.2)
    layout = Layout(out, survey.id)
    layout.data.mkdir(parents=True)
    with FileLock(str(layout.raw_csv) + ".lock"):
        with pytest.raises(HailongError, match="another pull of survey thu-nghiem"):
            pull(survey, out)
    assert pull(survey, out).startswith("no answers yet")


def test_apps_script_kind_calls_shards(tmp_path, monkeypatch):
    from conftest import SMALL_TOML, write_survey

    from hailong.survey.load import load_survey

    toml = SMALL_TOML + '\n[collector]\nkind = "apps_script"\nurl = "https://script.google.com/macros/s/x/exec"\n'
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    calls = []
    fake = types.ModuleType("hailong.ingest.shards")  # every spreadsheet, several at once

    def pull_sheets(survey_, out, store):
        calls.append((survey_.id, out, store.path))
        return "pulled 0 new rows from Google Sheets"

    fake.pull_sheets = pull_sheets
    monkeypatch.setitem(sys.modules, "hailong.ingest.shards", fake)
    assert pull(survey, tmp_path / "out") == "pulled 0 new rows from Google Sheets"
    assert calls == [(survey.id, tmp_path / "out", Layout(tmp_path / "out", survey.id).raw_csv)]


def test_a_lone_cr_in_a_comment_is_one_answer_from_sheet_to_score(out, survey):
    """Issue 13: 400 rows, one in four with a CR typed in the comment, gave 300 accepted and
    100 quarantined as broken quoting."""
    from hailong.ingest.responses import read_responses
    from hailong.score.pipeline import score

    sheet = Layout(out, survey.id).sheet_csv
    for i in range(400):
        append_row(sheet, survey.response_columns,
                   {"submitted_at": f"2024-06-12T08:{i % 60:02d}:{i // 60:02d}+07:00",
                    "response_id": f"r{i}", "survey_id": survey.id, "unit_code": "X01", "q1": "4",
                    "q3": "5", "comment": "dòng một\rdòng hai" if i % 4 == 0 else "tốt"})
    pull(survey, out)
    assert len(raw_rows(out, survey)) == 400
    assert score(survey, out).startswith("read 400 rows: 400 accepted, 0 quarantined")
    accepted = read_responses(Layout(out, survey.id).data_file("responses.csv"), survey).frame
    assert (accepted["comment"] == "dòng một\rdòng hai").sum() == 100
