"""`score` end to end: the four data files, their formats, conservation, errors."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

HEADER = ("submitted_at,response_id,survey_id,unit_code,respondent_type,respondent_key,device_id,"
          "ticket,started_at,q1,q2,q3,kenh,gop_y,comment")


def line(minute=0, rid="r", unit="X01", q1="5", q2="4", q3="4", device="", key="", rtype="",
         day=12, comment="") -> str:
    return (f"2024-06-{day}T08:{minute:02d}:00+07:00,{rid},,{unit},{rtype},{key},{device},,,"
            f"{q1},{q2},{q3},,,{comment}")


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def header(path: Path) -> list[str]:
    return next(csv.reader(io.StringIO(path.read_text("utf-8-sig"))))


@pytest.fixture
def raw(tmp_path, survey):
    """A raw.csv where the pull would put it, with a bit of everything in it."""
    nfd = unicodedata.normalize("NFD", "Rất tốt, cảm ơn")
    lines = [
        "\ufeff" + HEADER,
        *[line(i, f"a{i}", device=f"d{i}") for i in range(10)],        # 2-11: X01, ranked
        line(20, "a0", device="d0"),                                  # 12 replay of a0
        line(21, "b1", unit=" x02", q1="5.0", device="p"),            # 13 X02, normalised
        line(22, "b2", unit="X02", q1="1", q2="2", q3="1", device="p"),  # 14 device duplicate
        line(23, "b3", unit="X02", q1="năm"),                         # 15 not a whole number
        line(24, "b4", unit="X02", day=15),                           # 16 outside the window
        line(25, "b5", unit="X02") + ",extra",                        # 17 one cell too many
        line(26, "b6", unit="X02", comment=f'"{nfd}"'),                # 18 quoted, decomposed
    ]
    path = Layout(tmp_path / "out", survey.id).raw_csv
    path.parent.mkdir(parents=True)
    path.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    return path


def test_score_writes_the_four_files(tmp_path, survey, raw):
    summary = score(survey, tmp_path / "out")
    data = Layout(tmp_path / "out", survey.id).data
    assert summary.startswith("read 17 rows: 12 accepted, 3 quarantined, 2 duplicates; "
                              "3 units, 1 ranked → ")

    assert header(data / "responses.csv") == survey.response_columns
    accepted = read_csv(data / "responses.csv")
    assert len(accepted) == 12
    x02 = [r for r in accepted if r["response_id"] in ("b1", "b6")]
    assert [r["unit_code"] for r in x02] == ["X02", "X02"]
    assert x02[0]["q1"] == "5" and x02[0]["survey_id"] == survey.id
    assert x02[1]["comment"] == "Rất tốt, cảm ơn"  # NFC, comma kept inside the cell
    assert x02[0]["respondent_type"] == "individual"

    # exactly as read plus reason_code and reason, in file order; a malformed row's reason
    # says its row
    assert header(data / "quarantine.csv") == [*HEADER.split(","), "reason_code", "reason"]
    quarantine = read_csv(data / "quarantine.csv")
    assert len(quarantine) == 3
    assert quarantine[0]["reason"] == "q1: answer 'năm' is not a whole number"
    assert quarantine[0]["q1"] == "năm"  # as read
    assert "outside the survey window" in quarantine[1]["reason"]
    assert "16 cells but the header has 15" in quarantine[2]["reason"]
    assert quarantine[2]["reason"].endswith("(row 17)")
    assert [r["reason_code"] for r in quarantine] == ["bad_answer", "outside_window", "malformed"]

    assert header(data / "duplicates.csv") == [*HEADER.split(","), "rule", "kept_response_id"]
    duplicates = read_csv(data / "duplicates.csv")
    assert [(d["rule"], d["kept_response_id"]) for d in duplicates] == [
        ("replay", "a0"), ("device", "b1")]
    assert duplicates[1]["unit_code"] == "X02"

    ranking = read_csv(data / "ranking.csv")
    assert header(data / "ranking.csv") == ["rank", "unit_code", "unit_name", "n", "index", "ci_low",
                                             "ci_high", "band", "ranked", "rank_low",
                                             "rank_high", "block:tiep-can", "block:ket-qua"]
    assert [r["unit_code"] for r in ranking] == ["X01", "X02", "X03"]
    x01, x02, x03 = ranking
    assert x01 == {"rank": "1", "unit_code": "X01", "unit_name": "Xã Tiên Điền", "n": "10",
                   # ten answers all satisfied, no informative unit (D = 1): Clopper-Pearson on
                   # n = 10 × (1.96 / t₉)² = 7.51, 0.025^(1/7.51) = 61.18, not a certain 100–100
                   "index": "100.00", "ci_low": "61.18", "ci_high": "100.00", "band": "Xuất sắc",
                   "ranked": "true", "rank_low": "1", "rank_high": "1",
                   "block:tiep-can": "100.00", "block:ket-qua": "100.00"}
    assert x02["rank"] == x02["rank_low"] == x02["rank_high"] == ""
    assert x02["ranked"] == "false" and x02["n"] == "2"
    assert x02["index"] == "100.00" and x02["band"] == "Chưa đủ phiếu"
    assert x03["n"] == "0" and x03["index"] == x03["ci_low"] == x03["block:ket-qua"] == ""

    assert len(accepted) + len(quarantine) + len(duplicates) == 17  # conservation

    # run.json, written last, vouches for exactly these files: records (not lines) and SHA-256
    run = json.loads((data / "run.json").read_text("utf-8"))
    assert run["survey"] == survey.id and run["scale_questions"] == 3
    assert run["design_effect"] == 1.0  # no unit is informative here
    assert len(run["id"]) == 32 and dt.datetime.fromisoformat(run["time"]).utcoffset() is not None
    assert set(run["files"]) == {"responses.csv", "quarantine.csv", "duplicates.csv",
                                 "ranking.csv", "questions.csv", "block_answers.csv",
                                 "respondent_types.csv", "intervals.csv", "signals.csv",
                                 "participation.csv"}
    for name, entry in run["files"].items():
        raw = (data / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(raw).hexdigest(), name
        assert entry["records"] == len(read_csv(data / name)), name
    assert run["files"]["quarantine.csv"]["records"] == 3


def test_a_row_column_in_the_file_is_kept(tmp_path, survey):
    """A file's own extra columns (here `row`) are kept as read, before the reason."""
    path = tmp_path / "export.csv"
    path.write_text(HEADER + ",row\n" + line(1, "z1", q1="9") + ",A\n", encoding="utf-8")
    score(survey, tmp_path / "out", responses=path)
    quarantine = Layout(tmp_path / "out", survey.id).data_file("quarantine.csv")
    assert header(quarantine) == [*HEADER.split(","), "row", "reason_code", "reason"]
    assert [r["row"] for r in read_csv(quarantine)] == ["A"]


