"""hailong's score writes exactly the data files of the engine it replaced (issue 26).

The engine before DuckDB is frozen under tests/reference_engine/. Each case here prepares one
out folder (survey, sample state, issued tickets, responses file), copies it twice, scores one
copy with hailong and the other with the frozen engine, and compares every data file byte for
byte; run.json is compared minus its id and time (each run has its own).
Cases: the odd file of test_pipeline_score, the keying, tickets and sample cases of their tests,
every shipped survey's demo answers, and hypothesis-generated files with odd cells (quotes,
every line break, BOMs, formula text, damaged records)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_engine.score.pipeline import score as frozen_score

from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("submitted_at,response_id,survey_id,unit_code,respondent_type,respondent_key,device_id,"
          "ticket,started_at,channel,entered_by,entry,q1,q2,q3,kenh,gop_y,comment")
KEY = "0123456789abcdef-engine-reference-key"


def both(survey, base: Path, responses: Path | None, tmp: Path, chunk_rows=None) -> None:
    """Score `base` (an out folder) with hailong and with the frozen engine; assert every data
    file is the same bytes."""
    ours, theirs = tmp / "ours", tmp / "theirs"
    for folder in (ours, theirs):
        shutil.rmtree(folder, ignore_errors=True)
        if base.exists():
            shutil.copytree(base, folder)
    a = score(survey, ours, responses, chunk_rows=chunk_rows)
    b = frozen_score(survey, theirs, responses, chunk_rows=chunk_rows)
    assert a == b.replace(str(theirs), str(ours))
    assert_same_data(Layout(ours, survey.id).data, Layout(theirs, survey.id).data)


def assert_same_data(ours: Path, theirs: Path) -> None:
    names = sorted(p.name for p in ours.iterdir() if p.is_file())
    assert names == sorted(p.name for p in theirs.iterdir() if p.is_file())
    for name in names:
        if name == "run.json":
            mine, frozen = (json.loads((d / name).read_text("utf-8")) for d in (ours, theirs))
            for doc in (mine, frozen):
                del doc["id"], doc["time"]
            assert mine == frozen
        else:
            assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, restval="", lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def line(minute=0, rid="r", unit="X01", q1="5", q2="4", q3="4", device="", key="", rtype="",
         day=12, comment="", channel="", clerk="", entry="", ticket="") -> str:
    return (f"2024-06-{day}T08:{minute:02d}:00+07:00,{rid},,{unit},{rtype},{key},{device},"
            f"{ticket},,{channel},{clerk},{entry},{q1},{q2},{q3},,,{comment}")


@pytest.fixture
def small(tmp_path):
    return load_survey(write_survey(tmp_path / "s", SMALL_TOML))


def test_a_bit_of_everything(tmp_path, small):
    nfd = unicodedata.normalize("NFD", "Rất tốt, cảm ơn")
    lines = [
        "\ufeff" + HEADER,
        *[line(i, f"a{i}", device=f"d{i}") for i in range(10)],
        line(20, "a0", device="d0"),
        line(21, "b1", unit=" x02", q1="5.0", device="p"),
        line(22, "b2", unit="X02", q1="1", q2="2", q3="1", device="p"),
        line(23, "b3", unit="X02", q1="năm"),
        line(24, "b4", unit="X02", day=15),
        line(25, "b5", unit="X02") + ",extra",
        line(26, "b6", unit="X02", comment=f'"{nfd}"'),
        line(27, "b7", unit="X03", comment="=1+1", key="k1"),
        line(28, "b8", unit="X03", comment="@SUM(A1)", key="k1", rtype="Organization"),
        line(29, "b9", unit="X03", q1="0", q2="", q3="0"),
        line(30, "c1", unit="X03", q1="4", channel="assisted", clerk="h1", device="p"),
        line(31, "c2", unit="X03", q1="4", channel="assisted", clerk="h1", device="p"),
        line(32, "c3", unit="X03", q1="2", channel="bogus"),
        line(33, "c4", unit="X03", q1=" 3 ", rtype="robot"),
    ]
    path = tmp_path / "raw.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    both(small, tmp_path / "base", path, tmp_path)
    both(small, tmp_path / "base", path, tmp_path, chunk_rows=3)


def test_odd_files_read_row_by_row(tmp_path, small):
    first = "\ufeff" + HEADER + "\r" + line(1, "a1") + "\r" + line(2, "a2") + ",\r"
    second = "\ufeff" + HEADER + "\r" + line(3, "a3", unit="X02") + "\r\n\r\n" + line(4, "a4")
    data = (first + second).encode("utf-8").replace(b"a2", b"a\xff2")
    path = tmp_path / "joined.csv"
    path.write_bytes(data + b'\n"broken,' + line(5, "a5").encode())
    both(small, tmp_path / "base", path, tmp_path)


def test_paper_keyings(tmp_path, small):
    rows = [line(0, "p1", channel="paper", clerk="c1", entry="1", ticket="F1"),
            line(1, "p2", channel="paper", clerk="c2", entry="2", ticket="F1"),
            line(2, "p3", channel="paper", clerk="c1", entry="1", ticket="F2"),
            line(3, "p4", channel="paper", clerk="c2", entry="2", ticket="F2", q1="1"),
            line(4, "p5", channel="paper", clerk="c1", entry="1", ticket="F3"),
            line(5, "p6", channel="paper", clerk="s", entry="3", ticket="F2", q1="1"),
            line(6, "p2", channel="paper", clerk="c2", entry="2", ticket="F1")]
    path = tmp_path / "raw.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    both(small, tmp_path / "base", path, tmp_path)
    both(small, tmp_path / "base", path, tmp_path, chunk_rows=2)


SHIPPED = sorted(p.parent.name for p in (ROOT / "surveys").glob("*/survey.toml")
                 if p.parent.name != "sipas-toan-quoc-2026")


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_surveys_demo_answers(tmp_path, monkeypatch, name):
    """The answers `hailong demo` generates for each shipped survey (the national one, 3,300
    units, is the bench's), with its sample drawn and its tickets issued as the demo does."""
    from hailong.demo import run as demo
    from hailong.demo.generate import generate_responses
    from hailong.survey.sampled import load_state

    monkeypatch.setenv("HAILONG_SIGNING_KEY", demo.DEMO_KEY)
    survey = load_survey(ROOT / "surveys" / name)
    base = tmp_path / "base"
    members = None
    if survey.access == "sample":
        demo._draw_sample(survey, base, 7)
        members = [(m.id, m.unit_code, m.respondent_type)
                   for m in load_state(Layout(base, survey.id)).active()]
    rows = generate_responses(survey, seed=7, members=members)
    if survey.access == "tickets":
        demo._issue_tickets(survey, base, rows)
    path = write_rows(tmp_path / "raw.csv", survey.response_columns, rows)
    both(survey, base, path, tmp_path)


TICKETS_TOML = SMALL_TOML.replace('id = "thu-nghiem"', 'id = "thu-nghiem"\naccess = "tickets"')


def test_tickets(tmp_path, monkeypatch):
    import datetime as dt

    from hailong.survey import tickets

    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    survey = load_survey(write_survey(tmp_path / "s", TICKETS_TOML))
    assert survey.access == "tickets"
    day = dt.date(2024, 6, 12)

    def sign(unit="X01", serial=1):
        return tickets.sign(survey.id, unit, day, serial, KEY.encode())

    t = sign()
    rows = [line(0, "r0", ticket=t), line(5, "r1", ticket=t), line(5, "r1", ticket=t),
            line(6, "r2", ticket="nope"), line(7, "r3", unit="X02", ticket=sign("X02", 2)),
            line(8, "r4", unit="X02", ticket=sign("X02", 3).lower().replace("-", " ")),
            line(9, "r5", unit="X02", ticket=sign("X01", 4))]
    path = tmp_path / "raw.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    both(survey, tmp_path / "base", path, tmp_path)


# hypothesis: odd cells in every column, written quoted or raw (damaged records)
CELLS = st.one_of(
    st.sampled_from(["", " ", "X01", " x02 ", "X03", "x99", "5", "4", "0", "7", "5.0", "-1",
                     "năm", "2024-06-12T08:15:00+07:00", "2024-06-13T09:00:00Z",
                     "12/06/2024 10:00:00", "45455.34", "2024-06-12 08:00", "2024-07-01",
                     "individual", "Organization", "paper", "assisted", "1", "2", "3",
                     "=1+1", "+84912", "-x", "@a", "\tTab", "\rcr", "a\nb", "a\r\nb",
                     "a\u2028b", "a\x85b", '"q"', 'say "hi"', "x,y", "\ufeffbom", "Người quen",
                     "r1", "r2", "d1"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6))
ROWS = st.lists(st.lists(CELLS, min_size=16, max_size=20), max_size=25)


@pytest.fixture(scope="module")
def property_survey(tmp_path_factory):
    return load_survey(write_survey(tmp_path_factory.mktemp("p") / "s", SMALL_TOML))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ROWS, st.sampled_from(["quoted", "raw", "crlf", "cr"]), st.booleans())
def test_odd_files_any_rows(tmp_path_factory, property_survey, data, style, bom):
    folder = tmp_path_factory.mktemp("h")
    buf = io.StringIO()
    end = {"crlf": "\r\n", "cr": "\r"}.get(style, "\n")
    writer = csv.writer(buf, lineterminator=end)
    buf.write(("\ufeff" if bom else "") + HEADER + end)
    for cells in data:
        if style == "raw":
            buf.write(",".join(cells) + end)  # stray quotes, commas, line breaks
        else:
            writer.writerow(cells)
    path = folder / "raw.csv"
    path.write_bytes(buf.getvalue().encode("utf-8", "surrogatepass"))
    both(property_survey, folder / "base", path, folder)


def test_the_reference_is_the_frozen_copy():
    """The reference imports its own engine, not hailong's (or the comparison proves nothing)."""
    import reference_engine.score.pipeline as frozen

    assert "reference_engine" in frozen.ResponseChunks.__module__
    assert "reference_engine" in frozen.validate.__module__
    assert sys.modules["reference_engine"].__file__.startswith(str(ROOT / "tests"))
