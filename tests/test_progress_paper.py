"""The progress report's v3 parts: answers by channel, the paper forms waiting for a second
keying or a supervisor's decision (by unit), and a sample survey's completion by unit and type."""

from __future__ import annotations

import datetime as dt

from conftest import write_survey
from test_keying import row, run
from test_sampled import KEY, TOML, UNITS, transactions

from hailong.field import progress as pg
from hailong.field.sample import draw_sample, replace_member
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey
from hailong.survey.tokens import sign

DAY = dt.date(2024, 6, 12)


def test_channels_and_the_forms_waiting_for_keying(tmp_path):
    run(tmp_path, [row(0, "k1", form="AAAAA-BBBB-CCCCC", clerk="an", entry="1"),
                   row(1, "k2", form="aaaaabbbbccccc", clerk="binh", entry="2"),
                   row(2, "w1", form="DDDDD-EEEE-FFFFF", clerk="an", entry="1"),
                   row(3, "m1", form="GGGGG-HHHH-JJJJJ", clerk="an", entry="1", q1="5"),
                   row(4, "m2", form="GGGGG-HHHH-JJJJJ", clerk="binh", entry="2", q1="4"),
                   row(5, "h1", channel="assisted", clerk="ccb"),
                   row(6, "o1", channel="", unit="X02")])
    survey = load_survey(tmp_path / "s")
    text = pg.progress_report(survey, tmp_path / "out", day=DAY, refresh=False)
    assert "Theo kênh (cộng dồn): trực tuyến 1, phiếu giấy 1, được hỗ trợ 1" in text
    assert "PHIẾU GIẤY CHỜ NHẬP LẦN 2 HOẶC CHỜ QUYẾT ĐỊNH (2):" in text
    line = next(x for x in text.splitlines() if x.startswith("  Xã Tiên Điền:"))
    assert "chờ nhập lần 2: DDDDD-EEEE-FFFFF" in line
    assert "chờ người giám sát nhập lần 3: GGGGG-HHHH-JJJJJ" in line
    csv_text = pg.progress_report(survey, tmp_path / "out", day=DAY, fmt="csv", refresh=False)
    header = csv_text[1:].splitlines()[0].split(",")
    x01 = next(r for r in csv_text.splitlines() if r.startswith("X01,")).split(",")
    assert [x01[header.index(c)] for c in ("online", "paper", "assisted")] == ["0", "1", "1"]
    pg.progress_report(survey, tmp_path / "out", day=DAY, fmt="html", refresh=False)
    page = (Layout(tmp_path / "out", survey.id).staff / "index.html").read_text("utf-8")
    assert "chờ nhập lần 2: DDDDD-EEEE-FFFFF" in page and "phiếu giấy 1" in page


def test_a_sample_survey_reports_each_unit_and_type(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    survey = load_survey(write_survey(tmp_path / "s", TOML, UNITS,
                                      transactions_csv=transactions()))
    out = tmp_path / "out"
    draw_sample(survey, out, seed=42)
    layout = Layout(out, survey.id)
    first = layout.data_file("sample.csv").read_text("utf-8-sig").splitlines()[1].split(",")[0]
    replace_member(survey, out, first, "unreachable")
    layout.raw_csv.parent.mkdir(parents=True, exist_ok=True)
    layout.raw_csv.write_text(
        "submitted_at,response_id,unit_code,respondent_key,q1,q3\n"
        f"2024-06-12T08:00:00+07:00,r1,X02,{sign(survey.id, 'X02-1', KEY.encode())},5,4\n",
        encoding="utf-8")
    score(survey, out)
    text = pg.progress_report(survey, out, day=DAY, refresh=False)
    assert "MẪU ĐIỀU TRA" in text
    assert "Xã Một, Cá nhân: 0/2 (0,00%), đã thay 1" in text
    assert any(line.startswith("  Xã Hai, Cá nhân: ") for line in text.splitlines())
