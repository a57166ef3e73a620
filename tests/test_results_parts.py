"""The pieces behind the results pages: change significance, charts, slugs, ranking reading."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.publish import charts
from hailong.publish.history import Result, change
from hailong.publish.results import read_ranking, slug

score = st.floats(min_value=0, max_value=100, allow_nan=False)


@st.composite
def results(draw):
    a, b, c = sorted(draw(st.tuples(*[st.integers(0, 10_000)] * 3)))
    return Result(index=b / 100, low=a / 100, high=c / 100, rank=1, band="Tốt", n=20)


@given(results(), results())
def test_change_is_antisymmetric_and_follows_step_9(x, y):
    forward, backward = change(x, y), change(y, x)
    assert forward.delta == pytest.approx(-backward.delta, abs=0.011)
    assert forward.significant == backward.significant
    # step 9 read plainly, with a hair of tolerance: random figures are rarely at the edge
    se = ((x.high - x.low) / 3.92, (y.high - y.low) / 3.92)
    gap, edge = abs(x.index - y.index), 1.96 * (se[0] ** 2 + se[1] ** 2) ** 0.5
    if abs(gap - edge) > 1e-6:
        assert forward.significant is (gap > edge)


def test_overlapping_intervals_can_still_be_a_clear_change():
    # 70–80 and 78–88 overlap; the gap 8 is more than ½√(10² + 10²) = 7.07
    now, before = Result(83.0, 78.0, 88.0, 1, "Tốt", 40), Result(75.0, 70.0, 80.0, 1, "Khá", 40)
    assert change(now, before).significant


def test_change_needs_two_published_results():
    shown = Result(80.0, 75.0, 85.0, 1, "Tốt", 20)
    assert change(shown, None) is None
    assert change(shown, Result(None, None, None, None, "Chưa đủ phiếu", 3)) is None
    assert change(shown, Result(70.0, 66.0, 74.0, 2, "Khá", 20)).text == "+10,00"
    assert change(Result(70.0, 66.0, 76.0, 2, "Khá", 20), shown).text == "−10,00"


@given(st.lists(st.tuples(st.text(max_size=60), score, score, score), max_size=8))
def test_ranking_chart_is_well_formed_and_escaped(rows):
    bars = []
    for label, a, b, c in rows:
        low, index, high = sorted((a, b, c))
        bars.append(charts.Bar(label, index, low, high, "band-1", "Tốt", "<b>", "X"))
    svg = charts.ranking_chart(bars, "T <i>", "D & d")
    doc = BeautifulSoup(svg, "html.parser")
    assert doc.svg["role"] == "img"
    assert len(doc.select("g.bar-row")) == len(bars)
    assert "<b>" not in svg and "<i>" not in svg
    for x in re.findall(r'(?:x|x1|x2|width)="([0-9.]+)%"', svg):
        assert 0 <= float(x) <= 100


def test_bar_positions_follow_the_scale():
    svg = charts.ranking_chart([charts.Bar("A", 50.0, 40.0, 60.0, "band-0", "Tốt")], "t", "d")
    scale = (100 - charts.GUTTER) / 100
    assert f'width="{50 * scale:.2f}%"' in svg
    assert f'x1="{40 * scale:.2f}%" x2="{60 * scale:.2f}%"' in svg


@given(st.text(max_size=40))
def test_slug_is_a_safe_path_segment(name):
    s = slug(name)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s)


def test_slug_of_vietnamese_names():
    assert slug("Nghi Xuân") == "nghi-xuan"
    assert slug("Thị xã Hồng Lĩnh") == "thi-xa-hong-linh"
    assert slug("Đức Thọ") == "duc-tho"


def test_read_ranking_names_the_bad_cell(tmp_path):
    path = tmp_path / "ranking.csv"
    path.write_text("rank,unit_code,unit_name,n,index,ci_low,ci_high,band,ranked\n"
                    "1,A,An,12,8o.5,70,90,Tốt,true\n", encoding="utf-8")
    with pytest.raises(HailongError, match=r"ranking.csv row 2, column 'index'"):
        read_ranking(path)
    path.write_text("rank,unit_code\n1,A\n", encoding="utf-8")
    with pytest.raises(HailongError, match="missing column"):
        read_ranking(path)


@given(st.lists(st.integers(min_value=0, max_value=12), min_size=5, max_size=5))
def test_no_withheld_question_can_be_worked_out_from_its_block(answers):
    import pandas as pd

    from hailong.publish.results import question_cells
    from hailong.survey.load import load_survey

    toml = SMALL_TOML_5
    survey = load_survey(_survey_folder(toml))
    table = pd.DataFrame({
        "unit_code": ["X01"] * 5, "question_id": [f"q{i}" for i in range(1, 6)],
        "answers": answers, "satisfied": [a // 2 for a in answers],
        "index": [100 * (a // 2) / a if a else float("nan") for a in answers],
    })
    cells = question_cells(survey, table)
    for block in ("a", "b"):
        qids = [q.id for q in survey.scale_questions if q.block == block]
        has_value = [q for q in qids if cells[("X01", q)][1] > 0]
        shown = [q for q in has_value if cells[("X01", q)][0] is not None]
        block_shown = max(cells[("X01", q)][1] for q in qids) >= survey.scoring.min_cell
        if block_shown:  # never exactly one unknown part of a published mean
            assert len(has_value) - len(shown) != 1
        for q in qids:
            value, n = cells[("X01", q)]
            assert value is None or n >= survey.scoring.min_cell


SMALL_TOML_5 = """\
id = "nam-cau"
title = "Năm câu"
[window]
start = "2024-06-12"
end = "2024-06-14"
[[blocks]]
id = "a"
title = "A"
[[blocks]]
id = "b"
title = "B"
""" + "".join(f'[[questions]]\nid = "q{i}"\nblock = "{"a" if i <= 3 else "b"}"\ntext = "Câu {i}"\n'
              for i in range(1, 6))

_FOLDERS: dict[str, object] = {}


def _survey_folder(toml: str):
    """One folder for all hypothesis examples (a tmp_path fixture would be shared anyway)."""
    import tempfile
    from pathlib import Path

    from conftest import write_survey

    if toml not in _FOLDERS:
        _FOLDERS[toml] = write_survey(Path(tempfile.mkdtemp(prefix="hailong-parts-")) / "s", toml=toml,
                                      units="code,name\nX01,Xã Một\n")
    return _FOLDERS[toml]
