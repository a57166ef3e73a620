"""Above a few hundred units the ranking page is a national summary by province."""

from __future__ import annotations

import csv
import json
import statistics

from bs4 import BeautifulSoup
from conftest import SMALL_TOML, write_survey
from results_fixture import write_responses

from hailong.layout import Layout
from hailong.publish import summary
from hailong.publish.pages import publish
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

FILE_ORDER = ["Quảng Trị", "Đà Nẵng", "Nghệ An"]  # units.csv's order
PROVINCES = ["Đà Nẵng", "Nghệ An", "Quảng Trị"]  # the page's: Vietnamese alphabetical order


def _national(tmp_path, units: int):
    """`units` units over three provinces, ten responses each, scored and published."""
    lines = ["code,name,parent"] + [f"U{i:04d},Xã Số {i},{FILE_ORDER[i % 3]}" for i in range(units)]
    survey = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML, units="\n".join(lines) + "\n"))
    rows = []
    for i in range(units):
        for k in range(10):
            good = "5" if k < 10 - i % 7 else "2"
            rows.append({"submitted_at": f"2024-06-12T09:{k:02d}:00+07:00",
                         "response_id": f"r{i}-{k}", "unit_code": f"U{i:04d}",
                         "q1": good, "q2": good, "q3": "4"})
    out = tmp_path / "out"
    score(survey, out, responses=write_responses(tmp_path / "raw.csv", rows))
    publish(survey, out)
    return survey, Layout(out, survey.id).results


def _soup(path):
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def test_many_units_page_by_province_under_a_national_summary(tmp_path):
    units = summary.PAGED_ABOVE + 31
    survey, results = _national(tmp_path, units)
    page = _soup(results / "index.html")
    assert not page.select("table.ranking")  # no national table of every unit on one page
    rows = page.select("table.provinces tbody tr")
    assert [tr.th.get_text(strip=True) for tr in rows] == PROVINCES
    assert "xếp theo tên" in page.get_text()  # the page states its order
    assert page.select_one("th.c-idx").get_text(strip=True) == "Chỉ số trung vị"
    ranking = list(csv.DictReader(open(results / "ranking.csv", encoding="utf-8-sig")))
    assert len(ranking) == units  # the whole national table is in the download
    for tr, name in zip(rows, PROVINCES, strict=True):
        members = [r for r in ranking if r["unit_code"] in
                   {u.code for u in survey.units if u.parent == name}]
        cells = [td.get_text(strip=True) for td in tr.select("td")]
        assert cells[0] == str(len(members))
        assert cells[2] == f"{10 * len(members):,}".replace(",", ".")
        ranked = [float(r["index"]) for r in members if r["ranked"] == "true"]
        assert tr.select_one("td.c-idx")["data-value"] == str(statistics.median(ranked))
        href = tr.th.a["href"]
        province = _soup(results / href)
        listed = [r["id"] for r in province.select("table.ranking tbody tr")]
        assert href.startswith("tinh/")
        assert listed == [f"dv-{r['unit_code']}" for r in ranking
                          if r["unit_code"] in {m["unit_code"] for m in members} and r["ranked"] == "true"]
        best = tr.select("td")[4].a["href"]
        assert best == f"{listed[0][3:]}/index.html"  # the province's top unit
    sizes = [p.stat().st_size for p in results.rglob("*.html")]
    assert max(sizes) < 1_000_000
    # the search box's data: every unit, its name and province, as ranking.json has them
    script = (results / summary.SEARCH_FILE).read_text("utf-8")
    assert page.select_one("form[data-search]")["data-search"] == summary.SEARCH_FILE
    data = json.loads(script.removeprefix("window.hailongUnits=").rstrip().rstrip(";"))
    assert sorted(map(tuple, data)) == sorted((u.code, u.name, u.parent) for u in survey.units)


def test_few_units_keep_one_national_table(tmp_path):
    _, results = _national(tmp_path, 12)
    page = _soup(results / "index.html")
    assert len(page.select("table.ranking tbody tr")) == 12
    assert not page.select("table.provinces")
    assert not (results / summary.SEARCH_FILE).exists()


def test_pool_pages_equal_the_pages_rendered_in_process(tmp_path, monkeypatch):
    """Many units' pages are rendered by forked workers: byte for byte the same pages."""
    import filecmp
    import shutil

    from hailong.publish import pages

    survey, results = _national(tmp_path, 40)
    alone = tmp_path / "alone"
    shutil.copytree(results, alone)
    monkeypatch.setattr(pages, "PARALLEL_MIN", 1)
    monkeypatch.setattr(pages, "CHUNK", 7)
    publish(survey, tmp_path / "out")
    names = sorted(p.relative_to(alone).as_posix() for p in alone.rglob("*.html"))
    assert names == sorted(p.relative_to(results).as_posix() for p in results.rglob("*.html"))
    assert len(names) == 40 + len(PROVINCES) + 2
    _, mismatch, errors = filecmp.cmpfiles(alone, results, names, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_provinces_sort_in_vietnamese_alphabetical_order():
    names = ["Đồng Tháp", "Điện Biên", "Đà Nẵng", "Cà Mau", "Cao Bằng", "An Giang", "Bắc Ninh",
             "Thành phố Hồ Chí Minh", "Thái Nguyên", "Ưng Hòa", "Yên Bái", "Ơn", "Ô Môn", "Ân Thi"]
    assert sorted(names, key=summary.vi_key) == [
        "An Giang", "Ân Thi", "Bắc Ninh", "Cà Mau", "Cao Bằng", "Đà Nẵng", "Điện Biên",
        "Đồng Tháp", "Ô Môn", "Ơn", "Thái Nguyên", "Thành phố Hồ Chí Minh", "Ưng Hòa", "Yên Bái"]


def test_search_index_keeps_every_name_as_data():
    from types import SimpleNamespace

    odd = SimpleNamespace(code="X1", name="Xã </script>\u2028\"A\"", district="Tỉnh")
    text = summary.search_index([odd]).decode("utf-8")
    assert "</" not in text and "\u2028" not in text
    rows = json.loads(text.removeprefix("window.hailongUnits=").rstrip().rstrip(";"))
    assert rows == [["X1", "Xã </script>\u2028\"A\"", "Tỉnh"]]
