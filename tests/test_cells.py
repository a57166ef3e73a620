"""Files that open right in Excel (contract v2, section 4): a BOM on every CSV, no cell that
runs as a formula, and the way back for hailong's own readers."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hailong import cells
from hailong.layout import Layout
from hailong.score.queries import csv_bytes

TRIGGER_START = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "x", " ", "1", "ả"])
TEXT = st.builds(lambda a, b: a + b, TRIGGER_START, st.text(max_size=12))


@given(TEXT)
def test_safe_text_reads_back_as_sent(text):
    assert cells.restore(cells.safe(text)) == text


@given(TEXT)
def test_a_safe_cell_never_starts_a_formula(text):
    written = cells.safe(text)
    assert written[:1] not in "=+-@\t\r" or cells._NUMBER.match(written)


@pytest.mark.parametrize("number", ["-3.2", "-3", "+5", "-0.25", "-1e3", "12", "-.5"])
def test_numbers_stay_numbers(number):
    """hailong's own negative figures (a change of -3.2) are numbers in Excel, not formulas."""
    assert cells.safe(number) == number


@pytest.mark.parametrize("text, written", [
    ("=HYPERLINK(\"http://x\",\"bấm\")", "'=HYPERLINK(\"http://x\",\"bấm\")"),
    ("+84 912 345 678", "'+84 912 345 678"), ("-1+2", "'-1+2"), ("-", "'-"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("'đã có", "''đã có"),
    ("Tốt", "Tốt"), ("", ""), (" =1", " =1"),
])
def test_formula_like_text_gets_an_apostrophe(text, written):
    assert cells.safe(text) == written


@settings(deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=8))
def test_both_csv_writers_read_back_as_the_frame(rows):
    frame = pd.DataFrame({"a": pd.Series([r[0] for r in rows], dtype="str"),
                          "=b": pd.Series([r[1] for r in rows], dtype="str")})
    for data in (csv_bytes(frame), cells.csv_text(frame).encode("utf-8")):
        assert data.startswith(cells.BOM_BYTES)
        back = cells.read_csv(io.BytesIO(data))
        assert back.columns.tolist() == ["a", "=b"]
        assert back.to_numpy().tolist() == frame.to_numpy().tolist()


def test_numeric_columns_are_left_alone():
    text = cells.csv_text(pd.DataFrame({"change": [-3.2, 1.5], "note": ["-giảm", "tăng"]}))
    assert text == "\ufeffchange,note\n-3.2,'-giảm\n1.5,tăng\n"


@pytest.mark.parametrize("text, width, lines", [
    ("Hạng", 7, 1), ("KTC 95% – cận dưới", 11, 2), ("Công khai, minh bạch thủ tục", 13, 3),
    ("một\nhai", 30, 2), ("x" * 30, 5, 8),
])
def test_wrapped_lines(text, width, lines):
    assert cells.wrapped_lines(text, width, bold=True) == lines


# -- end to end: score and publish a survey whose data holds formula-like text ---------------
UNITS = """\
code,name,parent,quota_individual,quota_organization
X01,"=HYPERLINK(""http://lừa.example"",""Bấm vào đây"")",Nghi Xuân,10,5
X02,Xã Xuân An,@Huyện,10,5
"""
LONG_BLOCK = SMALL_TOML.replace('title = "Tiếp cận dịch vụ"',
                                'title = "Công khai, minh bạch thủ tục hành chính và tiếp cận dịch vụ"')


def _rows():
    rows = []
    for code in ("X01", "X02"):
        for i in range(11):
            rows.append({
                "submitted_at": f"2024-06-12T08:{i:02d}:00+07:00", "response_id": f"r-{code}-{i}",
                "survey_id": "", "unit_code": code, "respondent_type": "individual",
                "respondent_key": "", "device_id": f"d-{code}-{i}", "ticket": "",
                "started_at": "", "q1": "5" if i % 3 else "3", "q2": "4", "q3": "4",
                "kenh": "Khác", "gop_y": "", "comment": ["=1+1", "-3", "'đúng", "+chú ý", "Tốt"][i % 5],
            })
    return rows


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    from results_fixture import write_responses

    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    tmp = tmp_path_factory.mktemp("cells")
    survey = load_survey(write_survey(tmp / "s", toml=LONG_BLOCK, units=UNITS))
    out = tmp / "out"
    responses = write_responses(tmp / "answers.csv", _rows())
    score(survey, out, responses=responses)
    publish(survey, out)
    return survey, out


