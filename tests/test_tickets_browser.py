"""A ticket's whole path in real Chromium: the printed slip's QR code → the unit page →
the submission (with and without JavaScript) → `score` accepts each ticket once."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pandas as pd
import pytest
import zxingcpp
from browser import PHONE, chromium
from conftest import SMALL_TOML, write_survey
from PIL import Image
from test_survey_page_browser import (
    AXE,
    Site,
    answer_all,
    axe_violations,
    open_now,
    save_screenshot,
)

from hailong.collect.tickets import make_tickets
from hailong.score.pipeline import score
from hailong.survey import tickets
from hailong.survey.load import load_survey

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

KEY = "a-test-key-that-is-long-enough-0123456789"
TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def scanned(pdf, tmp_path) -> list[str]:
    """The addresses in the QR codes of the first sheet, as a phone's camera reads them."""
    png = tmp_path / "sheet.png"
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                    str(png.with_suffix(""))], check=True, timeout=60)
    return sorted(b.text for b in zxingcpp.read_barcodes(Image.open(png)))


def test_slip_to_page_to_submission_with_and_without_javascript(tmp_path, browser, monkeypatch):
    if not shutil.which("pdftoppm"):
        pytest.skip("needs poppler-utils")
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    survey = open_now(load_survey(write_survey(tmp_path / "ve", toml=TOML)))
    out = tmp_path / "out"
    site = Site(survey, out)
    try:
        base = f"http://127.0.0.1:{site.port}"
        today = dt.datetime.now(survey.tz).date()
        make_tickets(survey, out, 3, units=["X01"], day=today, base_url=base, allow_http=True)
        pdf = next((out / survey.id / "tickets" / "slips").glob("*.pdf"))
        urls = scanned(pdf, tmp_path)
        issued = pd.read_csv(out / survey.id / "tickets" / "issued.csv", dtype=str, encoding="utf-8-sig")
        assert urls == sorted(f"{site.url()}#ve={t}" for t in issued["ticket"])
        first, second, third = (u.split("#ve=")[1] for u in urls)

        # with JavaScript: the ticket comes from the QR code, nothing to type
        page = browser.new_context(**PHONE).new_page()
        page.goto(urls[0])
        assert page.locator("#can-ve").is_hidden()
        assert page.input_value("#i-ticket") == first
        assert page.locator("#tien-trinh-chu").inner_text() == "Đã trả lời 0/5 câu"  # not a question
        answer_all(page)
        save_screenshot(page, tmp_path, "tickets-page-js", full_page=True)
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        rows = site.wait_rows(1)
        assert rows[-1]["ticket"] == first
        assert first in page.evaluate("Object.keys(localStorage).join(' ')")  # done for this ticket only
        # the next visitor's slip scanned on the same phone opens a fresh form
        page.goto(urls[1])  # only the fragment changes: the page reloads itself
        page.wait_for_function("t => document.getElementById('i-ticket').value === t", arg=second)
        page.wait_for_load_state()
        assert page.locator("#phieu").is_visible() and page.locator("#da-gui").is_hidden()
        page.context.close()

        # without JavaScript the fragment is never read: the page says so before the questions
        # and the citizen types the ticket printed on the slip, any case, with spaces
        page = browser.new_context(**PHONE, java_script_enabled=False).new_page()
        page.goto(urls[2])
        notice = page.locator("#can-ve")
        assert notice.is_visible() and "nhập mã phiếu" in notice.inner_text()
        save_screenshot(page, tmp_path, "tickets-page-no-js")
        box = page.locator("#o-ve").bounding_box()
        assert box["y"] < page.locator('fieldset[data-q="q1"]').bounding_box()["y"]
        typed = tickets.display(third).lower().replace("-", " ")
        page.fill("#i-ticket", typed)
        answer_all(page, comment="Không dùng JavaScript")
        page.click("#gui")
        page.wait_for_url(f"**/{survey.id}/cam-on/")
        rows = site.wait_rows(2)
        assert rows[-1]["ticket"] == typed
        page.context.close()

        # with JavaScript but no ticket (the page opened from its address): told first, then
        # stopped at the field
        page = browser.new_context(**PHONE).new_page()
        page.goto(site.url())
        assert page.locator("#can-ve").is_visible()
        if AXE.exists():
            assert axe_violations(page) == []
        answer_all(page)
        page.click("#gui")
        assert "mã phiếu" in page.locator("#thong-bao").inner_text()
        assert page.evaluate("document.activeElement.id") == "i-ticket"
        page.fill("#i-ticket", "ABC")
        page.click("#gui")
        assert "14 chữ và số" in page.locator("#thong-bao").inner_text()
        # the first slip used again on another phone: recorded, then both answers with it are
        # contested by score (contract v3)
        page.fill("#i-ticket", tickets.display(first))
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        rows = site.wait_rows(3)
        page.context.close()
    finally:
        site.stop()

    from hailong.ingest.pull import pull

    pull(survey, out)
    summary = score(survey, out)
    assert "3 rows: 1 accepted, 2 quarantined, 0 duplicates" in summary
    data = out / survey.id / "data"
    bad = pd.read_csv(data / "quarantine.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert bad["reason_code"].tolist() == ["contested_ticket"] * 2
    part = pd.read_csv(data / "participation.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    day = part[(part.unit_code == "X01") & (part.date == today.isoformat())].iloc[0]
    assert (day.responses, day.tickets_issued, day.tickets_used) == ("1", "3", "1")