def test_nanosecond_times_are_scored(tmp_path, survey):
    path = tmp_path / "export.csv"
    path.write_text("\n".join([
        HEADER, line(1, "n1").replace("08:01:00+07:00", "08:01:00.123456789+07:00"),
        line(2, "n2").replace("2024-06-12T08:02:00+07:00", "2024-06-12 08:02:00.123456789"),
    ]) + "\n", encoding="utf-8")
    assert "read 2 rows: 2 accepted, 0 quarantined" in score(survey, tmp_path / "out", responses=path)
    accepted = read_csv(Layout(tmp_path / "out", survey.id).data_file("responses.csv"))
    assert [r["submitted_at"] for r in accepted] == ["2024-06-12T08:01:00.123456789+07:00",
                                                      "2024-06-12T08:02:00+07:00"]


def test_a_file_without_question_columns_is_an_error(tmp_path, survey):
    path = tmp_path / "other.csv"
    path.write_text(HEADER.replace("q1,q2,q3", "x1,x2,x3") + "\n" + line(1) + "\n", encoding="utf-8")
    with pytest.raises(HailongError, match=r"other.csv row 1: none of the survey's question columns"
                       r" is in the header; it needs q1, q2, q3 but has submitted_at, .*x1, x2, x3"):
        score(survey, tmp_path / "out", responses=path)


def test_missing_question_columns_are_named_in_the_summary(tmp_path, survey):
    path = tmp_path / "part.csv"
    head = HEADER.replace(",q2,", ",").replace(",kenh,", ",")
    path.write_text(head + "\n" + line(1).replace(",5,4,4,,,", ",5,4,,") + "\n", encoding="utf-8")
    summary = score(survey, tmp_path / "out", responses=path)
    assert "read 1 rows: 1 accepted" in summary
    assert "\n  part.csv has no column for question(s) q2, kenh: their answers count as empty" in summary
    full = tmp_path / "full.csv"
    full.write_text(HEADER + "\n" + line(1) + "\n", encoding="utf-8")
    assert "no column for" not in score(survey, tmp_path / "out", responses=full)


def test_odd_files_are_read_row_by_row(tmp_path, survey):
    """Lone-CR line ends, a byte that is not UTF-8, two exports joined, a trailing empty cell:
    each row accepted or quarantined with its reason, nothing lost, no traceback."""
    first = "\ufeff" + HEADER + "\r" + line(1, "a1") + "\r" + line(2, "a2") + ",\r"
    second = "\ufeff" + HEADER + "\r" + line(3, "a3", unit="X02") + "\r"
    data = (first + second).encode("utf-8").replace(b"a2", b"a\xff2")
    path = tmp_path / "joined.csv"
    path.write_bytes(data)
    summary = score(survey, tmp_path / "out", responses=path)
    assert summary.startswith("read 4 rows: 2 accepted, 2 quarantined, 0 duplicates")
    out = Layout(tmp_path / "out", survey.id).data
    assert [r["response_id"] for r in read_csv(out / "responses.csv")] == ["a1", "a3"]
    quarantine = read_csv(out / "quarantine.csv")
    assert [r["reason"].split(" (")[0] for r in quarantine] == ["not UTF-8 text", "repeated header"]
    assert [r["reason"].rsplit(" ", 1)[-1] for r in quarantine] == ["3)", "4)"]
    assert [r["reason_code"] for r in quarantine] == ["malformed", "malformed"]
    assert quarantine[0]["response_id"] == "a\ufffd2"


