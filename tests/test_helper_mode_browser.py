"""Helper mode of the survey page (contract v3, section 9) in real headless Chromium, posting to
`hailong serve`: a helper's phone marks answers as assisted, remembers the helper, empties the
form for the next citizen, keeps its outbox offline, and `score` keeps every citizen's answer
from the one phone with the device rule on."""

from __future__ import annotations

import pytest
from browser import PHONE, chromium
from test_survey_page_browser import Site, answer_all, open_now

from hailong.ingest.pull import pull
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def site(survey_dir, tmp_path):
    s = Site(open_now(load_survey(survey_dir)), tmp_path / "out")
    yield s
    s.stop()


def test_three_citizens_on_one_helper_phone_all_count(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url(query="?ho-tro=CCB-07"))
    assert page.locator("#gui").inner_text() == "Gửi ý kiến (hỗ trợ: CCB-07)"
    for n in range(3):
        answer_all(page, comment=f"người thứ {n + 1}")
        page.click("#gui")
        # the form starts over at once, empty: nothing of the last answer stays on the page
        page.wait_for_function("document.querySelectorAll('#phieu input:checked').length === 0")
        assert page.input_value('textarea[name="comment"]') == ""
        assert page.locator("#tien-trinh-chu").inner_text() == "Đã trả lời 0/5 câu"
        assert page.locator("#phieu").is_visible() and page.locator("#cam-on").is_hidden()
        assert len(site.wait_rows(n + 1, page=page)) == n + 1
    # the helper is remembered: the page opened again without ?ho-tro is still in helper mode,
    # and never says "already answered"
    page.goto(site.url())
    assert "CCB-07" in page.locator("#gui").inner_text() and page.locator("#da-gui").is_hidden()
    rows = site.rows()
    assert [r["channel"] for r in rows] == ["assisted"] * 3
    assert {r["entered_by"] for r in rows} == {"CCB-07"}
    assert len({r["device_id"] for r in rows}) == 1  # one phone
    assert len({r["response_id"] for r in rows}) == 3
    # ?ho-tro= alone ends helper mode on this phone
    page.goto(site.url(query="?ho-tro="))
    assert page.locator("#gui").inner_text() == "Gửi ý kiến"
    assert not page.evaluate("localStorage.getItem('hailong:ht')")
    context.close()

    # score: the device rule is on (the default), and all three count
    survey = site.survey
    pull(survey, site.out)
    score(survey, site.out)
    data = Layout(site.out, survey.id).data
    accepted = data.joinpath("responses.csv").read_text("utf-8-sig").splitlines()
    assert len(accepted) == 1 + 3
    assert survey.dedupe.by_device is True


def test_helper_phone_offline_keeps_answers_and_sends_them_later(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url(query="?ho-tro=ccb_2"))
    context.set_offline(True)
    for n in range(2):
        answer_all(page)
        page.click("#gui")
        page.wait_for_function(f"JSON.parse(localStorage.getItem('hailong:outbox')).length === {n + 1}")
        assert page.locator("#phieu input:checked").count() == 0
    assert len(page.evaluate("JSON.parse(localStorage.getItem('hailong:outbox'))")) == 2
    context.set_offline(False)
    rows = site.wait_rows(2, page=page)
    assert [r["channel"] for r in rows] == ["assisted", "assisted"]
    assert page.evaluate("localStorage.getItem('hailong:outbox')") == "[]"
    context.close()


def test_a_code_that_is_not_a_helper_code_is_ignored(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url(query="?ho-tro=Nguy%E1%BB%85n%20V%C4%83n%20A"))  # a name, not a code
    assert page.locator("#gui").inner_text() == "Gửi ý kiến"
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    rows = site.wait_rows(1, page=page)
    assert rows[0]["channel"] == "" and rows[0]["entered_by"] == ""
    context.close()
