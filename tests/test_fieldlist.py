"""The interviewers' list that `hailong sample` writes (hailong.field.fieldlist): sample.xlsx
and sample.pdf, joined with transactions.csv, grouped by unit, in Vietnamese, never published."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from openpyxl import load_workbook
from pypdf import PdfReader

from hailong.field import fieldlist
from hailong.field import sample as sm
from hailong.survey.load import load_survey

SAMPLING = '\n[sampling]\nprovince = "Hà Tĩnh"\nreserve_ratio = 0.5\nstart = "2020-01-02"\nend = "2020-08-31"\n'
UNITS = "code,name,parent,quota_individual,quota_organization\nX01,Xã Một,Huyện A,2,1\nX02,Xã Hai,Huyện A,1,1\n"


def _rows():
    people = [
        ("T1", "X01", "individual", "Nguyễn Văn Ánh", "Thôn 1, xã Một", "Hộ tịch", "03/02/2020"),
        ("T2", "X01", "individual", "Trần Thị Bích", "Thôn 2, xã Một", "Đất đai - Môi trường", "2020-02-04"),
        ("T3", "X01", "individual", "=HYPERLINK(\"http://x\")", "Thôn 3", "Hộ tịch", "5/2/2020"),
        ("T4", "X01", "individual", "Lê Văn Dũng", "Thôn 4", "Hộ tịch", "2020-02-06"),
        ("T5", "X01", "organization", "Hợp tác xã Đồng Tâm", "Thôn 5", "Hộ tịch", "2020-02-07"),
        ("T6", "X01", "organization", "Công ty Hải Đăng", "Thôn 6", "Hộ tịch", "2020-02-08"),
        ("U1", "X02", "individual", "Phan Thị Hà", "Xóm 1, xã Hai", "Hộ tịch", "2020-03-01"),
        ("U2", "X02", "organization", "Doanh nghiệp Tiên Điền", "Xóm 2", "Hộ tịch", "2020-03-02"),
    ]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(sm.COLUMNS)
    for rid, unit, rtype, name, address, field, date in people:
        w.writerow([rid, unit, rtype, name, address, field, "true", "direct", "Hà Tĩnh", date])
    return buf.getvalue()


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fieldlist")
    survey = load_survey(write_survey(tmp / "s", toml=SMALL_TOML + SAMPLING, units=UNITS,
                                      transactions_csv=_rows()))
    out = tmp / "out"
    summary = sm.draw_sample(survey, out, seed=3)
    return survey, out, summary


def _sheet_rows(path):
    ws = load_workbook(path).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_the_list_joins_sample_and_reserve_with_transactions(drawn):
    survey, out, summary = drawn
    data = out / survey.id / "data"
    assert "sample.xlsx" in summary and "sample.pdf" in summary
    sample = pd.read_csv(data / "sample.csv", dtype=str)
    reserve = pd.read_csv(data / "reserve.csv", dtype=str)
    rows = _sheet_rows(data / "sample.xlsx")
    assert rows[0][0].startswith("DANH SÁCH PHỎNG VẤN")
    # a block per unit in units.csv order: its title, the headers, then its people
    titles = [i for i, r in enumerate(rows) if r[0] in ("Xã Một – Huyện A", "Xã Hai – Huyện A")]
    assert [rows[i][0] for i in titles] == ["Xã Một – Huyện A", "Xã Hai – Huyện A"]
    assert rows[titles[0] + 1] == fieldlist.HEADERS
    x1 = [r for r in rows[titles[0] + 2:titles[1]] if r[0] is not None]
    names = {"T1": "Nguyễn Văn Ánh", "T2": "Trần Thị Bích", "T3": "=HYPERLINK(\"http://x\")",
             "T4": "Lê Văn Dũng", "T5": "Hợp tác xã Đồng Tâm", "T6": "Công ty Hải Đăng"}

    def expected(frame, list_name):
        part = frame[frame.unit_code == "X01"].copy()
        part["t"] = part.respondent_type.map({"individual": 0, "organization": 1})
        part["o"] = part.order.astype(int)
        return [(names[r.id], list_name) for r in part.sort_values(["t", "o"]).itertuples()]

    assert [(r[1], r[6]) for r in x1] == expected(sample, "Chính thức") + expected(reserve, "Dự phòng")
    assert [r[0] for r in x1] == list(range(1, len(x1) + 1))  # STT counts down the unit's list
    assert all(r[7:] == [None, None, None] for r in x1)  # outcome columns left for the interviewer
    by_name = {r[1]: r for r in x1}
    if "Nguyễn Văn Ánh" in by_name:  # drawn or in reserve: every eligible X01 person is listed
        assert by_name["Nguyễn Văn Ánh"][2:6] == ["Thôn 1, xã Một", "Hộ tịch", "03/02/2020", "Cá nhân"]
    assert len(x1) == len(sample[sample.unit_code == "X01"]) + len(reserve[reserve.unit_code == "X01"])


def test_every_date_is_day_first_and_no_cell_is_a_formula(drawn):
    survey, out, _ = drawn
    ws = load_workbook(out / survey.id / "data" / "sample.xlsx").active
    cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells)
    dates = [c.value for c in cells if c.column == 5 and c.row > 5 and c.value != "Ngày giải quyết"]
    assert dates and all(len(d) == 10 and d[2] == "/" and d[5] == "/" for d in dates)


def test_the_sheet_prints_a_unit_per_page_in_a_vietnamese_font(drawn):
    survey, out, _ = drawn
    ws = load_workbook(out / survey.id / "data" / "sample.xlsx").active
    assert ws.page_setup.orientation == "landscape"
    assert len(ws.row_breaks.brk) == len(survey.units) - 1
    header = next(r for r in ws.iter_rows() if r[0].value == "STT")
    assert all(c.font.name == fieldlist.FONT and c.alignment.wrap_text for c in header)
    assert ws.row_dimensions[header[0].row].height >= 40


def test_the_pdf_has_each_unit_on_its_own_pages(drawn):
    survey, out, _ = drawn
    reader = PdfReader(str(out / survey.id / "data" / "sample.pdf"))
    pages = [" ".join(p.extract_text().split()) for p in reader.pages]  # cells wrap lines
    assert len(pages) == 2
    assert "Xã Một" in pages[0] and "Xã Hai" in pages[1]
    assert "Phan Thị Hà" in pages[1] and "Phan Thị Hà" not in pages[0]
    assert "Dự phòng" in pages[0] and "Chính thức" in pages[0] and "Kết quả phỏng vấn" in pages[0]


def test_the_list_never_reaches_the_site(drawn):
    survey, out, _ = drawn
    data = out / survey.id / "data"
    assert {p.name for p in data.iterdir()} >= {"sample.xlsx", "sample.pdf"}
    assert not (out / "site").exists()


def test_an_empty_sample_still_gets_a_list_that_says_so(tmp_path):
    units = "code,name\nX01,Xã Một\n"  # no quota: nothing is drawn
    survey = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML + SAMPLING, units=units,
                                      transactions_csv=_rows().split("\n")[0] + "\n"))
    sm.draw_sample(survey, tmp_path / "out", seed=1)
    data = tmp_path / "out" / survey.id / "data"
    pages = PdfReader(str(data / "sample.pdf")).pages
    assert len(pages) == 1 and "Không có ai được chọn vào mẫu" in " ".join(pages[0].extract_text().split())
    assert _sheet_rows(data / "sample.xlsx")[0][0].startswith("DANH SÁCH PHỎNG VẤN")


def test_many_units_are_printed_in_batches_and_joined(tmp_path, monkeypatch):
    monkeypatch.setattr(fieldlist, "PDF_BATCH", 1)  # one unit per Chromium call
    survey = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML + SAMPLING, units=UNITS,
                                      transactions_csv=_rows()))
    sm.draw_sample(survey, tmp_path / "out", seed=3)
    pages = PdfReader(str(tmp_path / "out" / survey.id / "data" / "sample.pdf")).pages
    assert len(pages) == 2 and "Xã Hai" in pages[1].extract_text()