def test_cli_bad_header_is_one_line(tmp_path, survey_dir):
    path = tmp_path / "bad.csv"
    path.write_text('submitted_at,"unit_code"x,q1\n' + line(1) + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "hailong", "score", str(survey_dir), "--out",
                           str(tmp_path / "out"), "--responses", str(path)],
                          capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    assert "bad.csv row 1: the header cannot be read" in done.stderr


def test_score_again_gives_the_same_files(tmp_path, survey, raw):
    score(survey, tmp_path / "out")
    data = Layout(tmp_path / "out", survey.id).data
    first = {p.name: p.read_bytes() for p in data.glob("*.csv")}
    score(survey, tmp_path / "out")
    assert {p.name: p.read_bytes() for p in data.glob("*.csv")} == first


def test_responses_option_reads_another_file(tmp_path, survey):
    other = tmp_path / "export.csv"
    other.write_text(HEADER + "\n" + line(1, "z1") + "\n", encoding="utf-8")
    summary = score(survey, tmp_path / "out", responses=other)
    assert "read 1 rows: 1 accepted" in summary


def test_missing_raw_csv_says_to_pull_first(tmp_path, survey):
    with pytest.raises(HailongError, match="run `hailong pull .*` first"):
        score(survey, tmp_path / "out")


def test_missing_responses_file_is_an_error(tmp_path, survey):
    with pytest.raises(HailongError, match="file not found"):
        score(survey, tmp_path / "out", responses=tmp_path / "nope.csv")


def test_participation_stage_missing_is_skipped(tmp_path, survey, raw, monkeypatch):
    monkeypatch.setitem(sys.modules, "hailong.score.participation", None)  # import fails
    assert "12 accepted" in score(survey, tmp_path / "out")


def test_cli_score_and_its_error(tmp_path, survey_dir, survey, raw):
    run = [sys.executable, "-m", "hailong", "score", str(survey_dir), "--out", str(tmp_path / "out")]
    done = subprocess.run(run, capture_output=True, text=True, cwd=Path(__file__).parent.parent)
    assert done.returncode == 0, done.stderr
    assert "12 accepted" in done.stdout
    done = subprocess.run([*run[:-1], str(tmp_path / "empty")], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "hailong pull" in done.stderr
    assert "Traceback" not in done.stderr


# -- conservation on any input ----------------------------------------------------------------
cells = st.sampled_from(["", "5", "4", "1", "0", "7", "5.0", "năm", "X01", " x02 ", "X09", "a",
                         "b", "d1", "k", "individual", "citizen", "thu-nghiem", "khac", '"',
                         "2024-06-13T09:00:00+07:00", "12/06/2024 10:00:00", "2024-07-01",
                         "Người quen", "x,y", "line\nbreak"])
rows = st.lists(st.lists(cells, min_size=13, max_size=17), max_size=30)


@pytest.fixture(scope="module")
def property_survey(tmp_path_factory):
    return load_survey(write_survey(tmp_path_factory.mktemp("p") / "s", SMALL_TOML))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows, st.booleans())
def test_conservation_on_any_rows(tmp_path_factory, property_survey, monkeypatch, data, quote):
    monkeypatch.setitem(sys.modules, "hailong.score.participation", None)
    folder = tmp_path_factory.mktemp("c")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    buf.write(HEADER + "\n")
    for cells_ in data:
        if quote:
            writer.writerow(cells_)  # properly quoted, varying cell counts
        else:
            buf.write(",".join(cells_) + "\n")  # raw: stray quotes, commas, line breaks
    path = folder / "raw.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    summary = score(property_survey, folder / "out", responses=path)
    out = Layout(folder / "out", property_survey.id).data
    counts = [len(read_csv(out / f)) for f in ("responses.csv", "quarantine.csv", "duplicates.csv")]
    read = int(summary.split()[1])
    assert sum(counts) == read
    if quote:
        assert read == len(data)
    assert len(read_csv(out / "ranking.csv")) == 3


def test_no_rows_or_no_valid_rows_still_rank_every_unit(tmp_path, survey):
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER + "\n", encoding="utf-8")
    assert score(survey, tmp_path / "out", responses=empty).startswith(
        "read 0 rows: 0 accepted, 0 quarantined, 0 duplicates; 3 units, 0 ranked")
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\n" + line(day=1) + "\n", encoding="utf-8")
    assert "0 accepted, 1 quarantined" in score(survey, tmp_path / "out", responses=bad)
    ranking = read_csv(Layout(tmp_path / "out", survey.id).data_file("ranking.csv"))
    assert [(r["unit_code"], r["n"], r["index"], r["ranked"]) for r in ranking] == [
        ("X01", "0", "", "false"), ("X02", "0", "", "false"), ("X03", "0", "", "false")]
