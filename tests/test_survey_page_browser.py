"""The citizen's survey page in real headless Chromium, posting to `hailong serve`."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser import PHONE, chromium
from conftest import SMALL_TOML, write_survey

from hailong.collect.build import build_site
from hailong.collect.serve import make_server
from hailong.layout import Layout
from hailong.survey.load import load_survey
from hailong.templating import HASH_LENGTH

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parent.parent
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BUDGET = 30 * 1024
# the shipped survey with the most questions: the heaviest page
HEAVY = REPO / "surveys" / "sipas-xa-2020"
VN = dt.timezone(dt.timedelta(hours=7))


def open_now(survey):
    """The survey with its window moved around today (Vietnam time): the pages close outside
    it, and the shipped and inline surveys' windows are long over."""
    today = dt.datetime.now(VN).date()
    survey.start, survey.end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    return survey


@pytest.fixture
def survey(survey_dir):
    """conftest's survey (window 12–14/06/2024), open today."""
    return open_now(load_survey(survey_dir))


class Site:
    """A built site served by `hailong serve` in a thread; can go down and come back."""

    def __init__(self, survey, out: Path):
        self.survey, self.out = survey, out
        build_site([survey], out)
        self.server = None
        self.port = 0
        self.start()

    def start(self) -> None:
        self.server = make_server([self.survey], self.out, port=self.port)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, code: str = "X01", query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{self.survey.id}/u/{code}/{query}"

    def rows(self) -> list[dict[str, str]]:
        sheet = Layout(self.out, self.survey.id).sheet_csv
        if not sheet.exists():
            return []
        with sheet.open(encoding="utf-8-sig", newline="") as fh:
            return list(csv.DictReader(fh))

    def wait_rows(self, n: int, seconds: float = 20, page=None) -> list[dict[str, str]]:
        """Wait for n rows; give the page when a route handler must run meanwhile (Playwright's
        sync API runs handlers only while it is called)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(self.rows()) < n:
            if page is not None:
                page.wait_for_timeout(100)
            else:
                time.sleep(0.1)
        return self.rows()


@pytest.fixture
def site(survey, tmp_path):
    s = Site(survey, tmp_path / "out")
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def save_screenshot(page, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("HAILONG_SCREENSHOTS"):
        target = Path(os.environ["HAILONG_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


ANSWERS = {"q1": "Hài lòng", "q2": "Rất hài lòng", "q3": "Bình thường", "kenh": "Người quen"}


def answer_all(page, comment: str = "Cán bộ nhiệt tình, hướng dẫn rõ ràng.") -> None:
    page.get_by_text("Tổ chức", exact=True).click()
    for qid, label in ANSWERS.items():
        page.locator(f'fieldset[data-q="{qid}"] label').filter(has_text=re.compile(f"^{label}$")).click()
    page.fill('textarea[name="gop_y"]', "Nên có thêm ghế chờ")
    page.fill('textarea[name="comment"]', comment)


def expected(row: dict[str, str]) -> None:
    assert row["unit_code"] == "X01"
    assert row["survey_id"] == "thu-nghiem"
    assert row["respondent_type"] == "organization"
    assert (row["q1"], row["q2"], row["q3"], row["kenh"]) == ("4", "5", "3", "Người quen")
    assert row["gop_y"] == "Nên có thêm ghế chờ"
    uuid.UUID(row["response_id"])  # a real UUID


def test_citizen_answers_every_question_on_a_phone(site, browser, tmp_path):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url())
    assert page.locator("h1").inner_text().replace("\n", " ") == "Đánh giá: Xã Tiên Điền"
    # large text and big touch targets
    assert float(page.eval_on_selector("body", "e => getComputedStyle(e).fontSize")[:-2]) >= 18
    heights = page.eval_on_selector_all("fieldset label", "ls => ls.map(l => l.getBoundingClientRect().height)")
    assert heights and min(heights) >= 48
    assert page.locator("#gui").bounding_box()["height"] >= 48
    # progress, updated as the citizen answers
    assert page.locator("#tien-trinh-chu").inner_text() == "Đã trả lời 0/5 câu"
    save_screenshot(page, tmp_path, "survey-page-top")
    answer_all(page)
    assert page.locator("#tien-trinh-chu").inner_text() == "Đã trả lời 5/5 câu"
    chosen = page.locator('fieldset[data-q="q1"] label', has=page.locator("input:checked"))
    assert chosen.evaluate("l => getComputedStyle(l).backgroundColor") == "rgb(11, 58, 110)"
    save_screenshot(page, tmp_path, "survey-page-answered", full_page=True)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    assert "đã được gửi" in page.locator("#cam-on-chu").inner_text()
    save_screenshot(page, tmp_path, "survey-page-thanks")
    rows = site.wait_rows(1)
    assert len(rows) == 1
    row = rows[0]
    expected(row)
    assert row["comment"] == "Cán bộ nhiệt tình, hướng dẫn rõ ràng."
    device = page.evaluate("localStorage.getItem('hailong:device')")
    assert row["device_id"] == device and uuid.UUID(device)
    assert row["started_at"].endswith("Z") and row["submitted_at"]
    assert page.evaluate("localStorage.getItem('hailong:outbox')") == "[]"
    context.close()


def test_works_with_javascript_off(site, browser, tmp_path):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url())
    assert page.locator("#tien-trinh").is_hidden()  # the JS progress bar stays out of the way
    assert page.locator("legend", has_text="Câu 3/5").is_visible()  # progress in the legends
    answer_all(page, comment="Không dùng JavaScript")
    save_screenshot(page, tmp_path, "survey-page-no-js", full_page=True)
    page.click("#gui")
    page.wait_for_url(f"**/{site.survey.id}/cam-on/")
    assert "Cảm ơn Ông/Bà đã góp ý" in page.locator("h1").inner_text()
    rows = site.wait_rows(1)
    assert len(rows) == 1
    expected(rows[0])
    assert rows[0]["comment"] == "Không dùng JavaScript"
    assert rows[0]["device_id"] == ""  # nothing the browser could keep without JavaScript
    context.close()


def test_required_answers_are_checked_before_sending(site, browser):
    page = browser.new_context(**PHONE).new_page()
    page.goto(site.url())
    page.locator('fieldset[data-q="q1"] label').filter(has_text=re.compile("^Hài lòng$")).click()
    page.click("#gui")
    alert = page.locator("#thong-bao")
    assert alert.is_visible()
    text = alert.inner_text()
    assert "Còn 2 câu bắt buộc chưa trả lời" in text and "Câu 3/5" in text
    # focus on the first missing answer: the respondent type
    assert page.evaluate("document.activeElement.name") == "respondent_type"
    assert page.locator('fieldset[data-q="q3"].missing .err').is_visible()
    page.get_by_text("Cá nhân", exact=True).click()
    page.locator('fieldset[data-q="q3"] label', has_text="Rất hài lòng").click()
    assert page.locator('fieldset[data-q="q3"] .err').count() == 0
    time.sleep(0.3)
    assert site.rows() == []  # nothing was sent while answers were missing
    page.click("#gui")
    assert len(site.wait_rows(1)) == 1
    page.context.close()


# one respondent type and no required question: nothing but survey.js stops an untouched page
NOTHING_REQUIRED_TOML = SMALL_TOML.replace(
    'respondent_types = ["individual", "organization"]', 'respondent_types = ["individual"]'
).replace("required = true\n", "")


def test_untouched_page_is_not_sent(tmp_path, browser):
    """Tapping «Gửi ý kiến» on an untouched page must not send a row of empty answers (which
    the page would then call an answer): at least one scale question must be answered."""
    s = Site(open_now(load_survey(write_survey(tmp_path / "tu-do", toml=NOTHING_REQUIRED_TOML))),
             tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(s.url())
        assert page.locator("[data-required], [required]").count() == 0
        page.click("#gui")
        alert = page.locator("#thong-bao")
        assert alert.is_visible()
        assert alert.inner_text() == ('Ông/Bà chưa trả lời câu nào. Xin chọn ít nhất một câu trả lời '
                                      'rồi bấm "Gửi ý kiến".')
        # taken to the first question, which says what to do
        assert page.evaluate("document.activeElement.name") == "q1"
        assert page.locator('fieldset[data-q="q1"].missing .err').is_visible()
        assert page.locator("#cam-on").is_hidden() and page.locator("#gui").is_enabled()
        # a choice and comments without any scale answer count for nothing either
        page.locator('fieldset[data-q="kenh"] label', has_text="Người quen").click()
        page.fill('textarea[name="gop_y"]', "Nên có thêm ghế chờ")
        page.click("#gui")
        assert "chưa trả lời câu nào" in alert.inner_text()
        assert page.evaluate("localStorage.getItem('hailong:outbox')") is None
        page.wait_for_timeout(300)
        assert s.rows() == []
        # one scale answer, not the first question's: the mark goes and the answer is sent
        page.locator('fieldset[data-q="q2"] label').filter(has_text=re.compile("^Hài lòng$")).click()
        assert page.locator(".err").count() == 0
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        rows = s.wait_rows(1)
        assert len(rows) == 1
        assert (rows[0]["q1"], rows[0]["q2"], rows[0]["q3"], rows[0]["kenh"]) == ("", "4", "", "Người quen")
        page.context.close()
    finally:
        s.stop()


def window_toml(start: dt.date, end: dt.date) -> str:
    return (SMALL_TOML.replace('start = "2024-06-12"', f'start = "{start}"')
            .replace('end = "2024-06-14"', f'end = "{end}"'))


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate("axe.run(document).then(r => r.violations.filter("
                         "v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id))")


def test_page_closes_outside_the_survey_window(tmp_path, browser):
    """A poster left up after the survey: the page says the survey is over instead of showing
    a form whose answers `score` would throw away; before the start it says when it opens."""
    past = Site(load_survey(write_survey(tmp_path / "cu", toml=SMALL_TOML)), tmp_path / "out")
    try:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.goto(past.url())
        note = page.locator("#ngoai-dot")
        assert note.is_visible()
        assert note.inner_text() == "Đợt khảo sát đã kết thúc ngày 14/06/2024. Cảm ơn Ông/Bà đã quan tâm."
        for hidden in ("#phieu", "#huong-dan", "#tien-trinh", ".intro", "#da-gui", "#cam-on"):
            assert page.locator(hidden).is_hidden(), hidden
        assert page.locator("h1").inner_text().replace("\n", " ") == "Đánh giá: Xã Tiên Điền"
        save_screenshot(page, tmp_path, "survey-page-closed")
        assert small_text(page, 3) == []
        if AXE.exists():
            assert axe_violations(page) == []
        # an answer saved while the survey was open still goes: nothing is lost
        action = page.eval_on_selector("#phieu", "f => f.action")
        body = {"survey_id": "thu-nghiem", "unit_code": "X02", "response_id": str(uuid.uuid4()),
                "respondent_type": "individual", "q3": "5", "started_at": "2024-06-14T09:00:00.000Z"}
        page.evaluate("([url, body]) => localStorage.setItem('hailong:outbox', JSON.stringify("
                      "[{id: body.response_id, url: url, key: 'hailong:done:x', body: JSON.stringify(body)}]))",
                      [action, body])
        page.reload()
        rows = past.wait_rows(1)
        assert len(rows) == 1 and rows[0]["response_id"] == body["response_id"]
        assert note.is_visible() and page.locator("#phieu").is_hidden()
        # staff trying a past survey's form: ?xem-thu opens it anyway
        page.goto(past.url() + "?xem-thu")
        assert page.locator("#phieu").is_visible() and note.is_hidden()
        context.close()

        # the last day counts until midnight in Vietnam (UTC+7), whatever the phone's zone
        for moment, open_ in (("2024-06-14T16:59:00+00:00", True), ("2024-06-14T17:00:00+00:00", False),
                              ("2024-06-11T17:00:00+00:00", True), ("2024-06-11T16:59:00+00:00", False)):
            context = browser.new_context(**PHONE, timezone_id="America/New_York")
            page = context.new_page()
            page.clock.set_fixed_time(dt.datetime.fromisoformat(moment))
            page.goto(past.url())
            assert page.locator("#phieu").is_visible() is open_, moment
            assert page.locator("#ngoai-dot").is_visible() is not open_, moment
            if not open_ and moment.startswith("2024-06-11"):
                assert page.locator("#ngoai-dot").inner_text() == (
                    "Đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày 12/06/2024. Cảm ơn Ông/Bà đã quan tâm.")
            context.close()
    finally:
        past.stop()

    today = dt.datetime.now(VN).date()
    later = today + dt.timedelta(days=10)
    toml = window_toml(later, later + dt.timedelta(days=5)).replace(
        'year = 2024\n', 'year = 2024\naccess = "roster"\n')
    future = Site(load_survey(write_survey(tmp_path / "sau", toml=toml)), tmp_path / "out2")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(future.url())  # no personal token: still only the date is said
        assert page.locator("#ngoai-dot").inner_text() == (
            f"Đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày {later:%d/%m/%Y}. Cảm ơn Ông/Bà đã quan tâm.")
        assert page.locator("#phieu").is_hidden() and page.locator("#can-link").is_hidden()
        page.context.close()
    finally:
        future.stop()


def test_send_while_collector_is_down_is_retried_once(site, browser, tmp_path):
    page = browser.new_context(**PHONE).new_page()
    page.goto(site.url())
    answer_all(page)
    site.stop()  # the collector goes down after the page has loaded
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    assert "sẽ tự gửi lại khi có mạng" in page.locator("#cam-on-chu").inner_text()
    save_screenshot(page, tmp_path, "survey-page-queued")
    outbox = page.evaluate("JSON.parse(localStorage.getItem('hailong:outbox'))")
    assert len(outbox) == 1
    time.sleep(1)
    assert site.rows() == []
    site.start()  # back on the same port: the backoff timer resends
    rows = site.wait_rows(1, seconds=30)
    assert len(rows) == 1
    expected(rows[0])
    assert rows[0]["response_id"] == outbox[0]["id"]
    page.wait_for_function("document.getElementById('cam-on-chu').textContent.indexOf('đã được gửi') >= 0")
    assert page.evaluate("localStorage.getItem('hailong:outbox')") == "[]"
    # nothing left to send: a reload or an `online` event sends nothing more
    page.reload()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    time.sleep(1)
    assert len(site.rows()) == 1
    page.context.close()


def test_offline_phone_sends_when_back_online(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url())
    answer_all(page)
    context.set_offline(True)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    assert "chưa gửi đi được" in page.locator("#cam-on-chu").inner_text()
    context.set_offline(False)  # fires `online`: the outbox is sent at once
    rows = site.wait_rows(1, seconds=10)
    assert len(rows) == 1
    expected(rows[0])
    context.close()


def test_failed_send_is_resent_on_the_next_page_load(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.route("**/api/responses", lambda route: route.abort())
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    page.close()  # the citizen closes the tab before any retry
    assert site.rows() == []
    later = context.new_page()
    later.goto(site.url("X02"))  # another page of the site, another day
    rows = site.wait_rows(1, seconds=10)
    assert len(rows) == 1 and rows[0]["unit_code"] == "X01"
    context.close()


def test_second_visit_says_already_answered(site, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    page.goto(site.url())
    assert page.locator("#da-gui").is_visible()
    assert "Ông/Bà đã gửi ý kiến cho đơn vị này" in page.locator("#da-gui").inner_text()
    assert page.locator("#phieu").is_hidden()
    page.goto(site.url("X02"))  # another unit: the form is there
    assert page.locator("#phieu").is_visible() and page.locator("#da-gui").is_hidden()
    context.close()


KIOSK_TOML = SMALL_TOML + "\n[dedupe]\nby_device = false\n"
ROSTER_KIOSK_TOML = KIOSK_TOML.replace('year = 2024\n', 'year = 2024\naccess = "roster"\n')


def test_shared_kiosk_lets_the_next_person_answer(tmp_path, browser):
    s = Site(open_now(load_survey(write_survey(tmp_path / "kiosk", toml=KIOSK_TOML))), tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        for n in (1, 2):
            page.goto(s.url())
            if n == 2:
                assert page.locator("#nguoi-khac").inner_text() == "Người khác muốn góp ý trên máy này"
                page.click("#nguoi-khac")
            answer_all(page)
            page.click("#gui")
            page.wait_for_selector("#cam-on:not([hidden])")
        rows = s.wait_rows(2)
        assert len(rows) == 2 and rows[0]["response_id"] != rows[1]["response_id"]
        assert rows[0]["device_id"] == rows[1]["device_id"]
        page.context.close()
    finally:
        s.stop()


@pytest.mark.parametrize("query", ["?t=HTX-007.abcDEF_123-xyz", "#t=HTX-007.abcDEF_123-xyz"])
def test_personal_link_token_becomes_respondent_key(site, browser, query):
    page = browser.new_context(**PHONE).new_page()
    page.goto(site.url(query=query))
    answer_all(page)
    page.click("#gui")
    rows = site.wait_rows(1)
    assert rows[0]["respondent_key"] == "HTX-007.abcDEF_123-xyz"
    page.context.close()


def test_page_weight_and_no_other_host(tmp_path, browser):
    """The heaviest shipped survey page, with everything it loads, under 30 KB uncompressed."""
    survey = open_now(load_survey(HEAVY))
    s = Site(survey, tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        loaded: list[tuple[str, int]] = []
        page.on("requestfinished", lambda r: loaded.append((r.url, len(r.response().body()))))
        page.goto(s.url(survey.units[0].code), wait_until="networkidle")
        hosts = {urlsplit(url).netloc for url, _ in loaded}
        assert hosts == {f"127.0.0.1:{s.port}"}
        weight = sum(n for _, n in loaded)
        print(f"\nsurvey page weight ({survey.id}, {len(survey.questions)} questions): "
              f"{weight} bytes ({weight / 1024:.1f} KB) in {len(loaded)} requests")
        # the stylesheet is inlined: nothing render-blocking is fetched before the first paint
        # (static files are named with a hash of their content: survey.<hash>.js)
        names = {re.sub(rf"\.[0-9a-f]{{{HASH_LENGTH}}}(?=\.)", "", urlsplit(url).path.rsplit("/", 1)[-1])
                 for url, _ in loaded}
        assert names - {"favicon.ico", "favicon.svg"} == {"", "survey.js"}
        assert weight < BUDGET
        page.context.close()
    finally:
        s.stop()


def test_keyboard_only(site, browser):
    page = browser.new_context(**PHONE).new_page()
    page.goto(site.url())
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.focus('input[name="respondent_type"]')
    page.keyboard.press("Space")
    assert page.locator('input[name="respondent_type"]').first.is_checked()
    page.keyboard.press("ArrowDown")  # arrow keys move within a group, as on any radio group
    assert page.locator('input[name="respondent_type"][value="organization"]').is_checked()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # visible focus
    page.context.close()


def test_accessibility_axe(site, browser, tmp_path):
    if not AXE.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{AXE} missing: run `npm install --no-audit --no-fund` (make node)")
        pytest.skip("axe-core not installed: run `npm install --no-audit --no-fund` (make node)")
    page = browser.new_context(**PHONE).new_page()
    results = []
    for url in (site.url(), f"http://127.0.0.1:{site.port}/{site.survey.id}/",
                f"http://127.0.0.1:{site.port}/", f"http://127.0.0.1:{site.port}/{site.survey.id}/cam-on/"):
        page.goto(url)
        page.add_script_tag(path=str(AXE))
        found = page.evaluate("axe.run(document).then(r => r.violations.map("
                              "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length})))")
        results += [(url, v) for v in found]
    # the state after a failed check too: the error messages and the alert
    page.goto(site.url())
    page.click("#gui")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("axe.run(document).then(r => r.violations.map("
                          "v => ({id: v.id, impact: v.impact, nodes: v.nodes.length})))")
    results += [("after check", v) for v in found]
    serious = [(u, v) for u, v in results if v["impact"] in ("serious", "critical")]
    assert serious == [], serious
    page.context.close()


def test_roster_page_asks_for_the_personal_link(tmp_path, browser):
    toml = SMALL_TOML.replace('year = 2024\n', 'year = 2024\naccess = "roster"\n')
    s = Site(open_now(load_survey(write_survey(tmp_path / "htx", toml=toml))), tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(s.url())
        assert "đường link riêng" in page.locator("#can-link").inner_text()
        page.goto(s.url(query="?t=HTX-1.sig"))
        assert page.locator("#can-link").is_hidden()
        page.context.close()
    finally:
        s.stop()


def test_sends_even_where_storage_is_refused(site, browser):
    """Some in-app browsers refuse localStorage: the answer must still go, once."""
    context = browser.new_context(**PHONE)
    context.add_init_script("Object.defineProperty(window, 'localStorage', "
                            "{get: function () { throw new Error('denied'); }})")
    page = context.new_page()
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    page.wait_for_function("document.getElementById('cam-on-chu').textContent.indexOf('đã được gửi') >= 0")
    rows = site.wait_rows(1)
    assert len(rows) == 1
    expected(rows[0])
    assert rows[0]["device_id"]  # made for this page even if it cannot be kept
    context.close()


def test_server_error_is_retried_and_refusal_is_not(site, browser):
    page = browser.new_context(**PHONE).new_page()
    calls: list[int] = []

    def flaky(route):
        calls.append(1)
        if len(calls) == 1:
            route.fulfill(status=503, content_type="application/json", body='{"ok": false}')
        else:
            route.continue_()

    page.route("**/api/responses", flaky)
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    rows = site.wait_rows(1, seconds=15, page=page)
    assert len(rows) == 1 and len(calls) == 2
    page.wait_for_function("document.getElementById('cam-on-chu').textContent.indexOf('đã được gửi') >= 0")

    # a refusal (400: the collector will never take it) is not retried: the citizen is told
    page.unroute("**/api/responses")
    page.route("**/api/responses", lambda route: (calls.append(1), route.fulfill(
        status=400, content_type="application/json", body='{"ok": false, "error": "Mã đơn vị sai"}')))
    page.goto(site.url("X02"))
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#thong-bao:not([hidden])")
    assert "Máy chủ không nhận phiếu: Mã đơn vị sai" in page.locator("#thong-bao").inner_text()
    assert page.locator("#phieu").is_visible()
    assert page.evaluate("localStorage.getItem('hailong:outbox')") == "[]"
    page.wait_for_timeout(1000)
    assert len(calls) == 3 and len(site.rows()) == 1
    page.context.close()


def test_cooperative_may_send_again_to_correct_its_answer(tmp_path, browser):
    """Roster access keeps a cooperative's last answer: the button offers to send it again."""
    s = Site(open_now(load_survey(write_survey(tmp_path / "htx", toml=ROSTER_KIOSK_TOML))), tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(s.url(query="?t=HTX-1.sig"))
        answer_all(page)
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        page.goto(s.url(query="?t=HTX-1.sig"))
        assert "Ông/Bà đã gửi ý kiến cho đơn vị này" in page.locator("#da-gui").inner_text()
        assert page.locator("#nguoi-khac").inner_text() == "Gửi lại phiếu (sửa câu trả lời)"
        page.click("#nguoi-khac")
        answer_all(page, comment="Sửa lại")
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        rows = s.wait_rows(2)
        assert [r["respondent_key"] for r in rows] == ["HTX-1.sig", "HTX-1.sig"]
        assert rows[1]["comment"] == "Sửa lại" and rows[0]["response_id"] != rows[1]["response_id"]
        page.context.close()
    finally:
        s.stop()


# every element with text of its own, rendered: its computed size (rem is the browser's 16 px,
# not the body's 19 px, so a rem size below 1.125 is under the 18 px minimum)
SMALL_TEXT_JS = """() => {
  const small = [];
  let seen = 0;
  for (const el of document.body.querySelectorAll('*')) {
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    seen++;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < 18) small.push(el.tagName + '.' + el.className + ' ' + px + 'px: ' + el.textContent.trim().slice(0, 30));
  }
  return {seen, small};
}"""


def small_text(page, least: int) -> list[str]:
    found = page.evaluate(SMALL_TEXT_JS)
    assert found["seen"] >= least  # the check looked at the page's texts
    return found["small"]


def test_every_text_is_at_least_18px(tmp_path, browser):
    """Question text, «Câu n/23», «(bắt buộc)», help, kicker, district, progress, buttons,
    messages, header and footer: each at least 18 px on a phone, in every state of the page."""
    survey = open_now(load_survey(HEAVY))
    s = Site(survey, tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(s.url(survey.units[0].code))
        assert page.locator(".help").count() and page.locator(".parent").count()
        assert small_text(page, 100) == []
        page.click("#gui")  # nothing answered: the error under each required question and the alert
        assert page.locator(".err").count() and page.locator("#thong-bao").is_visible()
        assert small_text(page, 100) == []
        page.route("**/api/responses", lambda route: route.abort())
        page.check('input[name="respondent_type"][value="individual"]')
        for name in page.eval_on_selector_all("fieldset[data-q] input[type=radio]",
                                              "els => [...new Set(els.map(e => e.name))]"):
            page.locator(f'input[name="{name}"]').last.check()
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        assert small_text(page, 5) == []
        page.goto(f"http://127.0.0.1:{s.port}/{survey.id}/cam-on/")  # the no-JavaScript thank-you page
        assert small_text(page, 5) == []
        page.context.close()
    finally:
        s.stop()
    s = Site(open_now(load_survey(write_survey(tmp_path / "kiosk", toml=KIOSK_TOML))), tmp_path / "out2")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(s.url())
        answer_all(page)
        page.click("#gui")
        page.wait_for_selector("#cam-on:not([hidden])")
        page.goto(s.url())  # «already answered» and the kiosk button
        assert page.locator("#nguoi-khac").is_visible()
        assert small_text(page, 5) == []
        page.context.close()
    finally:
        s.stop()


def outbox(page) -> list[dict]:
    return page.evaluate("JSON.parse(localStorage.getItem('hailong:outbox') || '[]')")


def test_new_answer_is_not_held_up_by_an_older_failing_one(tmp_path, browser):
    """A shared kiosk while the collector is unreachable: each citizen is told the answer is
    saved (never left on «Đang gửi…»), and every saved answer goes once it is back."""
    s = Site(open_now(load_survey(write_survey(tmp_path / "kiosk", toml=KIOSK_TOML))), tmp_path / "out")
    try:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.route("**/api/responses", lambda route: route.abort())
        ids = []
        for n, code in enumerate(("X01", "X01", "X02")):
            page.goto(s.url(code))
            if n == 1:
                page.click("#nguoi-khac")
            answer_all(page)
            page.click("#gui")
            page.wait_for_selector("#cam-on:not([hidden])", timeout=10000)
            assert "chưa gửi đi được" in page.locator("#cam-on-chu").inner_text()
            ids.append(page.eval_on_selector('input[name="response_id"]', "e => e.value"))
            assert sorted(x["id"] for x in outbox(page)) == sorted(ids)
        assert s.rows() == []
        page.unroute("**/api/responses")
        page.evaluate("window.dispatchEvent(new Event('online'))")
        rows = s.wait_rows(3, seconds=30)
        assert sorted(r["response_id"] for r in rows) == sorted(ids)
        assert [r["unit_code"] for r in rows].count("X01") == 2
        page.wait_for_function("document.getElementById('cam-on-chu').textContent.indexOf('đã được gửi') >= 0")
        assert outbox(page) == []
        context.close()
    finally:
        s.stop()


def test_refusal_after_a_failed_send_is_shown(site, browser):
    """First try lost on the network, the retry refused: the citizen sees the form again, with
    the answers and the reason, not a page saying it will be sent later."""
    page = browser.new_context(**PHONE).new_page()
    calls: list[int] = []

    def lost_then_refused(route):
        calls.append(1)
        if len(calls) == 1:
            route.abort()
        else:
            route.fulfill(status=400, content_type="application/json",
                          body='{"ok": false, "error": "Mã đơn vị không đúng"}')

    page.route("**/api/responses", lost_then_refused)
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    assert "sẽ tự gửi lại" in page.locator("#cam-on-chu").inner_text()
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_selector("#thong-bao:not([hidden])", timeout=10000)
    assert "Máy chủ không nhận phiếu: Mã đơn vị không đúng" in page.locator("#thong-bao").inner_text()
    assert page.locator("#phieu").is_visible() and page.locator("#cam-on").is_hidden()
    assert page.locator('fieldset[data-q="q1"] input:checked').get_attribute("value") == "4"
    assert page.locator("#gui").is_enabled() and page.locator("#gui").inner_text() == "Gửi ý kiến"
    assert outbox(page) == [] and len(calls) == 2
    page.context.close()


def test_only_a_json_ok_counts_as_sent(site, browser):
    """A 200 that is not the collector's JSON {ok: true} (a captive portal, a proxy page) is a
    failure to retry; an Apps Script refusal comes as 200 {ok: false} and is shown."""
    page = browser.new_context(**PHONE).new_page()
    calls: list[str] = []

    def portal_first(route):
        calls.append(route.request.post_data)
        if len(calls) == 1:
            route.fulfill(status=200, content_type="text/html", body="<html><body>Đăng nhập Wi-Fi</body></html>")
        else:
            route.continue_()

    page.route("**/api/responses", portal_first)
    page.goto(site.url())
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    assert "chưa gửi đi được" in page.locator("#cam-on-chu").inner_text()
    saved = outbox(page)
    assert len(saved) == 1
    page.evaluate("window.dispatchEvent(new Event('online'))")
    rows = site.wait_rows(1, seconds=15, page=page)
    assert len(rows) == 1 and rows[0]["response_id"] == saved[0]["id"] and len(calls) == 2
    page.wait_for_function("document.getElementById('cam-on-chu').textContent.indexOf('đã được gửi') >= 0")

    page.unroute("**/api/responses")
    page.route("**/api/responses", lambda route: route.fulfill(
        status=200, content_type="application/json", body='{"ok": false, "error": "Ngoài thời gian khảo sát"}'))
    page.goto(site.url("X02"))
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#thong-bao:not([hidden])")
    assert "Máy chủ không nhận phiếu: Ngoài thời gian khảo sát" in page.locator("#thong-bao").inner_text()
    assert outbox(page) == []
    page.context.close()


def test_a_full_outbox_keeps_every_answer_and_says_so(site, browser):
    """An offline kiosk with 500 answers waiting: the next one is kept too, and the page says
    how many wait, so staff can connect the device."""
    page = browser.new_context(**PHONE).new_page()
    page.route("**/api/responses", lambda route: route.abort())
    page.goto(site.url())
    action = page.eval_on_selector("#phieu", "f => f.action")
    old = [{"id": f"old-{i}", "url": action, "key": "hailong:done:old", "body": "{}"} for i in range(500)]
    page.evaluate("items => localStorage.setItem('hailong:outbox', JSON.stringify(items))", old)
    answer_all(page)
    page.click("#gui")
    page.wait_for_selector("#cam-on:not([hidden])")
    text = page.locator("#cam-on-chu").inner_text()
    assert "chưa gửi đi được" in text and "501 phiếu chưa gửi được" in text
    new = page.eval_on_selector('input[name="response_id"]', "e => e.value")
    assert {x["id"] for x in outbox(page)} == {x["id"] for x in old} | {new}
    page.context.close()


def first_contentful_paint(browser, url: str) -> float:
    """Milliseconds to the first contentful paint of `url` on a throttled phone: slow 3G as
    Lighthouse's mobile profile has it (300 ms round trip, 400 kbit/s) and a 6× slower CPU."""
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 300,
            "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})
        page.goto(url, wait_until="load")
        return page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0].startTime")
    finally:
        context.close()


def test_first_paint_on_slow_3g_within_1_5_s(tmp_path, browser):
    """The heaviest shipped survey page paints within 1.5 s on slow 3G: its stylesheet is in
    the page, so nothing render-blocking is fetched first (the script is deferred)."""
    survey = open_now(load_survey(HEAVY))
    s = Site(survey, tmp_path / "out")
    try:
        page_file = tmp_path / "out" / "site" / webapp_path(survey)
        html = page_file.read_text(encoding="utf-8")
        head = html.split("</head>")[0]
        assert '<link rel="stylesheet"' not in head and "<style>" in head
        assert all("defer" in tag for tag in re.findall(r"<script [^>]*src=[^>]*>", html))
        # best of three: the machine running the tests is shared, a slow run is its noise
        times = [first_contentful_paint(browser, s.url(survey.units[0].code)) for _ in range(3)]
        print(f"\nfirst contentful paint, slow 3G and 6x CPU: {', '.join(f'{t:.0f}' for t in times)} ms")
        assert min(times) <= 1500
    finally:
        s.stop()


def webapp_path(survey) -> str:
    from hailong.collect.webapp import unit_page_path

    return unit_page_path(survey.id, survey.units[0].code)


def test_a_closed_page_does_not_jump(tmp_path, browser):
    """The notice is in the form's place from the first paint: no layout shift at all."""
    past = Site(load_survey(write_survey(tmp_path / "cu", toml=SMALL_TOML)), tmp_path / "out")
    try:
        context = browser.new_context(**PHONE)
        page = context.new_page()
        page.add_init_script("""
            window.__shifts = [];
            new PerformanceObserver(l => l.getEntries().forEach(e => window.__shifts.push(e.value)))
              .observe({type: 'layout-shift', buffered: true});
            window.__formSeen = false;
            new MutationObserver(() => {
              const f = document.getElementById('phieu');
              if (f && f.getBoundingClientRect().height > 0) { window.__formSeen = true; }
            }).observe(document, {childList: true, subtree: true});""")
        page.goto(past.url(), wait_until="load")
        page.wait_for_timeout(500)
        assert page.locator("#ngoai-dot").is_visible()
        assert page.evaluate("window.__shifts") == []
        assert page.evaluate("window.__formSeen") is False
        context.close()
    finally:
        past.stop()


@pytest.mark.parametrize("when,visible", [("past", True), ("now", False)])
def test_a_closed_survey_landing_page_says_it_has_ended(tmp_path, browser, when, visible):
    survey = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML))
    if when == "now":
        survey = open_now(survey)
    s = Site(survey, tmp_path / "out")
    try:
        page = browser.new_context(**PHONE).new_page()
        page.goto(f"http://127.0.0.1:{s.port}/{survey.id}/")
        note = page.locator("#ngoai-dot")
        assert note.is_visible() is visible
        if visible:
            assert note.inner_text() == ("Đợt khảo sát đã kết thúc ngày 14/06/2024; trang không "
                                         "nhận thêm phiếu. Cảm ơn Ông/Bà đã quan tâm.")
            assert page.locator(".chon-don-vi").is_hidden()
        else:
            assert page.locator(".chon-don-vi a").first.is_visible()
        description = page.locator('meta[name="description"]').get_attribute("content")
        assert description.startswith("Khảo sát thử nghiệm") and f"{survey.end:%d/%m/%Y}" in description
        icons = page.locator('link[rel="icon"]')
        assert icons.count() == 2
        for href in [icons.nth(i).get_attribute("href") for i in range(2)]:
            response = page.request.get(f"http://127.0.0.1:{s.port}/{survey.id}/{href}")
            assert response.ok and len(response.body()) > 100, href
        page.context.close()
    finally:
        s.stop()
