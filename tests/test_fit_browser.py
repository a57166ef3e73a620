"""The fit rules of every page type (docs/pages.md) in real headless Chromium, measured on
element boxes (tests/fit.py), at 360 px (a phone) and 1280 px, at district scale (the demo,
surveys/sipas-xa-2020) and national scale (surveys/sipas-toan-quoc-2026, 3,321 units):
the ranking, a district's or province's page, unit pages, the method page, the national
summary, the staff pages, and the survey pages beside them. Also: one meaning per symbol, the
national search box, the ?xem-thu band."""

from __future__ import annotations

import re

import pytest
from browser import DESKTOP, PHONE, chromium
from bs4 import BeautifulSoup
from fit import problems
from sites import demo_site, national_site, once, pages

pytestmark = pytest.mark.browser

WIDTHS = {"360": PHONE, "1280": DESKTOP}


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    demo = once(base, "site-demo", demo_site)
    national = once(base, "site-national", national_site)
    return {"district": demo, "national": national,
            "pages": {**pages(*demo, "district"), **pages(*national, "national")}}


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_every_page_type_fits_at_both_scales(sites, browser, width):
    page = browser.new_page(**WIDTHS[width])
    found = {}
    for name, path in sites["pages"].items():
        page.goto(path.resolve().as_uri())
        page.wait_for_load_state("load")
        wrong = problems(page)
        if wrong:
            found[name] = wrong[:5]
    page.close()
    assert found == {}
    assert len(sites["pages"]) >= 20  # both scales, every type


def test_wide_tables_are_cards_on_a_phone_and_tables_on_a_screen(sites, browser):
    ranking = sites["pages"]["district:ranking"]
    for width, shown in (("360", "block"), ("1280", "table")):
        page = browser.new_page(**WIDTHS[width])
        page.goto(ranking.resolve().as_uri())
        assert page.eval_on_selector("table.ranking", "t => getComputedStyle(t).display") == shown
        # a unit's rank range, index, interval, band and change all readable in its row
        row = page.locator("table.ranking tbody tr").nth(2)
        box = row.bounding_box()
        for cell in (".c-rank", ".c-idx", ".c-ci", ".c-band", ".c-chg"):
            b = row.locator(cell).bounding_box()
            assert b and b["width"] > 0 and b["x"] >= box["x"] - 1 and b["x"] + b["width"] <= box["x"] + box["width"] + 1, cell
            assert row.locator(cell).inner_text().strip(), cell
        text = row.inner_text()
        assert re.search(r"[+−±]\d+,\d\d", text)  # the change: a signed number…
        assert re.search("tăng rõ rệt|giảm rõ rệt|chưa đủ căn cứ để kết luận thay đổi", text)  # …with words
        if width == "360":  # each figure under its label
            labels = row.locator("td").evaluate_all(
                "tds => tds.map(td => getComputedStyle(td, '::before').content)")
            assert '"Hạng"' in labels and '"KTC 95%"' in labels and '"Xếp loại"' in labels
        page.close()


def test_one_meaning_per_symbol(sites):
    """Bands are words (no arrow, no star), changes signed numbers; ◆ only marks "may be
    first", and a page that uses it explains it in its legend."""
    for name, path in sites["pages"].items():
        if ":survey" in name or ":landing" in name or ":home" in name or ":staff" in name:
            continue
        soup = BeautifulSoup(path.read_text("utf-8"), "html.parser")
        for svg in soup.select("svg.defs"):
            svg.decompose()
        main = soup.select_one("main")
        text = main.get_text(" ")
        assert not re.search("[▲▼★●■○]", text), name
        marks = main.find_all(string=re.compile("◆"))
        if marks:
            legend = soup.select_one(".legend")
            assert legend and "◆" in legend.get_text() and "có thể đứng đầu" in legend.get_text(), name
            for m in marks:
                assert m.find_parent(class_="top") or m.find_parent("svg"), (name, m)
        for band in main.select(".band"):
            assert band.get_text(strip=True) and not band.select(".mark"), name


def test_national_search_box_finds_a_commune_without_a_server(sites, browser):
    survey, _ = sites["national"]
    unit = next(u for u in survey.units if "Đ" in u.name or "đ" in u.name)
    page = browser.new_page(**PHONE)
    page.goto(sites["pages"]["national:ranking"].resolve().as_uri())
    box = page.locator("#tim-don-vi")
    assert box.is_visible() and box.bounding_box()["y"] + 48 < 740  # on the first screen of a 360 × 740 phone
    # typed without diacritics, as on a phone keyboard without Vietnamese input
    plain = unit.name.replace("Đ", "D").replace("đ", "d")
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFD", plain) if unicodedata.category(c) != "Mn")
    box.fill(plain.lower())
    page.wait_for_selector("#tim-ket-qua a")
    assert "Tìm thấy" in page.locator("#tim-trang-thai").inner_text()
    page.locator("#tim-ket-qua a", has_text=unit.name).first.click()
    page.wait_for_load_state("load")
    assert page.locator("h1").inner_text() == unit.name
    page.close()


def test_preview_band_only_with_xem_thu(sites, browser):
    path = sites["pages"]["district:survey"]
    page = browser.new_page(**PHONE)
    page.goto(path.resolve().as_uri())
    assert not page.locator(".trial").is_visible()
    page.goto(path.resolve().as_uri() + "?xem-thu")
    band = page.locator(".trial")
    assert band.is_visible() and "xem thử" in band.inner_text().lower()
    assert page.locator("#phieu").is_visible()  # the form is there to try, even outside the dates
    page.close()


def test_national_staff_pages_are_light(sites):
    """The national staff page was 3.6 MB (a card per unit and every signal): now a summary
    and a page per province, each under 300 KB."""
    survey, out = sites["national"]
    staff = sites["pages"]["national:staff"].parent
    provinces = list(staff.glob("tinh/*/index.html"))
    assert len(provinces) == len({u.parent for u in survey.units}) == 34
    sizes = {p: p.stat().st_size for p in [staff / "index.html", *provinces]}
    assert max(sizes.values()) < 300_000, max(sizes.items(), key=lambda kv: kv[1])
