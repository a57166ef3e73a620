"""The results pages and downloads, checked against the files `hailong score` wrote."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from openpyxl import load_workbook
from results_fixture import ANSWERS, response_rows, scored_survey, write_responses

from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.publish import pages as publish_mod
from hailong.publish.history import snapshot
from hailong.publish.pages import publish, publish_if_scored
from hailong.score.pipeline import score
from hailong.score.runfile import vouch
from hailong.templating import asset

REPO = Path(__file__).resolve().parent.parent


def num(text: str) -> float:
    return float(text.strip().replace(".", "").replace(",", "."))


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def ranking_csv(out: Path, survey_id: str = "thu-nghiem") -> list[dict]:
    with open(Layout(out, survey_id).data_file("ranking.csv"), encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def published(tmp_path):
    survey, out, rows = scored_survey(tmp_path)
    message = publish(survey, out)
    return survey, out, rows, message


def test_ranking_page_lists_every_unit_in_file_order_with_its_numbers(published):
    survey, out, _, message = published
    assert "5 units (3 ranked" in message
    page = soup(Layout(out, survey.id).results / "index.html")
    expected = ranking_csv(out)
    ranked = [r for r in expected if r["ranked"] == "true"]
    rows = page.select("table.ranking tbody tr")
    assert [tr["id"] for tr in rows] == [f"dv-{r['unit_code']}" for r in ranked]
    for tr, r in zip(rows, ranked, strict=True):
        rank_range = "" if r["rank_low"] == r["rank_high"] else f"(từ {r['rank_low']} đến {r['rank_high']})"
        assert tr.select_one(".c-rank").get_text(" ", strip=True) == f"{r['rank']} {rank_range}".strip()
        assert num(tr.select_one(".c-idx").get_text()) == pytest.approx(float(r["index"]))
        low, high = tr.select_one(".c-ci").get_text(strip=True).split("–")
        assert (num(low), num(high)) == pytest.approx((float(r["ci_low"]), float(r["ci_high"])))
        assert int(tr.select_one(".c-n").get_text(strip=True)) == int(r["n"])
        assert tr.select_one(".c-band").get_text(strip=True) == r["band"]
        assert tr.select_one(".c-name a")["href"] == f"{r['unit_code']}/index.html"
    unranked = {tr["id"][3:]: tr.get_text(" ", strip=True) for tr in page.select("table.unranked tbody tr")}
    assert set(unranked) == {"X04", "X05"}
    assert "Chưa đủ 10 phiếu hợp lệ (có 6)" in unranked["X04"]
    assert "Chưa đủ 10 phiếu hợp lệ (có 3)" in unranked["X05"]
    # the chart: one bar per ranked unit, in rank order, each with its interval
    bars = page.select("svg.ranking-chart g.bar-row")
    assert [g["data-code"] for g in bars] == [r["unit_code"] for r in ranked]
    assert all(len(g.select("line.ci")) == 3 for g in bars)
    svg = page.select_one("svg.ranking-chart")
    assert svg["role"] == "img" and svg.find("title") and svg.find("desc")
    # period, number of responses, last update, method link and downloads
    text = page.get_text(" ", strip=True)
    assert "12/06/2024 – 14/06/2024" in text
    assert str(sum(int(r["n"]) for r in expected)) in page.select_one(".facts").get_text()
    assert "Cập nhật lần cuối" in text
    assert page.select_one('a[href="phuong-phap/index.html"]')
    for name in ("ranking.csv", "ranking.json", "ranking.xlsx"):
        assert page.select_one(f'a[href="{name}"]')
        assert (Layout(out, survey.id).results / name).exists()


def test_pages_are_accessible_and_relative(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    page = soup(results / "index.html")
    assert page.html["lang"] == "vi"
    for table in page.select("table"):
        assert table.find("caption").get_text(strip=True)
        assert all(th.has_attr("scope") for th in table.select("th"))
    # the stylesheets inlined (nothing blocks the first paint), the script under its hashed name
    assert not page.select('link[rel="stylesheet"]') and ".band-0" in page.select_one("head style").string
    assert page.select_one(f'script[src="../../{asset("results.js")}"]')
    assert (out / "site" / asset("results.js")).exists()
    assert not (out / "site" / "static" / "results.js").exists()
    unit = soup(results / "X01" / "index.html")
    assert unit.select_one(f'script[src="../../../{asset("results.js")}"]')
    for link in unit.select("a[href]"):
        assert not link["href"].startswith(("/", "http")), link["href"]


def test_district_pages_filter_without_javascript(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    main = soup(results / "index.html")
    links = {a.get_text(" ", strip=True): a["href"] for a in main.select("nav.filter a")}
    assert links["Tất cả"] == "index.html"
    href = next(v for k, v in links.items() if k.startswith("Can Lộc"))
    assert href == "tinh/can-loc/index.html"
    district = soup(results / href)
    assert [tr["id"] for tr in district.select("table.ranking tbody tr")] == ["dv-X03"]
    assert {tr["id"] for tr in district.select("table.unranked tbody tr")} == {"dv-X04", "dv-X05"}
    assert district.select_one('nav.filter a[aria-current="page"]').get_text(strip=True).startswith("Can Lộc")
    assert district.select_one('a[href="../../X03/index.html"]')
    assert district.select_one(".facts dd").find_next("dd").get_text(strip=True) == str(11 + 6 + 3)


def test_unit_pages_show_blocks_questions_average_and_quota(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    rows = {r["unit_code"]: r for r in ranking_csv(out)}
    for code in rows:
        assert (results / code / "index.html").exists()
    page = soup(results / "X01" / "index.html")
    assert num(page.select_one(".big-value").get_text()) == pytest.approx(float(rows["X01"]["index"]))
    assert "Hạng" in page.get_text() and f"{rows['X01']['rank']} / 3" in page.get_text()
    block_rows = page.select("tr.block-row")
    assert len(block_rows) == 2
    first = block_rows[0].find_all("td")
    assert num(first[0].get_text()) == pytest.approx(float(rows["X01"]["block:tiep-can"]))
    ranked = [r for r in rows.values() if r["ranked"] == "true"]
    average = sum(float(r["block:tiep-can"]) for r in ranked) / len(ranked)
    assert num(first[2].get_text()) == pytest.approx(round(average, 2))
    # q1 of X01: 13 of 14 answers are 4 or 5
    q1 = next(tr for tr in page.select("table.questions tbody tr") if "Nơi ngồi chờ" in tr.get_text())
    cells = q1.find_all("td")
    assert num(cells[0].get_text()) == pytest.approx(round(100 * 13 / 14, 2))
    assert cells[1].get_text(strip=True) == "14"
    # participation: 14 responses against a quota of 15 (4 of them from organisations)
    part = page.select_one("table.participation").get_text(" ", strip=True)
    assert "Tổ chức 3 5" in part and "Cá nhân 11 10" in part and "Tổng 14 15" in part
    # the block chart with the average marks
    assert len(page.select("svg.compare-chart line.avg")) == 2


def test_min_cell_withholds_small_cells(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    page = soup(results / "X02" / "index.html")
    q2 = next(tr for tr in page.select("table.questions tbody tr") if "Trang thiết bị" in tr.get_text())
    assert "Chưa đủ câu trả lời" in q2.find_all("td")[0].get_text()
    assert q2.find_all("td")[1].get_text(strip=True) == "4"
    # q1 has 12 answers, but the block index is the mean of q1 and q2: showing q1 would give
    # q2 away, so q1 is withheld as well, and said so
    q1 = next(tr for tr in page.select("table.questions tbody tr") if "Nơi ngồi chờ" in tr.get_text())
    assert "Không công bố" in q1.find_all("td")[0].get_text()
    assert q1.find_all("td")[1].get_text(strip=True) == "12"
    assert "tính ngược" in page.get_text()
    # ... and left out of the average of all units, which would give it away too
    x01 = soup(results / "X01" / "index.html")
    q1_x01 = next(tr for tr in x01.select("table.questions tbody tr") if "Nơi ngồi chờ" in tr.get_text())
    average = num(q1_x01.find_all("td")[2].get_text())
    # the mean of the two published cells (92.86 and 54.55) is 73.705, rounded half up
    assert average == pytest.approx(73.71, abs=0.001)
    # a unit with 3 responses: no index, no block, no question value anywhere
    small = soup(results / "X05" / "index.html")
    assert "Chưa đủ câu trả lời" in small.select_one(".big-value").get_text()
    for tr in small.select("table.questions tbody tr"):
        assert "Chưa đủ câu trả lời" in tr.find_all("td")[0].get_text()
    published_csv = list(csv.DictReader(io.StringIO((results / "ranking.csv").read_text("utf-8-sig"))))
    x05 = next(r for r in published_csv if r["unit_code"] == "X05")
    assert x05["index"] == x05["ci_low"] == x05["block:tiep-can"] == ""
    assert x05["n"] == "3"
    doc = json.loads((results / "ranking.json").read_text("utf-8"))
    unit = next(u for u in doc["units"] if u["unit_code"] == "X05")
    assert unit["index"] is None and unit["blocks"]["ket-qua"] is None
    # X04 (6 responses, not ranked) is still shown for reference
    x04 = soup(results / "X04" / "index.html")
    assert num(x04.select_one(".big-value").get_text()) == 100.0
    assert "Chưa đủ 10 phiếu hợp lệ (có 6)" in x04.select_one(".r-alert").get_text()


def test_data_text_is_escaped(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    for path in [results / "index.html", results / "X03" / "index.html",
                 results / "tinh" / "can-loc" / "index.html"]:
        html = path.read_text("utf-8")
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert soup(path).find(string=lambda s: s and "<script>alert(1)</script>" in s)


def test_downloads(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    source = ranking_csv(out)
    got = list(csv.DictReader(io.StringIO((results / "ranking.csv").read_text("utf-8-sig"))))
    assert list(got[0]) == list(source[0])
    assert [r["unit_code"] for r in got] == [r["unit_code"] for r in source]
    for a, b in zip(got, source, strict=True):
        if int(b["n"]) >= survey.scoring.min_cell:
            assert a == b
    doc = json.loads((results / "ranking.json").read_text("utf-8"))
    assert doc["survey"]["id"] == "thu-nghiem" and doc["responses"] == 14 + 12 + 11 + 6 + 3
    assert [u["unit_code"] for u in doc["units"]] == [r["unit_code"] for r in source]
    first = doc["units"][0]
    assert first["index"] == float(source[0]["index"]) and first["district"] == "Nghi Xuân"
    wb = load_workbook(results / "ranking.xlsx")
    ws = wb.active
    headers = [c.value for c in ws[6]]
    assert headers[:9] == ["Hạng", "Mã", "Đơn vị", "Địa bàn", "Số phiếu", "Chỉ số",
                           "KTC 95% – cận dưới", "KTC 95% – cận trên", "Xếp loại"]
    assert "Tiếp cận dịch vụ" in headers and "Ghi chú" in headers
    assert headers[-3:-1] == ["Hạng có thể – từ", "Hạng có thể – đến"]
    assert "1,96 × √" in ws["A4"].value and "chưa đủ căn cứ để kết luận thay đổi" in ws["A4"].value
    codes = [ws.cell(row=r, column=2).value for r in range(7, 7 + len(source))]
    assert codes == [r["unit_code"] for r in source]
    assert ws.cell(row=7, column=6).value == pytest.approx(float(source[0]["index"]))
    assert [ws.cell(row=7, column=c).value for c in (len(headers) - 2, len(headers) - 1)] == [
        int(source[0]["rank_low"]), int(source[0]["rank_high"])]
    assert (first["rank_low"], first["rank_high"]) == (int(source[0]["rank_low"]),
                                                       int(source[0]["rank_high"]))
    from hailong.publish.downloads import NONE_FILL, XLSX_FILLS
    band_pos = {b.label: i for i, b in enumerate(survey.bands)}
    for r, src in zip(range(7, 7 + len(source)), source, strict=True):
        cells = ws[r][:len(headers)]
        assert all(c.border.left.style == "thin" and c.border.bottom.style == "thin" for c in cells)
        assert all(c.number_format == "0.00" for c in cells if isinstance(c.value, float))
        assert all(c.number_format == "General" for c in cells if not isinstance(c.value, int | float))
        want = XLSX_FILLS[band_pos[src["band"]]] if src["ranked"] == "true" else NONE_FILL
        assert cells[8].fill.fgColor.rgb[-6:] == want
        assert all(c.fill.fill_type is None for i, c in enumerate(cells) if i != 8)
    fills = {ws.cell(row=r, column=9).fill.fgColor.rgb for r in range(6, 6 + len(source))}
    assert len(fills) >= 2  # bands are coloured
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows
    assert ws.column_dimensions["C"].width >= 25


def test_method_page_comes_from_survey_toml(published):
    survey, out, _, _ = published
    page = soup(Layout(out, survey.id).results / "phuong-phap" / "index.html")
    text = page.get_text(" ", strip=True)
    for q in survey.questions:
        assert q.text in text
    for label in survey.scale.labels:
        assert label in text
    for band in survey.bands:
        assert band.label in text
    assert "1,96" in text and "10 phiếu hợp lệ" in text and "12/06/2024" in text
    assert "trọng số 2" in text  # the weighted block


def _method_text(tmp_path, extra_toml: str, tail: str = "", **files) -> str:
    """The method page of the small survey with `extra_toml` at its top level, `tail` at its end."""
    from conftest import SMALL_TOML, write_survey

    from hailong.survey.load import load_survey

    toml = SMALL_TOML.replace("year = 2024", "year = 2024\n" + extra_toml) + tail
    survey = load_survey(write_survey(tmp_path / "s", toml=toml, **files))
    out = tmp_path / "out"
    ranking = Layout(out, survey.id).data_file("ranking.csv")
    ranking.parent.mkdir(parents=True)
    ranking.write_text("rank,unit_code,unit_name,n,index,ci_low,ci_high,band,ranked\n"
                       + "".join(f",{u.code},{u.name},0,,,,Chưa đủ phiếu,false\n" for u in survey.units),
                       encoding="utf-8")
    vouch(survey, out)  # a hand-written data file: a run.json that vouches for it
    publish(survey, out)
    page = soup(Layout(out, survey.id).results / "phuong-phap" / "index.html")
    return page.get_text(" ", strip=True)


def test_method_page_says_only_what_the_system_does(tmp_path):
    open_text = _method_text(tmp_path / "open", "")
    # the form has no "no opinion" choice: an unanswered question is simply not counted
    assert "không có ý kiến" not in open_text and "ghi 0" not in open_text
    assert "bỏ trống không được tính" in open_text
    # an open survey knows no respondent: no claim that each one counts once
    assert "chỉ được tính một phiếu cho mỗi đơn vị" not in open_text
    assert "đường link riêng" not in open_text
    assert "cùng một thiết bị" in open_text  # by_device is on by default

    roster = _method_text(tmp_path / "roster", 'access = "roster"', "[dedupe]\nby_device = false\n",
                          roster_csv="id,name,unit_code\nHTX1,Hợp tác xã Một,X01\n")
    assert "trong danh sách mời chỉ được tính một phiếu cho mỗi đơn vị: giữ phiếu đầu tiên" in roster
    assert "Phiếu không gửi qua đường link riêng hợp lệ" in roster  # the invalid-token rule
    # no device rule, worded for any survey (not "citizens share a kiosk" for cooperatives)
    assert "Không loại phiếu theo thiết bị" in roster
    assert "người dân" not in roster.split("Không loại phiếu theo thiết bị")[1].split(".")[0]



def test_publish_needs_a_ranking(tmp_path, survey):
    Layout(tmp_path / "out", survey.id).data.mkdir(parents=True)
    with pytest.raises(HailongError, match="run `hailong score"):
        publish(survey, tmp_path / "out")
    assert publish_if_scored(survey, tmp_path / "out") == ""
    assert not (tmp_path / "out" / "site").exists()


def test_publish_from_an_out_without_the_survey_says_where_it_looked(tmp_path, survey, vietnamese):
    out = tmp_path / "elsewhere"
    with pytest.raises(HailongError, match="không có dữ liệu nào của khảo sát thu-nghiem") as err:
        publish(survey, out)
    assert str(Layout(out, survey.id).root) in str(err.value)
    assert not out.exists()


def test_weekly_from_an_out_without_the_survey_says_so(tmp_path, survey):
    from hailong.jobs import weekly

    with pytest.raises(HailongError, match="--out"):
        weekly(survey, tmp_path / "elsewhere")
    assert not (tmp_path / "elsewhere").exists()  # no empty raw.csv, no ranking of zeros


def test_cli_publish(published):
    survey, out, _, _ = published
    result = subprocess.run([sys.executable, "-m", "hailong", "publish", str(survey.path), "--out", str(out)],
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "published results" in result.stdout


SERIES_2023 = """\
id = "chuoi-2023"
title = "Khảo sát thử nghiệm 2023"
year = 2023
series = "chuoi"
respondent_types = ["individual", "organization"]
[window]
start = "2023-06-12"
end = "2023-06-14"
[[blocks]]
id = "tiep-can"
title = "Tiếp cận dịch vụ"
[[questions]]
id = "q1"
block = "tiep-can"
text = "Nơi ngồi chờ có đủ chỗ ngồi không?"
[[questions]]
id = "q2"
block = "tiep-can"
text = "Trang thiết bị có đầy đủ không?"
[[questions]]
id = "q3"
block = "tiep-can"
text = "Kết quả có đúng hẹn không?"
"""
SERIES_2024 = SERIES_2023.replace("2023", "2024")

# 2023: X01 low (significant rise in 2024); X02 close to its 2024 result (not significant)
ANSWERS_2023 = {
    "X01": [("2", "2", "2")] * 10 + [("4", "4", "4")] * 2,
    "X02": [("4", "4", "4")] * 6 + [("3", "2", "3")] * 5,
    "X03": [("4", "4", "4")] * 10,
}
ANSWERS_2024 = {
    "X01": [("5", "5", "5")] * 12,
    "X02": [("4", "4", "4")] * 7 + [("3", "2", "3")] * 5,
    "X03": [("4", "4", "4")] * 10,
}


def test_history_of_a_series_marks_changes_within_the_intervals(tmp_path):
    out = tmp_path / "out"
    old, _, _ = scored_survey(tmp_path, SERIES_2023, ANSWERS_2023, "o", folder="chuoi-2023",
                              out=out, day="2023-06-12")
    new, _, _ = scored_survey(tmp_path, SERIES_2024, ANSWERS_2024, "n", folder="chuoi-2024", out=out)
    publish(new, out)
    results = Layout(out, new.id).results
    page = soup(results / "index.html")
    head = page.select_one("table.ranking thead").get_text(" ", strip=True)
    assert "So với năm 2023" in head
    cells = {tr["id"][3:]: tr.select_one(".c-chg").get_text(" ", strip=True) for tr in page.select("table.ranking tbody tr")}
    # a change is a signed number with words, never an arrow (arrows and stars mean nothing here)
    assert "+" in cells["X01"] and "tăng rõ rệt" in cells["X01"]
    assert not re.search("[▲▼★]", page.get_text())
    assert "chưa đủ căn cứ" not in cells["X01"]
    assert "chưa đủ căn cứ để kết luận thay đổi" in cells["X02"]
    assert "chưa đủ căn cứ để kết luận thay đổi" in cells["X03"] and "±0,00" in cells["X03"]
    assert "ý nghĩa thống kê" not in page.get_text()  # the overlap wording is gone
    unit = soup(results / "X01" / "index.html")
    table = unit.select_one("table.history")
    labels = [tr.th.get_text(strip=True) for tr in table.select("tbody tr")]
    assert labels == ["Năm 2023", "Kỳ này"]
    assert unit.select_one("svg.trend-chart")
    # the chart's figures are the table's figures, two decimals (never "86,0" beside 85,95)
    chart = [t.get_text() for t in unit.select("svg.trend-chart text.val")]
    cells = [tr.select("td")[0].get_text(strip=True) for tr in table.select("tbody tr")]
    assert chart == cells and all(re.fullmatch(r"\d+,\d\d", c) for c in chart)
    # the earlier survey's own page has no later period to compare with
    publish(old, out)
    assert not soup(Layout(out, old.id).results / "index.html").select_one(".c-chg")


def test_series_history_shows_the_earlier_survey_as_it_was_published(tmp_path):
    """Issue 21: a final release holds a unit that had fewer than min_cell new answers; the
    next year's history must show that release, never the figures its data files give now."""
    out = tmp_path / "out"
    old, _, rows = scored_survey(tmp_path, SERIES_2023, ANSWERS_2023, "o", folder="chuoi-2023",
                                 out=out, day="2023-06-12")
    publish(old, out)
    shown = json.loads((Layout(out, old.id).results / "ranking.json").read_text("utf-8"))
    x03 = next(u for u in shown["units"] if u["unit_code"] == "X03")
    # two late answers for X03 (fewer than min_cell) land after the final release: scored, not published
    late = response_rows({"X03": [("1", "1", "1")] * 2}, "late", "2023-06-14")
    score(old, out, responses=write_responses(tmp_path / "late.csv", rows + late))
    new, _, _ = scored_survey(tmp_path, SERIES_2024, ANSWERS_2024, "n", folder="chuoi-2024", out=out)
    publish(new, out)
    history = (Layout(out, new.id).results / "history.csv").read_text("utf-8-sig").splitlines()
    row = next(line.split(",") for line in history if line.startswith("2023-06-14,X03,"))
    assert int(row[2]) == x03["n"] == 10 and float(row[3]) == x03["index"]
    unit = soup(Layout(out, new.id).results / "X03" / "index.html")
    first = unit.select_one("table.history tbody tr")
    assert first.th.get_text(strip=True) == "Năm 2023"
    assert first.select("td")[0].get_text(strip=True) == f"{x03['index']:.2f}".replace(".", ",")