def test_every_data_csv_starts_with_a_bom(published):
    survey, out = published
    layout = Layout(out, survey.id)
    files = [layout.data_file(n) for n in ("responses.csv", "quarantine.csv", "duplicates.csv",
                                            "ranking.csv", "participation.csv")]
    files.append(layout.results / "ranking.csv")
    for path in files:
        assert path.read_bytes().startswith(cells.BOM_BYTES), path


def test_citizen_text_is_neutralised_and_read_back(published):
    survey, out = published
    path = Layout(out, survey.id).data_file("responses.csv")
    with open(path, newline="", encoding="utf-8-sig") as fh:
        written = [r["comment"] for r in csv.DictReader(fh)]
    assert written[:5] == ["'=1+1", "-3", "''đúng", "'+chú ý", "Tốt"]
    assert cells.read_csv(path)["comment"].tolist()[:5] == ["=1+1", "-3", "'đúng", "+chú ý", "Tốt"]


def test_published_ranking_keeps_a_formula_like_name_as_text(published):
    survey, out = published
    results = Layout(out, survey.id).results
    name = '=HYPERLINK("http://lừa.example","Bấm vào đây")'
    with open(results / "ranking.csv", newline="", encoding="utf-8-sig") as fh:
        names = {r["unit_code"]: r["unit_name"] for r in csv.DictReader(fh)}
    assert names["X01"] == "'" + name
    # the results pages read ranking.csv back as the text units.csv gave
    assert name.replace('"', "&#34;") in (results / "X01" / "index.html").read_text("utf-8") or \
        name.replace('"', "&quot;") in (results / "X01" / "index.html").read_text("utf-8")
    ws = load_workbook(results / "ranking.xlsx").active
    cell = next(c for row in ws.iter_rows() for c in row if c.value == name)
    assert cell.data_type == "s"  # a text cell, never a formula
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_ranking_xlsx_font_and_row_heights(published):
    survey, out = published
    ws = load_workbook(Layout(out, survey.id).results / "ranking.xlsx").active
    written = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert {c.font.name for c in written} == {cells.XLSX_FONT}
    row = next(r for r in range(1, 12) if ws.cell(row=r, column=1).value == "Hạng")  # the header
    header = [c for c in ws[row] if c.value]
    # the long block title wraps to four lines in its 13-wide column: the row holds them
    assert ws.row_dimensions[row].height >= 4 * 11 * 1.2
    for c in header:
        width = ws.column_dimensions[c.column_letter].width
        need = cells.wrapped_lines(c.value, width, 11, True)
        assert ws.row_dimensions[row].height >= need * 11 * 1.2, c.value
    # the merged notes under the title: one line in the sheet's whole width, and more when long
    assert ws.row_dimensions[3].height >= 11 * 1.2
    assert cells.wrapped_lines(ws["A3"].value, 40) * 11 * 1.2 > ws.row_dimensions[3].height


@pytest.mark.slow
def test_libreoffice_reads_the_xlsx_as_written(published, tmp_path):
    """LibreOffice (the real one, headless) converts ranking.xlsx to CSV: every cell reads as
    openpyxl wrote it, and the formula-like unit name is text, not a link."""
    survey, out = published
    xlsx = Layout(out, survey.id).results / "ranking.xlsx"
    profile = tmp_path / "lo-profile"
    command = ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir",
               str(tmp_path), str(xlsx)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, env={**os.environ, "HOME": str(tmp_path)})
    try:
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    converted = (tmp_path / "ranking.csv").read_text("utf-8-sig")
    rows = list(csv.reader(io.StringIO(converted)))
    ws = load_workbook(xlsx).active
    for r, row in enumerate(rows[4:], 5):
        for col, text in enumerate(row, 1):
            cell = ws.cell(row=r, column=col)
            value = cell.value
            two = cell.number_format == "0.00" and isinstance(value, int | float)
            expected = "" if value is None else (f"{value:.2f}" if two else str(value))
            assert text == expected, (r, col)
    assert any(row[2] == '=HYPERLINK("http://lừa.example","Bấm vào đây")' for row in rows)
