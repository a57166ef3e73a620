"""The daily report lists the signs of ballot stuffing first, in every format staff read."""

from __future__ import annotations

import datetime as dt

from signal_data import scored_with_signals

from hailong.field import progress as pg
from hailong.layout import Layout

DAY = dt.date(2024, 6, 13)


def test_text_report_lists_signals_before_the_table(tmp_path):
    s, out = scored_with_signals(tmp_path)
    text = pg.progress_report(s, out, day=DAY, refresh=False)
    head, _, rest = text.partition("DẤU HIỆU BẤT THƯỜNG, CẦN KIỂM TRA (1 đơn vị):")
    assert rest, text
    assert "Hôm nay" not in head  # the table comes after
    section = rest.split("\n\n")[0]
    assert "X01  Xã Tiên Điền" in section
    assert "- Nhiều phiếu từ một thiết bị: 12 phiếu từ 1 thiết bị" in section
    assert "- Nhiều phiếu trả lời giống hệt nhau: 11 phiếu (92% số phiếu)" in section
    assert "Xuân An" not in section


def test_zalo_report_starts_with_signals(tmp_path):
    s, out = scored_with_signals(tmp_path)
    text = pg.progress_report(s, out, day=DAY, fmt="zalo", refresh=False)
    body = text.split("\n\n", 1)[1]
    assert body.startswith("DẤU HIỆU BẤT THƯỜNG, CẦN KIỂM TRA (1 đơn vị):\n1. Xã Tiên Điền\n- ")
    assert all(len(m) < pg.ZALO_LIMIT for m in text.split("\n\n----------\n\n"))


def test_no_signals_no_section(tmp_path):
    s, out = scored_with_signals(tmp_path)
    Layout(out, s.id).data_file("signals.csv").unlink()  # scored by a version without signals
    assert "DẤU HIỆU" not in pg.progress_report(s, out, day=DAY, refresh=False)


def test_staff_page_shows_signals_first_in_chromium(tmp_path):
    from browser import DESKTOP, chromium

    s, out = scored_with_signals(tmp_path)
    pg.progress_report(s, out, day=DAY, fmt="html", refresh=False)
    page_file = Layout(out, s.id).staff / "index.html"
    with chromium() as browser:
        page = browser.new_page(**DESKTOP)
        page.goto(page_file.as_uri())
        alert = page.get_by_role("alert").first
        assert alert.is_visible()
        assert alert.locator("h2").inner_text() == "Cần kiểm tra: dấu hiệu phiếu bất thường"
        signals = alert.locator("[data-signal]")
        assert [signals.nth(i).get_attribute("data-signal") for i in range(signals.count())] == [
            "identical", "straightline", "device"]
        # above the cards of the units
        assert alert.bounding_box()["y"] < page.locator("ol.cards li.card").first.bounding_box()["y"]