def test_weekly_runs_become_history(tmp_path):
    survey, out, rows = scored_survey(tmp_path)
    first = snapshot(survey, out, dt.date(2024, 6, 12))
    assert first == Layout(out, survey.id).history / "2024-06-12" / "ranking.csv"
    assert first.read_bytes() == Layout(out, survey.id).data_file("ranking.csv").read_bytes()
    more = dict(ANSWERS)
    more["X04"] = ANSWERS["X04"] * 2  # X04 reaches 12 responses by the second week
    score(survey, out, responses=write_responses(tmp_path / "week2.csv", response_rows(more)))
    snapshot(survey, out, dt.date(2024, 6, 13))
    publish(survey, out)
    results = Layout(out, survey.id).results
    page = soup(results / "index.html")
    assert "So với ngày 12/06/2024" in page.select_one("table.ranking thead").get_text(" ", strip=True)
    unit = soup(results / "X01" / "index.html")
    h = unit.select_one("table.history")
    assert [tr.th.get_text(strip=True) for tr in h.select("tbody tr")] == ["12/06/2024", "Hiện tại"]
    x04 = soup(results / "X04" / "index.html").select_one("table.history").get_text(" ", strip=True)
    assert "Chưa xếp hạng" in x04  # not ranked in the first week


def test_snapshot_without_ranking(tmp_path, survey):
    assert snapshot(survey, tmp_path / "out") is None


