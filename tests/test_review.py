"""The public pages say "Đang kiểm tra số phiếu" for public signals only, and nothing more."""

from __future__ import annotations

from bs4 import BeautifulSoup
from signal_data import scored_with_signals

from hailong.layout import Layout
from hailong.publish.pages import publish
from hailong.publish.review import units_under_review


def soup(path):
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def test_public_signal_puts_the_neutral_notice(tmp_path):
    s, out = scored_with_signals(tmp_path, public='["device"]')
    publish(s, out)
    results = Layout(out, s.id).results
    note = soup(results / "X01" / "index.html").select_one(".checking-note").get_text()
    assert "Đang kiểm tra số phiếu" in note and "đang được cơ quan tổ chức khảo sát kiểm tra" in note
    for word in ("thiết bị", "giống", "12 phiếu"):  # what fired stays with the staff
        assert word not in note
    assert soup(results / "X02" / "index.html").select_one(".checking-note") is None
    page = soup(results / "index.html")
    flagged = [th.a.get_text() for th in page.select("th.c-name") if th.select_one(".checking")]
    assert flagged == ["Xã Tiên Điền"]


def test_signal_not_public_leaves_the_page_alone(tmp_path):
    s, out = scored_with_signals(tmp_path, public='["burst", "speed"]')
    publish(s, out)
    results = Layout(out, s.id).results
    assert soup(results / "X01" / "index.html").select_one(".checking-note") is None
    assert units_under_review(s, Layout(out, s.id).data_file("signals.csv")) == set()


def test_no_signals_file(tmp_path):
    s, out = scored_with_signals(tmp_path)
    assert units_under_review(s, tmp_path / "nothing.csv") == set()


def test_notice_is_visible_on_a_phone_in_chromium(tmp_path):
    from browser import PHONE, chromium

    s, out = scored_with_signals(tmp_path, public='["device"]')
    publish(s, out)
    page_file = Layout(out, s.id).results / "X01" / "index.html"
    with chromium() as browser:
        page = browser.new_page(**PHONE)
        page.goto(page_file.as_uri())
        note = page.get_by_role("note").filter(has_text="Đang kiểm tra số phiếu")
        assert note.count() == 1 and note.is_visible()
        box = note.bounding_box()
        assert box["width"] <= PHONE["viewport"]["width"]
