"""The results pages in real headless Chromium: escaping, sorting, filtering, no-JS, screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser import DESKTOP, PHONE, chromium
from results_fixture import scored_survey

from hailong.layout import Layout

pytestmark = pytest.mark.browser

XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("results-site")
    survey, out, _ = scored_survey(tmp)
    from hailong.jobs import build

    build([survey], out)  # also publishes, as `build` does once a survey is scored
    results = Layout(out, survey.id).results
    assert (results / "index.html").exists()
    return results


def url(path: Path) -> str:
    return path.resolve().as_uri()


def visible_rows(page, table: str = "table.ranking") -> list[str]:
    return page.eval_on_selector_all(
        f"{table} tbody tr", "rs => rs.filter(r => !r.hidden).map(r => r.id.slice(3))")


def test_xss_unit_is_text_and_no_dialog_fires(site):
    with chromium() as browser:
        page = browser.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        for target in (site / "index.html", site / "X03" / "index.html",
                       site / "tinh" / "can-loc" / "index.html"):
            page.goto(url(target))
            page.wait_for_load_state("load")
            assert page.locator(f"text={XSS}").count() >= 1
        page.goto(url(site / "X03" / "index.html"))
        assert page.locator("h1").inner_text() == XSS
        page.goto(url(site / "index.html"))
        assert page.locator("#dv-X03 .c-name").inner_text() == XSS
        assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
        assert dialogs == []


def test_sorting_and_district_filter_with_javascript(site):
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url(site / "index.html"))
        start = visible_rows(page)
        assert start == ["X01", "X03", "X02"]
        index_header = page.locator("table.ranking th.c-idx")
        index_header.locator("button.sort").click()
        assert index_header.get_attribute("aria-sort") == "descending"
        assert visible_rows(page) == start
        index_header.locator("button.sort").click()
        assert index_header.get_attribute("aria-sort") == "ascending"
        assert visible_rows(page) == list(reversed(start))
        page.locator("table.ranking th.c-name button.sort").click()
        names = page.eval_on_selector_all("table.ranking tbody th.c-name", "ths => ths.map(t => t.textContent.trim())")
        assert names == sorted(names, key=lambda s: s.lower()) or names[0] == XSS
        page.locator("table.ranking th.c-rank button.sort").click()
        assert visible_rows(page) == start

        page.locator("nav.filter a", has_text="Can Lộc").click()
        assert page.url.endswith("index.html#tinh-can-loc")  # filtered in place
        assert visible_rows(page) == ["X03"]
        assert visible_rows(page, "table.unranked") == ["X04", "X05"]
        shown = page.eval_on_selector_all("svg.ranking-chart g.bar-row",
                                          "gs => gs.filter(g => g.style.display !== 'none').length")
        assert shown == 1
        assert "Can Lộc" in page.locator("h1").inner_text()
        assert "1 đơn vị" in page.locator("#loc-trang-thai").inner_text()
        page.locator("nav.filter a", has_text="Tất cả").click()
        assert visible_rows(page) == start
        # the filter is kept in the address: a shared link opens filtered
        page.goto(url(site / "index.html") + "#tinh-nghi-xuan")
        assert visible_rows(page) == ["X01", "X02"]
        assert errors == []


def test_complete_without_javascript(site):
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.goto(url(site / "index.html"))
        assert visible_rows(page) == ["X01", "X03", "X02"]
        assert page.locator("button.sort").count() == 0  # no dead controls
        assert page.locator("svg.ranking-chart g.bar-row").count() == 3
        page.locator("nav.filter a", has_text="Can Lộc").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/tinh/can-loc/index.html")
        assert visible_rows(page) == ["X03"]
        page.locator("table.ranking a").first.click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/X03/index.html")
        assert page.locator(".big-value").inner_text().strip()
        context.close()


@pytest.mark.parametrize("name,options", [("phone", PHONE), ("desktop", DESKTOP)])
def test_screenshots(site, tmp_path, name, options):
    keep = os.environ.get("HAILONG_SCREENSHOTS")
    with chromium() as browser:
        context = browser.new_context(**options)
        page = context.new_page()
        for label, target in (("ranking", site / "index.html"), ("unit", site / "X01" / "index.html"),
                              ("method", site / "phuong-phap" / "index.html")):
            page.goto(url(target))
            page.wait_for_load_state("load")
            # nothing wider than the screen: tables scroll inside their own box at most
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{label} page is {overflow}px wider than the {name} screen"
            shot = tmp_path / f"results-{label}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, Path(keep) / shot.name)
        context.close()


SMALL_TEXT_JS = """() => {
  const small = [];
  let seen = 0;
  const nodes = [...document.body.querySelectorAll('*')];
  for (const el of nodes) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    seen++;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < 14) small.push(el.tagName + '.' + el.getAttribute('class') + ' ' + px + 'px: '
                            + el.textContent.trim().slice(0, 30));
  }
  return {seen, small};
}"""


def test_no_text_under_14px_on_a_phone(tmp_path):
    """Ranking, unit page with its history chart, method: every text at least 14 px at 360 px."""
    from test_publish import ANSWERS_2023, ANSWERS_2024, SERIES_2023, SERIES_2024

    from hailong.publish.pages import publish

    out = tmp_path / "out"
    scored_survey(tmp_path, SERIES_2023, ANSWERS_2023, "o", folder="chuoi-2023", out=out, day="2023-06-12")
    new, _, _ = scored_survey(tmp_path, SERIES_2024, ANSWERS_2024, "n", folder="chuoi-2024", out=out)
    publish(new, out)
    results = Layout(out, new.id).results
    with chromium() as browser:
        page = browser.new_context(**PHONE).new_page()
        for target in (results / "index.html", results / "X01" / "index.html",
                       results / "phuong-phap" / "index.html"):
            page.goto(url(target))
            if target.parent.name == "X01":
                assert page.locator("svg.trend-chart text.val").count() >= 2
            found = page.evaluate(SMALL_TEXT_JS)
            assert found["seen"] > 20, target
            assert found["small"] == [], target


@pytest.mark.parametrize("options", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_rank_range_fits_in_its_cell(site, options):
    """'2 (từ 2 đến 3)' wraps inside the rank column; it never spills into the unit's name."""
    with chromium() as browser:
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(url(site / "index.html"))
        page.wait_for_load_state("load")
        cells = page.eval_on_selector_all(
            "table.ranking tbody td.c-rank",
            "cs => cs.map(c => [c.innerText.replace(/\\s+/g, ' ').trim(), c.scrollWidth - c.clientWidth])")
        assert any("(từ" in text for text, _ in cells)
        assert all(spill <= 0 for _, spill in cells), cells
        context.close()
