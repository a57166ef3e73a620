"""The staff data-entry page for paper questionnaires (contract v3, section 9) in real headless
Chromium, driven by the keyboard alone, posting to `hailong serve`; its outbox offline; two
clerks' keyings scored into one answer; the page kept out of what build publishes."""

from __future__ import annotations

import json

import pytest
from browser import DESKTOP, chromium
from conftest import SMALL_TOML, write_survey
from test_survey_page_browser import Site, open_now

from hailong.collect.paper import make_paper
from hailong.ingest.pull import pull
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.sitefiles import entries
from hailong.survey.load import load_survey

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]
KEY = "entry-test-key-0123456789"
TOML = SMALL_TOML + "\n[entry]\nenabled = true\n"


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def printed(tmp_path, monkeypatch):
    """An open survey with the entry page on, two paper forms printed for X01 (their tickets
    issued), then the site built and served."""
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    survey = open_now(load_survey(write_survey(tmp_path / "s", TOML)))
    out = tmp_path / "out"
    make_paper(survey, out, base_url="https://khaosat.example.gov.vn", units=["X01"], count=2,
               day=survey.start)
    forms = (Layout(out, survey.id).root / "paper" / "forms.csv").read_text("utf-8-sig")
    codes = [line.split(",")[0] for line in forms.splitlines()[1:]]
    site = Site(survey, out)
    yield site, codes
    site.stop()


def entry_url(site) -> str:
    return f"http://127.0.0.1:{site.port}/{site.survey.id}/nhap-phieu/"


def start_session(page, clerk: str, keying: str) -> None:
    page.keyboard.type(clerk)
    page.keyboard.press("Tab")
    page.keyboard.type(keying)  # a <select> takes the first option starting with what is typed
    page.keyboard.press("Enter")
    page.wait_for_selector("#phieu-giay:not([hidden])")


def key_form(page, unit: str, code: str, answers: str, comment: str = "") -> None:
    """Unit, code, then one digit per answer (the type, q1, q2, q3, kenh), then the texts."""
    if page.evaluate("document.activeElement.id") == "don-vi":
        page.keyboard.type(unit)
        page.keyboard.press("Tab")
    page.keyboard.type(code)
    page.keyboard.press("Tab")
    for digit in answers:
        page.keyboard.press(digit)
    page.keyboard.type("Ghế chờ ít")  # gop_y, a text question
    page.keyboard.press("Tab")
    page.keyboard.type(comment)
    page.keyboard.press("Enter")


def test_two_clerks_key_a_form_with_the_keyboard_alone(printed, browser):
    site, codes = printed
    answers = "2" + "453" + "2"  # organisation; q1 4, q2 5, q3 3; kenh: Người quen
    for clerk, keying in (("nv01", "1"), ("nv02", "2")):
        context = browser.new_context(**DESKTOP)
        page = context.new_page()
        page.goto(entry_url(site))
        assert page.evaluate("document.activeElement.id") == "nguoi-nhap"
        start_session(page, clerk, keying)
        # the code typed with spaces and in lower case is read as the printed ticket
        typed = " ".join([codes[0][:4].lower(), codes[0][4:8], codes[0][8:]])
        key_form(page, "X01", typed, answers)
        page.wait_for_function("document.getElementById('cho-gui').textContent === '0'")
        # the session is remembered for the next form: only the code is asked again
        assert page.evaluate("document.activeElement.id") == "ma-phieu"
        page.reload()
        assert page.locator("#phieu-giay").is_visible() and page.locator("#phien").is_hidden()
        context.close()
    rows = site.wait_rows(2)
    assert [(r["channel"], r["entered_by"], r["entry"]) for r in rows] == [
        ("paper", "nv01", "1"), ("paper", "nv02", "2")]
    assert {r["ticket"] for r in rows} == {codes[0]}
    assert [(r["respondent_type"], r["q1"], r["q2"], r["q3"], r["kenh"], r["gop_y"])
            for r in rows] == [("organization", "4", "5", "3", "Người quen", "Ghế chờ ít")] * 2
    survey = site.survey
    pull(survey, site.out)
    score(survey, site.out)
    data = Layout(site.out, survey.id).data
    accepted = data.joinpath("responses.csv").read_text("utf-8-sig").splitlines()[1:]
    duplicates = data.joinpath("duplicates.csv").read_text("utf-8-sig")
    assert len(accepted) == 1 and "second_entry" in duplicates


def test_a_mistyped_code_is_caught_before_sending(printed, browser):
    site, codes = printed
    page = browser.new_context(**DESKTOP).new_page()
    page.goto(entry_url(site))
    start_session(page, "nv01", "1")
    wrong = codes[0][:-1] + ("Z" if codes[0][-1] != "Z" else "Y")
    key_form(page, "X01", wrong, "14530")
    assert "không có trong danh sách" in page.locator("#kiem-tra-ma").inner_text()
    assert page.evaluate("document.activeElement.id") == "ma-phieu"
    page.keyboard.type("ABC")
    assert "chữ và số" in page.locator("#kiem-tra-ma").inner_text()  # a short code: its shape
    page.wait_for_timeout(300)
    assert site.rows() == []
    assert page.evaluate("localStorage.getItem('hailong:outbox')") in (None, "[]")
    page.context.close()


def test_forms_keyed_offline_wait_in_the_outbox(printed, browser):
    site, codes = printed
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(entry_url(site))
    start_session(page, "nv03", "1")
    context.set_offline(True)
    key_form(page, "X01", codes[0], "13450")
    key_form(page, "X01", codes[1], "25550")
    outbox = json.loads(page.evaluate("localStorage.getItem('hailong:outbox')"))
    assert len(outbox) == 2 and page.locator("#cho-gui").inner_text() == "2"
    assert site.rows() == []
    context.set_offline(False)
    rows = site.wait_rows(2, page=page)
    assert sorted(r["ticket"] for r in rows) == sorted(codes)
    assert all(r["channel"] == "paper" and r["entry"] == "1" for r in rows)
    context.close()


def test_the_entry_page_is_staff_only(printed):
    site, _codes = printed
    survey, out = site.survey, site.out
    page = out / "site" / survey.id / "nhap-phieu" / "index.html"
    html = page.read_text("utf-8")
    assert 'name="robots" content="noindex, nofollow"' in html
    listed = entries(out, survey.id)
    assert {e.path for e in listed if e.audience == "staff"} == {
        f"{survey.id}/nhap-phieu/index.html", f"{survey.id}/nhap-phieu/entry.js"}
    assert not any("nhap-phieu" in e.path for e in listed if e.audience == "public")
    # no public page links to it
    for public in (out / "site").rglob("*.html"):
        if "nhap-phieu" not in public.parts:
            assert "nhap-phieu" not in public.read_text("utf-8"), public
    # no code is in the page: only fingerprints
    assert not any(code in html for code in _codes)
