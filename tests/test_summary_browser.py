"""The national summary page (above 300 units) in real headless Chromium: it fits a phone,
its table sorts, and a province's link leads to that province's ranking."""

from __future__ import annotations

import pytest
from browser import PHONE, chromium
from test_publish_summary import PROVINCES, _national

from hailong.publish import summary

pytestmark = pytest.mark.browser


def test_summary_on_a_phone_sorts_and_leads_to_the_province(tmp_path):
    _, results = _national(tmp_path, summary.PAGED_ABOVE + 10)
    with chromium() as browser:
        page = browser.new_page(**PHONE)
        page.goto((results / "index.html").resolve().as_uri())
        page.wait_for_load_state("load")
        names = page.eval_on_selector_all("table.provinces tbody th", "hs => hs.map(h => h.innerText)")
        assert names == PROVINCES
        # the page itself does not scroll sideways (tests/test_fit_browser.py measures every box)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.locator("table.provinces th.c-name button.sort").click()  # descending (ascending first)
        names = page.eval_on_selector_all("table.provinces tbody th", "hs => hs.map(h => h.innerText)")
        assert names == PROVINCES[::-1]  # Vietnamese order, reversed
        page.locator("table.provinces tbody th a", has_text="Nghệ An").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/tinh/nghe-an/index.html")
        assert "Nghệ An" in page.locator("h1").inner_text()
        assert page.locator("table.ranking tbody tr").count() > 0
