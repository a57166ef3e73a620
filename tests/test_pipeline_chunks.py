"""`score` in chunks: the files do not depend on the chunk size; no temporary file is left."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.ingest import records
from hailong.layout import Layout
from hailong.score import pipeline
from hailong.score.pipeline import WORK_PREFIX, score
from hailong.survey.load import load_survey

HEADER = ("submitted_at,response_id,survey_id,unit_code,respondent_type,respondent_key,device_id,"
          "ticket,started_at,q1,q2,q3,kenh,gop_y,comment")


def line(minute=0, rid="r", unit="X01", q1="5", q2="4", q3="4", device="", key="", day=12,
         kenh="", comment="", ticket="") -> str:
    return (f"2024-06-{day}T08:{minute:02d}:00+07:00,{rid},,{unit},,{key},{device},{ticket},,"
            f"{q1},{q2},{q3},{kenh},,{comment}")


# one row of each kind a file holds: good, replays and repeats, contested tickets (a paper
# form's ticket on an open survey: not checked, but contested all the same), quarantined,
# malformed
_ROW = st.one_of(
    st.builds(lambda m, r, u, a, d, k, t: line(m, f"r{r}", u, q1=a, device=d, kenh=k, ticket=t),
              st.integers(0, 59), st.integers(0, 5), st.sampled_from(["X01", "X02", " x03"]),
              st.sampled_from(["1", "4", "5", "5.0", "0", ""]),
              st.sampled_from(["", "d1", "d2"]), st.sampled_from(["", "khác", "Người quen"]),
              st.sampled_from(["", "", "", "T1", "t-1", "T2"])),
    st.builds(lambda m, r: line(m, f"q{r}", "X01", q1="sáu"), st.integers(0, 59),
              st.integers(0, 3)),                                   # not a whole number
    st.builds(lambda m: line(m, "w", "X01", day=20), st.integers(0, 59)),  # outside the window
    st.builds(lambda m: line(m, "u", "Z09"), st.integers(0, 59)),   # unknown unit
    st.builds(lambda m: line(m, "x", "X02") + ",extra", st.integers(0, 59)),  # malformed
    st.just('2024-06-12T09:00:00+07:00,"broken,,X01'),              # quote never closes
    st.just(line(5, "c", "X02", comment='"Tốt, cảm ơn"')),           # quoted comma
)


def _data(out: Path, survey) -> dict[str, bytes]:
    data = Layout(out, survey.id).data
    assert not [p.name for p in data.iterdir() if p.name.startswith(".")]
    return {p.name: p.read_bytes() for p in sorted(data.glob("*.csv"))}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(_ROW, max_size=14), bom=st.booleans(), crlf=st.booleans(),
       small_blocks=st.booleans())
def test_files_are_the_same_whatever_the_chunk_size(tmp_path_factory, monkeypatch, rows, bom,
                                                    crlf, small_blocks):
    folder = tmp_path_factory.mktemp("chunks")
    survey = load_survey(write_survey(folder / "thu-nghiem"))
    raw = folder / "raw.csv"
    end = "\r\n" if crlf else "\n"
    raw.write_bytes((("\ufeff" if bom else "") + end.join([HEADER, *rows]) + end).encode())
    if small_blocks:  # pyarrow meets a bad record after it has given chunks: read again
        monkeypatch.setattr(records, "CHUNK", 256)
    seen = {}
    for size in (1, 2, 7, 10**9):
        out = folder / f"out{size}"
        summary = score(survey, out, responses=raw, chunk_rows=size)
        seen[size] = (summary.replace(str(out), "OUT"), _data(out, survey))
    assert seen[1] == seen[2] == seen[7] == seen[10**9]
    assert f"read {len(rows)} rows" in seen[1][0]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_a_replay_of_a_row_in_an_earlier_chunk_is_dropped(tmp_path, survey):
    raw = tmp_path / "raw.csv"
    # rows 2..5; the replay of a1 (row 5) is three chunks after it, and a2 (row 4) is an
    # earlier-timed replay of b (row 3): the earlier one is kept, whatever chunk it is in
    raw.write_text("\n".join([HEADER, line(1, "a1", device="d1"), line(9, "a2", device="d2"),
                              line(3, "a2", device="d3"), line(20, "a1", device="d4")]) + "\n",
                   encoding="utf-8")
    summary = score(survey, tmp_path / "out", responses=raw, chunk_rows=1)
    assert summary.startswith("read 4 rows: 2 accepted, 0 quarantined, 2 duplicates")
    data = Layout(tmp_path / "out", survey.id).data
    dropped = read_csv(data / "duplicates.csv")
    assert [(r["device_id"], r["rule"], r["kept_response_id"]) for r in dropped] == [
        ("d2", "replay", "a2"), ("d4", "replay", "a1")]
    assert [r["device_id"] for r in read_csv(data / "responses.csv")] == ["d1", "d3"]


def test_nothing_is_left_in_the_temporary_folder(tmp_path, survey, monkeypatch):
    raw = tmp_path / "raw.csv"
    raw.write_text("\n".join([HEADER, *(line(i, f"r{i}", device=f"d{i}") for i in range(9)),
                              line(30, "r1")]) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    data = Layout(out, survey.id).data
    score(survey, out, responses=raw, chunk_rows=2)
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    assert sorted(before) == sorted(["responses.csv", "quarantine.csv", "duplicates.csv",
                                     "ranking.csv", "questions.csv", "block_answers.csv",
                                     "respondent_types.csv", "intervals.csv", "signals.csv",
                                     "participation.csv", "run.json"])

    def broken(*args):  # a failure in the second pass, after every chunk was spilled
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "score_arrays", broken)
    raw.write_text("\n".join([HEADER, line(1, "z", unit="X02")]) + "\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        score(survey, out, responses=raw, chunk_rows=2)
    after = {p.name: p.read_bytes() for p in data.iterdir()}
    # nothing half-written, no spilled chunk, no temporary folder; run.json went first of all:
    # a run that started and did not finish vouches for no set (publish asks for a new score)
    del before["run.json"]
    assert after == before
    assert not list(data.glob(WORK_PREFIX + "*"))


@pytest.mark.parametrize("value", ["abc", "0", "-5", "1e6"])
def test_a_bad_chunk_size_in_the_environment_is_one_line(tmp_path, monkeypatch, capsys, value):
    from hailong.cli import main

    folder = write_survey(tmp_path / "s")
    raw = tmp_path / "raw.csv"
    raw.write_text(HEADER + "\n" + line() + "\n", encoding="utf-8")
    monkeypatch.setenv(pipeline.CHUNK_ENV, value)
    with pytest.raises(SystemExit) as stop:
        main(["score", str(folder), "--responses", str(raw), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert stop.value.code == 1 and "Traceback" not in err
    assert err.startswith(f"hailong: error: HAILONG_SCORE_CHUNK={value}: give the number")
    assert len(err.strip().splitlines()) == 1, err
