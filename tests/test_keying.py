"""Paper keyings (contract v3, section 9) and the channels' dedupe and participation rules,
through `score` end to end: every case of section 9, replays of a keying, assisted answers on
one phone under the device rule, bad channel cells, and the chunk size changing nothing."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey

from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

COLUMNS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
           "respondent_key", "device_id", "ticket", "started_at", "channel", "entered_by", "entry",
           "q1", "q2", "q3", "kenh", "gop_y", "comment"]


def row(minute: int, rid: str, *, form: str = "", clerk: str = "", entry: str = "",
        channel: str = "paper", q1: str = "5", q3: str = "4", kenh: str = "", unit: str = "X01",
        device: str = "", rtype: str = "", text: str = "") -> dict[str, str]:
    return {"submitted_at": f"2024-06-12T{8 + minute // 60:02d}:{minute % 60:02d}:00+07:00",
            "response_id": rid, "unit_code": unit, "ticket": form, "channel": channel,
            "entered_by": clerk, "entry": entry, "q1": q1, "q3": q3, "kenh": kenh,
            "device_id": device, "respondent_type": rtype, "gop_y": text}


def run(tmp_path: Path, rows: list[dict], toml: str = SMALL_TOML, chunk: int | None = None,
        name: str = "out"):
    survey = load_survey(write_survey(tmp_path / "s", toml))
    out = tmp_path / name
    raw = Layout(out, survey.id).raw_csv
    raw.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    raw.write_text(buffer.getvalue(), encoding="utf-8")
    summary = score(survey, out, chunk_rows=chunk)
    data = Layout(out, survey.id).data
    return summary, {name: _read(data / f"{name}.csv") for name in
                     ("responses", "quarantine", "duplicates", "participation")}


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def ids(rows: list[dict]) -> list[str]:
    return [r["response_id"] for r in rows]


def test_two_clerks_agree_one_row_the_first_keying(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1", kenh="Khác"),
                              row(5, "k2", form="f1", clerk="binh", entry="2", kenh="khác")])
    assert ids(files["responses"]) == ["k1"]
    assert files["responses"][0]["channel"] == "paper"
    assert [(d["response_id"], d["rule"], d["kept_response_id"]) for d in files["duplicates"]] \
        == [("k2", "second_entry", "k1")]
    assert files["quarantine"] == []


def test_keyings_that_differ_are_both_held_naming_the_questions(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1", q1="5"),
                              row(5, "k2", form="F1", clerk="binh", entry="2", q1="4",
                                  kenh="Khác")])
    assert files["responses"] == []
    assert [q["reason_code"] for q in files["quarantine"]] == ["entry_mismatch"] * 2
    assert "q1, kenh" in files["quarantine"][0]["reason"]
    assert "keying 3" in files["quarantine"][0]["reason"]


def test_no_opinion_as_0_or_empty_and_texts_do_not_make_a_mismatch(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1", q1="0",
                                  text="Cán bộ tốt"),
                              row(5, "k2", form="F1", clerk="binh", entry="2", q1="",
                                  text="can bo tot")])
    assert ids(files["responses"]) == ["k1"]


def test_a_form_keyed_once_is_held_as_single_entry(tmp_path):
    summary, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                                    row(1, "k9", form="", clerk="an", entry="1")])
    assert files["responses"] == []
    assert [q["reason_code"] for q in files["quarantine"]] == ["single_entry"] * 2
    assert "keyed once" in files["quarantine"][0]["reason"]
    assert "respondent_key and ticket empty" in files["quarantine"][1]["reason"]
    assert "2 quarantined" in summary


def test_one_clerk_twice_is_a_mismatch_even_when_identical(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                              row(5, "k2", form="F1", clerk="AN", entry="2")])
    assert files["responses"] == []
    assert [q["reason_code"] for q in files["quarantine"]] == ["entry_mismatch"] * 2
    assert "clerk" in files["quarantine"][0]["reason"]


def test_two_keyings_numbered_alike_are_a_mismatch(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                              row(5, "k2", form="F1", clerk="binh", entry="1")])
    assert [q["reason_code"] for q in files["quarantine"]] == ["entry_mismatch"] * 2
    assert "1, 1" in files["quarantine"][0]["reason"]


def test_the_supervisor_decides_a_mismatch(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1", q1="5"),
                              row(5, "k2", form="F1", clerk="binh", entry="2", q1="4"),
                              row(9, "k3", form="F1", clerk="gs", entry="3", q1="4")])
    assert ids(files["responses"]) == ["k3"]
    assert files["responses"][0]["q1"] == "4"
    assert sorted((d["response_id"], d["rule"], d["kept_response_id"])
                  for d in files["duplicates"]) == [("k1", "second_entry", "k3"),
                                                     ("k2", "second_entry", "k3")]
    assert files["quarantine"] == []


def test_a_keying_3_without_a_mismatch_still_decides(tmp_path):
    # keyings 1 and 2 agree; the supervisor typed the form from the paper anyway: trusted
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1", q1="5"),
                              row(5, "k2", form="F1", clerk="binh", entry="2", q1="5"),
                              row(9, "k3", form="F1", clerk="gs", entry="3", q1="3")])
    assert ids(files["responses"]) == ["k3"]
    assert {d["rule"] for d in files["duplicates"]} == {"second_entry"}
    # a supervisor's keying alone, and a corrected decision: the latest keying 3
    _, files = run(tmp_path, [row(0, "s1", form="F2", clerk="gs", entry="3", q1="2"),
                              row(4, "s2", form="F2", clerk="gs", entry="3", q1="3")],
                   name="out2")
    assert ids(files["responses"]) == ["s2"]


def test_a_resent_keying_is_a_replay_not_a_second_keying(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                              row(2, "k1", form="F1", clerk="an", entry="1"),
                              row(5, "k2", form="F1", clerk="binh", entry="2")])
    assert ids(files["responses"]) == ["k1"]
    assert sorted((d["response_id"], d["rule"]) for d in files["duplicates"]) == [
        ("k1", "replay"), ("k2", "second_entry")]
    # the replay of a keying still waiting for its second one is a replay too, not a keying
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                              row(2, "k1", form="F1", clerk="an", entry="1")], name="out2")
    assert [q["reason_code"] for q in files["quarantine"]] == ["single_entry"]
    assert [d["rule"] for d in files["duplicates"]] == ["replay"]


def test_forms_of_two_units_with_one_code_are_two_forms(tmp_path):
    _, files = run(tmp_path, [row(0, "a1", form="F1", clerk="an", entry="1"),
                              row(1, "b1", form="F1", clerk="an", entry="1", unit="X02"),
                              row(2, "a2", form="F1", clerk="binh", entry="2"),
                              row(3, "b2", form="F1", clerk="binh", entry="2", unit="X02")])
    assert ids(files["responses"]) == ["a1", "b1"]


def test_assisted_answers_on_one_phone_are_never_device_duplicates(tmp_path):
    helper = [row(i, f"h{i}", channel="assisted", clerk="ccb-01", device="phone-1", q1=str(1 + i % 5))
              for i in range(8)]
    online = [row(20 + i, f"o{i}", channel="", device="phone-2") for i in range(3)]
    summary, files = run(tmp_path, helper + online)
    assert ids(files["responses"]) == [*(f"h{i}" for i in range(8)), "o0"]
    assert [(d["response_id"], d["rule"]) for d in files["duplicates"]] == [
        ("o1", "device"), ("o2", "device")]
    total = [p for p in files["participation"] if p["unit_code"] == "X01" and p["date"] == "total"]
    assert (total[0]["responses"], total[0]["online"], total[0]["paper"],
            total[0]["assisted"]) == ("9", "1", "0", "8")


def test_participation_counts_paper_answers(tmp_path):
    _, files = run(tmp_path, [row(0, "k1", form="F1", clerk="an", entry="1"),
                              row(5, "k2", form="F1", clerk="binh", entry="2"),
                              row(6, "o1", channel="online")])
    day = [p for p in files["participation"] if p["unit_code"] == "X01" and p["date"] != "total"]
    assert [(p["responses"], p["online"], p["paper"], p["assisted"]) for p in day] == [
        ("2", "1", "1", "0")]


@pytest.mark.parametrize(("cells", "named"), [
    ({"channel": "fax"}, "channel 'fax'"),
    ({"channel": "paper", "entered_by": "", "entry": "1"}, "entered_by ''"),
    ({"channel": "assisted", "entered_by": "Nguyễn Văn A"}, "entered_by 'Nguyễn Văn A'"),
    ({"channel": "paper", "entered_by": "an", "entry": "4"}, "entry '4'"),
])
def test_channel_cells_that_cannot_be_counted_are_malformed(tmp_path, cells, named):
    bad = {**row(0, "x1", form="F1"), **cells}
    _, files = run(tmp_path, [bad])
    assert [q["reason_code"] for q in files["quarantine"]] == ["malformed"]
    assert named in files["quarantine"][0]["reason"]


def test_keying_is_the_same_whatever_the_chunk_size(tmp_path):
    rows = [row(0, "k1", form="F1", clerk="an", entry="1", q1="5"),
            row(1, "o1", channel="", device="d"),
            row(2, "k2", form="F2", clerk="an", entry="1"),
            row(3, "k3", form="F1", clerk="binh", entry="2", q1="4"),
            row(4, "o2", channel="", device="d"),
            row(5, "k4", form="F2", clerk="binh", entry="2"),
            row(6, "k5", form="F1", clerk="gs", entry="3"),
            row(7, "k6", form="F3", clerk="an", entry="1")]
    whole = run(tmp_path, rows, name="whole")[1]
    for chunk in (1, 2, 3):
        assert run(tmp_path, rows, chunk=chunk, name=f"c{chunk}")[1] == whole
    assert ids(whole["responses"]) == ["o1", "k2", "k5"]
    assert [q["response_id"] for q in whole["quarantine"]] == ["k6"]