def test_failed_publish_leaves_the_old_results(published, monkeypatch):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    before = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    calls = []
    real = publish_mod._write

    def failing(target, data):
        calls.append(target)
        if len(calls) == 4:
            raise OSError("disk full")
        real(target, data)

    monkeypatch.setattr(publish_mod, "_write", failing)
    (Layout(out, survey.id).data_file("ranking.csv")).touch()  # a newer "last updated"
    with pytest.raises(OSError):
        publish(survey, out)
    after = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    assert after == before
    assert [p.name for p in results.parent.iterdir() if p.name.startswith(".ket-qua")] == []


KILLED = """
import sys, time
from pathlib import Path
from hailong.publish import pages as p
from hailong.survey.load import load_survey
real = p._write
count = [0]
def slow(target, data):
    real(target, data)
    count[0] += 1
    if count[0] == 3:
        Path(sys.argv[3]).write_text("half-way")
        time.sleep(60)
p._write = slow
p.publish(load_survey(sys.argv[1]), Path(sys.argv[2]))
"""


def test_killed_publish_leaves_the_old_results(published, tmp_path):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    before = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    marker = tmp_path / "half-way"
    proc = subprocess.Popen([sys.executable, "-c", KILLED, str(survey.path), str(out), str(marker)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the publish ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    after = {p.relative_to(results): p.read_bytes() for p in results.rglob("*") if p.is_file()}
    assert after == before
    leftovers = [p for p in results.parent.iterdir() if p.name.startswith(".ket-qua.new-")]
    assert leftovers  # the killed run's half-built folder ...
    publish(survey, out)
    assert [p for p in results.parent.iterdir() if p.name.startswith(".ket-qua.")] == []  # ... is cleared


def test_a_survey_without_answers_publishes_an_honest_empty_page(tmp_path):
    survey, out, _ = scored_survey(tmp_path, answers={"X01": [("5", "5", "5")]})
    publish(survey, out)
    results = Layout(out, survey.id).results
    page = soup(results / "index.html")
    assert page.select("table.ranking") == []
    assert "Chưa có đơn vị nào đủ 10 phiếu hợp lệ" in page.get_text()
    assert len(page.select("table.unranked tbody tr")) == 5
    x02 = soup(results / "X02" / "index.html")
    assert x02.select_one(".big-value").get_text(strip=True) == "Chưa có phiếu"
    assert "Chưa xếp hạng" in x02.get_text()


def test_build_hook_publishes_once_scored(published):
    survey, out, _, _ = published
    assert publish_if_scored(survey, out).startswith("published results of 5 units")


def test_cli_says_to_score_first(tmp_path, survey_dir):
    (tmp_path / "out" / "thu-nghiem").mkdir(parents=True)
    result = subprocess.run([sys.executable, "-m", "hailong", "publish", str(survey_dir), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "run `hailong score" in lines[0] and "Traceback" not in result.stderr
    result = subprocess.run([sys.executable, "-m", "hailong", "publish", str(survey_dir), "--out",
                             str(tmp_path / "empty")], capture_output=True, text=True, cwd=REPO,
                            timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "no data of survey" in lines[0]


def test_a_unit_code_that_is_a_results_folder_is_refused(tmp_path):
    from conftest import write_survey

    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path / "s", units="code,name\ntinh,Xã Tỉnh\n"))
    ranking = Layout(tmp_path / "out", survey.id).data_file("ranking.csv")
    ranking.parent.mkdir(parents=True)
    ranking.write_text("rank,unit_code,unit_name,n,index,ci_low,ci_high,band,ranked\n"
                       ",tinh,Xã Tỉnh,0,,,,Chưa đủ phiếu,false\n", encoding="utf-8")
    vouch(survey, tmp_path / "out")
    with pytest.raises(HailongError, match="unit code 'tinh' is a reserved"):
        publish(survey, tmp_path / "out")


def test_too_many_answers_for_the_visitors_is_flagged_not_ranked_silently(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    part = Layout(out, survey.id).data_file("participation.csv")
    text = part.read_text("utf-8").splitlines()
    header, rows = text[0], text[1:]
    # mark one unit-day of the first unit as more answers than its visitors allow
    first = rows[0].split(",")
    first[header.split(",").index("status")] = "too_many"
    part.write_text("\n".join([header, ",".join(first), *rows[1:]]) + "\n", "utf-8")
    vouch(survey, out)  # the edited file as if score had written it
    publish(survey, out)
    results = Layout(out, survey.id).results
    page = soup(results / "index.html")
    flagged = [th.a.get_text() for th in page.select("th.c-name") if th.select_one(".checking")]
    unit = next(u for u in survey.units if u.code == first[0])
    assert flagged == [unit.name]
    note = soup(results / unit.code / "index.html").select_one(".checking-note").get_text()
    assert "Đang kiểm tra số phiếu" in note and dt.date.fromisoformat(first[1]).strftime("%d/%m/%Y") in note


def _tree(folder: Path) -> dict[str, object]:
    """Every file's bytes; the workbook's cell values (its zip carries the time it was made)."""
    def content(p: Path):
        if p.suffix == ".xlsx":
            return [list(r) for r in load_workbook(p).active.iter_rows(values_only=True)]
        return p.read_bytes()
    return {p.relative_to(folder).as_posix(): content(p) for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_publish_needs_only_the_data_files_not_the_responses(tmp_path):
    """The pages come from ranking.csv, questions.csv and the counts-only files: with
    responses.csv gone they are the same, byte for byte."""
    survey, out, _ = scored_survey(tmp_path)
    publish(survey, out)
    before = _tree(Layout(out, survey.id).results)
    data = Layout(out, survey.id).data
    (data / "responses.csv").unlink()
    publish(survey, out)
    assert _tree(Layout(out, survey.id).results) == before
    # the counts by respondent type came through respondent_types.csv: X01 has 14 responses,
    # every fourth from an organization (rows 3, 7, 11)
    table = soup(Layout(out, survey.id).results / "X01" / "index.html").select_one("table.participation")
    cells = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])][:2] for tr in table.tbody.find_all("tr")]
    assert cells[:3] == [["Cá nhân", "11"], ["Tổ chức", "3"], ["Tổng", "14"]]
    assert {"questions.csv", "block_answers.csv", "respondent_types.csv"} <= {p.name for p in data.iterdir()}


def test_questions_csv_is_the_contract_table(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    path = Layout(out, survey.id).data_file("questions.csv")
    with open(path, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["unit_code", "question_id", "answers", "satisfied", "index"]
    scale = [q.id for q in survey.scale_questions]
    assert len(rows) == len(survey.units) * len(scale)
    for r in rows:
        assert r["question_id"] in scale
        if r["answers"] == "0":
            assert r["index"] == ""
        else:
            assert r["index"] == f"{100 * int(r['satisfied']) / int(r['answers']):.2f}" or \
                survey.scoring.method == "mean_score"


def test_a_damaged_questions_csv_is_one_clear_line(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    path = Layout(out, survey.id).data_file("questions.csv")
    lines = path.read_text("utf-8-sig").splitlines()
    lines[3] = lines[3].rsplit(",", 3)[0] + ",nhiều,0,"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # as score left it, the file no longer matches run.json
    with pytest.raises(HailongError, match=r"questions.csv: its content is not what run \w+ wrote"):
        publish(survey, out)
    vouch(survey, out)  # and vouched for as it is, its cell is named
    with pytest.raises(HailongError, match=r"questions.csv line 4, column answers: 'nhiều'"):
        publish(survey, out)


def test_rank_ranges_on_the_pages_and_the_chart(published):
    survey, out, _, _ = published
    results = Layout(out, survey.id).results
    rows = [r for r in ranking_csv(out) if r["ranked"] == "true"]
    page = soup(results / "index.html")
    first = [r["unit_code"] for r in rows if r["rank_low"] == "1"]
    marked = [g["data-code"] for g in page.select("svg.ranking-chart g.bar-row.top")]
    assert marked == (first if len(first) > 1 else [])
    for g in page.select("svg.ranking-chart g.bar-row"):
        assert g.select_one("text.lbl").get_text().startswith("★") == (g["data-code"] in marked)
    for r in rows:
        unit = soup(results / r["unit_code"] / "index.html").select_one("dl.facts").get_text(" ", strip=True)
        wide = r["rank_low"] != r["rank_high"]
        assert (f"(từ {r['rank_low']} đến {r['rank_high']})" in unit) == wide


def test_method_page_works_the_rank_range_through_on_this_survey(published):
    survey, out, _, _ = published
    rows = [r for r in ranking_csv(out) if r["ranked"] == "true"]
    text = soup(Layout(out, survey.id).results / "phuong-phap" / "index.html").get_text(" ", strip=True)
    assert "Khoảng hạng" in text and "3,92" in text and "thay đổi rõ rệt" in text
    assert "61,18–100" in text  # the v3 interval of ten who all agree, with D = 1
    wide = [i for i, r in enumerate(rows[:-1]) if r["rank_low"] != r["rank_high"]]
    if wide:
        a, b = rows[wide[0]], rows[wide[0] + 1]
        assert f"{a['unit_name']} có chỉ số {a['index'].replace('.', ',')}" in text
        assert b["unit_name"] in text and f"(từ {a['rank_low']} đến {a['rank_high']})" in text
        gap = float(a["index"]) - float(b["index"])
        widths = [float(r["ci_high"]) - float(r["ci_low"]) for r in (a, b)]
        clear = gap > 0.5 * (widths[0] ** 2 + widths[1] ** 2) ** 0.5
        assert (f"{a['unit_name']} rõ ràng cao hơn {b['unit_name']}" in text) is clear
        assert (f"chưa thể nói {a['unit_name']} cao hơn {b['unit_name']}" in text) is not clear
    assert "ý nghĩa thống kê" not in text


def test_the_replaced_results_are_deleted_in_the_background(published):
    """Publishing again moves the old tree out of the site at once (a rename) and a detached
    process deletes it: nothing of it is left in the site, and the trash empties."""
    survey, out, _, _ = published
    layout = Layout(out, survey.id)
    publish(survey, out)
    assert [p.name for p in layout.results.parent.iterdir() if p.name.startswith(".")] == []
    assert (layout.results / "index.html").exists()
    deadline = time.monotonic() + 60
    while any(layout.trash.iterdir()):
        assert time.monotonic() < deadline, list(layout.trash.iterdir())
        time.sleep(0.05)


def test_method_page_works_the_interval_through_on_this_survey(published):
    """Step 5 on one unit of this survey, from intervals.csv, ranking.csv and run.json's D."""
    survey, out, _, _ = published
    data = Layout(out, survey.id).data
    run = json.loads((data / "run.json").read_text("utf-8"))
    with open(data / "intervals.csv", encoding="utf-8-sig") as fh:
        inputs = {r["unit_code"]: r for r in csv.DictReader(fh)}
    ranking = {r["unit_code"]: r for r in ranking_csv(out)}
    text = soup(Layout(out, survey.id).results / "phuong-phap" / "index.html").select_one(
        "#m-ktc").get_text(" ", strip=True)
    assert f"D = {run['design_effect']:.3f}".replace(".", ",") in text
    unit = next(u for u in survey.units if f"{u.name} có k = " in text)
    r, x = inputs[unit.code], ranking[unit.code]
    assert f"k = {r['k']} người" in text
    assert f"hệ số riêng d = {r['d']}".replace(".", ",") in text.lower()
    assert f"= {r['deff']}".replace(".", ",") in text
    assert f"{float(r['effective_n']):.2f}".replace(".", ",") in text
    assert f"{x['ci_low']}–{x['ci_high']}".replace(".", ",") in text
    # the figures shown give the interval back (Clopper-Pearson, scipy.stats)
    from scipy import stats

    n, p = float(r["effective_n"]), float(x["index"]) / 100
    low = 100 * stats.beta.ppf(0.025, p * n, n - p * n + 1)
    assert abs(low - float(x["ci_low"])) < 0.05
