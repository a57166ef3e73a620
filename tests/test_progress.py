"""The daily progress report: order, numbers, text/Zalo/CSV/HTML renderings, roster lists."""

from __future__ import annotations

import datetime as dt
import io
import os
import re

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey

from hailong.collect.localsheet import append_row
from hailong.errors import HailongError
from hailong.field import progress as pg
from hailong.layout import Layout
from hailong.survey.load import load_survey
from hailong.survey.tokens import sign

D1, D2 = dt.date(2024, 6, 12), dt.date(2024, 6, 13)
COLS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
        "respondent_key", "device_id", "ticket", "started_at", "q1", "q2", "q3", "kenh",
        "gop_y", "comment"]


def _write_responses(out, survey, rows):
    """rows: (local date, unit, type, key) -> responses.csv as score writes it."""
    recs = []
    for i, (day, unit, rtype, key) in enumerate(rows):
        rec = dict.fromkeys(COLS, "")
        rec.update(submitted_at=f"{day.isoformat()}T09:{i % 60:02d}:00+07:00",
                   response_id=f"r{i}", unit_code=unit, respondent_type=rtype,
                   respondent_key=key, q3="4")
        recs.append(rec)
    path = Layout(out, survey.id).data_file("responses.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(recs, columns=COLS).to_csv(path, index=False)


def report(survey, out, **kw):
    """The report from the scored data the test wrote, without pulling and scoring again."""
    return pg.progress_report(survey, out, refresh=False, **kw)


def _sheet_row(survey, i, day, unit, rtype, key=""):
    return {"submitted_at": f"{day.isoformat()}T09:{i % 60:02d}:00+07:00",
            "response_id": f"sheet-{i}", "survey_id": survey.id, "unit_code": unit,
            "respondent_type": rtype, "respondent_key": key, "q3": "4"}


def _write_sheet(out, survey, rows, start=0):
    """rows: (local date, unit, type, key) -> appended to the local sheet, as the form does."""
    sheet = Layout(out, survey.id).sheet_csv
    for i, row in enumerate(rows, start):
        append_row(sheet, survey.response_columns, _sheet_row(survey, i, *row))


SETUP_VISITORS = ("unit_code,date,visitors\nX01,2024-06-12,10\nX01,2024-06-13,10\n"
                  "X02,2024-06-13,30\nX03,2024-06-13,20\n")
SETUP_ROWS = ([(D1, "X01", "individual", "")] * 12 + [(D2, "X01", "individual", "")] * 16
              + [(D1, "X02", "organization", "")] * 3 + [(D2, "X02", "individual", "")] * 14
              + [(D1, "X03", "individual", "")] * 10 + [(D2, "X03", "individual", "")] * 12)


@pytest.fixture
def setup(tmp_path):
    s = load_survey(write_survey(tmp_path / "s", visitors_csv=SETUP_VISITORS))
    out = tmp_path / "out"
    _write_responses(out, s, SETUP_ROWS)
    return s, out


def test_frame_numbers_and_order(setup):
    s, out = setup
    frame = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D2)
    # X01: 16 today with 10 visitors (bounds 10..15): too many, listed first
    # X02: 14 today with 30 visitors (bounds 15..45): too few
    # X03: 12 today with 20 visitors (bounds 10..30): ok; 22 of 25 by day 2 of 3 (17): ok
    assert frame["unit_code"].tolist() == ["X01", "X02", "X03"]
    assert frame["status"].tolist() == ["too_many", "too_few", "ok"]
    x1 = frame.iloc[0]
    assert (x1.today, x1.cumulative, x1.target, x1.percent) == (16, 28, 25, 112.0)
    assert (x1.min_expected, x1.max_expected) == (10, 15)
    assert frame.iloc[1].cumulative == 17 and frame.iloc[1].percent == 68.0
    # day 1: X01 12 of 10 visitors is inside 10..15; X02, X03 have no visitor count: 3 < 10
    f1 = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D1)
    got = dict(zip(f1.unit_code, f1.status, strict=True))
    assert got == {"X01": "ok", "X02": "below_minimum", "X03": "ok"}  # X03: exactly 10
    assert f1.set_index("unit_code").loc["X01", "cumulative"] == 12  # day 2 not counted yet
    assert f1.set_index("unit_code").loc["X02", "notes"] == [
        "chưa có số lượt người đến làm thủ tục hôm nay"]
    assert f1.set_index("unit_code").loc["X01", "notes"] == [
        "hôm nay 10 lượt người đến, cần 10–15 phiếu"]
    # per respondent type against the quota of 15 + 10: 28 individuals make up 10 organisations
    q = frame.set_index("unit_code")
    assert q.loc["X01", "quota_text"] == "Cá nhân 28/15, Tổ chức 0/10 (cá nhân bù 10)"
    assert (q.loc["X01", "made_up"], q.loc["X01", "missing"]) == (10, 0)
    assert q.loc["X02", "quota_text"] == "Cá nhân 14/15, Tổ chức 3/10"
    assert q.loc["X02", "missing"] == 8


def test_behind_target_pace(tmp_path):
    s = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    _write_responses(out, s, [(D1, "X01", "individual", "")] * 10
                     + [(D2, "X01", "individual", "")] * 10 + [(D2, "X02", "individual", "")] * 16)
    # day 3 of 3, no visitors.csv: no daily minimum; judged by pace against the quota of 25
    f = pg.progress_frame(s, pg.load_responses(s, out), {}, dt.date(2024, 6, 14))
    assert set(f.status) == {"behind"}
    # after the window the target was missed: 20 of 25 and 16 of 25 and 0 of 25
    f = pg.progress_frame(s, pg.load_responses(s, out), {}, dt.date(2024, 6, 20))
    assert dict(zip(f.unit_code, f.status, strict=True)) == {"X03": "short", "X02": "short",
                                                              "X01": "short"}
    assert f.unit_code.tolist() == ["X03", "X02", "X01"]  # lowest percent first
    zalo = report(s, out, day=dt.date(2024, 6, 20), fmt="zalo")
    assert "Ngày 20/06/2024: đợt khảo sát đã kết thúc ngày 14/06/2024" in zalo
    assert "- Không đạt chỉ tiêu" in zalo and "- Cộng dồn 20/25 (80%)" in zalo
    assert "hôm nay" not in zalo.lower()  # nothing is collected after the window


def test_text_report(setup):
    s, out = setup
    text = report(s, out, day=D2)
    lines = text.splitlines()
    assert lines[0] == "TIẾN ĐỘ KHẢO SÁT: Khảo sát thử nghiệm"
    assert lines[1] == "Ngày 13/06/2024, ngày thứ 2/3 của đợt khảo sát"
    table = [ln for ln in lines if ln.startswith("Xã ")]
    assert table[0].startswith("Xã Tiên Điền")
    assert not re.search(r"\bX0\d\b", text)  # units are named by name, never by code
    assert re.search(r"\b16\s+28\s+25\s+112%\s+Cá nhân 28/15, Tổ chức 0/10 \(cá nhân bù 10\)",
                     table[0])
    assert lines[2] == _updated(s, out)
    assert "Theo đối tượng" in lines[4]
    total = next(ln for ln in lines if "TỔNG CỘNG" in ln)
    assert re.search(r"\b42\s+67\s+75\s+89%", total)
    # columns line up: every row's "Hôm nay" number ends at the same place
    header = next(ln for ln in lines if ln.startswith("Đơn vị"))
    end = header.index("Hôm nay") + len("Hôm nay")
    assert all(ln[end - 1].isdigit() for ln in table)


def test_csv_report(setup):
    s, out = setup
    frame = pd.read_csv(io.StringIO(report(s, out, day=D2, fmt="csv")), dtype=str,
                        keep_default_na=False)
    assert frame.columns.tolist() == ["unit_code", "unit_name", "today", "cumulative", "target",
                                      "percent", "visitors", "min_expected", "max_expected",
                                      "day_status", "status", "too_many_days", "individual",
                                      "organization", "quota_individual", "quota_organization",
                                      "made_up", "missing", "online", "paper", "assisted"]
    assert frame.iloc[0].tolist() == ["X01", "Xã Tiên Điền", "16", "28", "25", "112.0", "10",
                                      "10", "15", "too_many", "too_many", "2024-06-13", "28",
                                      "0", "15", "10", "10", "0", "28", "0", "0"]
    assert frame.iloc[1].tolist()[-9:] == ["14", "3", "15", "10", "0", "8", "17", "0", "0"]
    # the total row, as the text report's TỔNG CỘNG line: sums, percent of the summed target
    total = frame.iloc[-1]
    text = report(s, out, day=D2, fmt="text")
    total_line = next(line for line in text.splitlines() if "TỔNG CỘNG" in line).split()
    assert total["unit_code"] == "total" and total["unit_name"] == "TỔNG CỘNG"
    assert [total["today"], total["cumulative"], total["target"]] == total_line[2:5]
    assert float(total["percent"]) == pytest.approx(
        100 * int(total["cumulative"]) / int(total["target"]))
    assert total["individual"] == str(frame.iloc[:-1]["individual"].astype(int).sum())
    assert total["status"] == "" and len(frame) == len(s.units) + 1


def test_missing_responses_tells_what_to_run(tmp_path):
    s = load_survey(write_survey(tmp_path / "s"))
    Layout(tmp_path / "out", s.id).root.mkdir(parents=True)  # the survey's folder, unscored
    with pytest.raises(HailongError, match=r"run `hailong pull .*` and `hailong score .*` first"):
        report(s, tmp_path / "out", day=D1)


@pytest.mark.parametrize("refresh", [True, False])
def test_an_out_without_the_survey_says_where_it_looked(tmp_path, refresh, vietnamese):
    s = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "wrong"
    with pytest.raises(HailongError, match="không có dữ liệu nào của khảo sát") as err:
        pg.progress_report(s, out, day=D1, refresh=refresh)
    assert str(Layout(out, s.id).root) in str(err.value) and "--out" in str(err.value)
    assert not out.exists()  # nothing written there, no report of zeros


def test_default_day_is_today_in_survey_zone(setup, monkeypatch):
    s, out = setup
    text = report(s, out)
    assert dt.datetime.now(s.tz).strftime("%d/%m/%Y") in text.splitlines()[1]


def _big_survey(tmp_path, n=25):
    units = "code,name,parent,quota_individual,quota_organization\n" + "".join(
        f"P{i:02d},Phường Nguyễn Thị Minh Khai số {i},Thành phố Hà Tĩnh,30,20\n" for i in range(n))
    visitors = "unit_code,date,visitors\n" + "".join(f"P{i:02d},2024-06-13,{20 + i}\n" for i in range(n))
    s = load_survey(write_survey(tmp_path / "big", units=units, visitors_csv=visitors))
    out = tmp_path / "out"
    rows = []
    for i in range(n):
        rows += [(D1, f"P{i:02d}", "individual", "")] * (i % 7 + 5)
        rows += [(D2, f"P{i:02d}", "organization", "")] * (i * 2 % 41)
    _write_responses(out, s, rows)
    return s, out


def test_zalo_25_units(tmp_path):
    s, out = _big_survey(tmp_path)
    text = report(s, out, day=D2, fmt="zalo")
    messages = text.split("\n\n----------\n\n")
    for m in messages:
        assert len(m) < 4000
        assert "|" not in m and "\t" not in m  # no tables
        assert max(len(line) for line in m.splitlines()) <= 80  # short lines
        assert not re.search(r"[\U0001F300-\U0001FAFF\u2600-\u27BF]", m)  # no emoji
    joined = "\n".join(messages)
    assert "TIẾN ĐỘ KHẢO SÁT" in joined and "CẦN CHÚ Ý" in joined and "hôm nay" in joined
    for i in range(25):
        assert f"Phường Nguyễn Thị Minh Khai số {i}\n" in joined or \
               f"Phường Nguyễn Thị Minh Khai số {i}:" in joined
    # P20: 11 yesterday, 40 today with 40 visitors (not busy: bounds 20..60): 51 of 50,
    # 40 organisations make up 19 of the 30 individuals' quota
    assert ("ĐẠT CHỈ TIÊU (" in joined and "- Phường Nguyễn Thị Minh Khai số 20: hôm nay 40, "
            "cộng dồn 51/50 (102%)\n  Cá nhân 11/30, Tổ chức 40/20 (tổ chức bù 19)\n") in joined
    # P10: 8 + 20 = 28, behind the pace of ceil(50 × 2/3) = 34 on day 2 of 3
    assert ("Phường Nguyễn Thị Minh Khai số 10\n- Hôm nay 20, cộng dồn 28/50 (56%)\n"
            "- Cá nhân 8/30, Tổ chức 20/20\n- Chậm tiến độ\n"
            "- Hôm nay 30 lượt người đến, cần 15–45 phiếu\n") in joined
    # P00: 0 today, 20 visitors: too few; its lines give the numbers
    assert ("Phường Nguyễn Thị Minh Khai số 0\n- Hôm nay 0, cộng dồn 5/50 (10%)\n"
            "- Cá nhân 5/30, Tổ chức 0/20\n- Ít phiếu so với lượt người đến làm thủ tục\n"
            "- Hôm nay 20 lượt người đến, cần 10–30 phiếu") in joined
    assert "khách" not in joined
    assert joined.rstrip().endswith("Đề nghị các đơn vị cần chú ý kiểm tra và báo cáo lại.")


def test_zalo_splits_into_numbered_messages(tmp_path):
    s, out = _big_survey(tmp_path)
    frame = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D2)
    messages = pg.zalo_messages(s, frame, D2, limit=900)
    assert len(messages) > 2
    n = len(messages)
    for i, m in enumerate(messages, 1):
        assert m.startswith(f"({i}/{n}) TIẾN ĐỘ KHẢO SÁT")
        assert len(m) < 900
    body = "\n".join(messages)
    assert sum(body.count(f"số {i}\n") + body.count(f"số {i}:") for i in range(25)) == 25


def test_roster_report_lists_who_has_not_answered(tmp_path):
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
    roster = ("id,name,unit_code,district,contact\nH1,HTX Một,X01,Nghi Xuân,0912 111 111\n"
              "H2,HTX Hai,X01,Can Lộc,0912 222 222\nH3,HTX Ba,X02,Can Lộc,\n")
    s = load_survey(write_survey(tmp_path / "s", toml=toml, roster_csv=roster))
    out = tmp_path / "out"
    key = b"key"
    _write_responses(out, s, [(D1, "X01", "organization", sign(s.id, "H1", key)),
                              (D2, "X02", "organization", sign(s.id, "H3", key))])
    text = report(s, out, day=D1)
    assert text.splitlines()[0] == pg.PERSONAL_NOTICE  # it carries contacts: it says so first
    assert "HỢP TÁC XÃ ĐÃ TRẢ LỜI: 1/3 (33,33%)" in text  # a decimal comma in Vietnamese
    assert "  Xã Tiên Điền: 1/2 (50,00%)" in text and "  Huyện/khu vực Can Lộc: 0/2 (0,00%)" in text
    pending = text.split("CHƯA TRẢ LỜI (2)")[1]
    assert "Xã Tiên Điền  H2  HTX Hai – Can Lộc – 0912 222 222" in pending
    assert "H3  HTX Ba – Can Lộc" in pending
    assert not re.search(r"\bX0\d\b", text)
    text = report(s, out, day=D1, fmt="csv")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8; the notice is the first line
    lines = text[1:].splitlines()
    assert lines[0] == pg.PERSONAL_NOTICE
    table = pd.read_csv(io.StringIO("\n".join(lines[1:])), dtype=str, keep_default_na=False)
    assert table.set_index("unit_code").loc["X01", "not_answered"] == "HTX Hai – Can Lộc – 0912 222 222"
    assert table.set_index("unit_code").loc["X02", "not_answered"] == "HTX Ba – Can Lộc"
    # the unit's target is its cooperatives on the roster, not the quota in units.csv (25)
    f = pg.progress_frame(s, pg.load_responses(s, out), {}, D1).set_index("unit_code")
    assert f.loc["X01", ["cumulative", "target", "percent"]].tolist() == [1, 2, 50.0]
    assert f.loc["X02", ["cumulative", "target"]].tolist() == [0, 1]
    assert f.loc["X03", ["cumulative", "target"]].tolist() == [0, 0]
    zalo = report(s, out, day=D2, fmt="zalo")
    assert "HTX đã trả lời: 2/3 (66,67%)" in zalo and "- HTX Hai (Xã Tiên Điền)" in zalo
    # the cooperatives' own group reads it: names only, no phone number, no code
    assert "0912" not in zalo and not re.search(r"\bX0\d\b", zalo) and "DỮ LIỆU CÁ NHÂN" not in zalo
    assert "Toàn bộ: hôm nay 1 phiếu, cộng dồn 2/3 (67%)" in zalo  # agrees with the HTX line
    assert "cộng dồn 1/2 (50%)" in zalo and "cộng dồn 1/1 (100%)" in zalo
    assert "." not in re.sub(r"[^\d.,%]+", " ", zalo.split("HTX đã trả lời")[1].split("\n")[0])
    report(s, out, day=D2, fmt="html")
    html = (Layout(out, s.id).staff / "index.html").read_text(encoding="utf-8")
    assert "Hợp tác xã đã trả lời" in html and "66,67%" in html and "66.67" not in html
    assert "0912" not in html and "HTX Hai" not in html  # the published page holds counts only
    assert "Xã Tiên Điền – Can Lộc" in html


@pytest.mark.browser
def test_html_staff_page_in_chromium(setup):
    from browser import DESKTOP, PHONE, chromium

    s, out = setup
    summary = report(s, out, day=D2, fmt="html")
    page_file = Layout(out, s.id).staff / "index.html"
    assert str(page_file) in summary
    assert page_file == out / "site" / s.id / "tien-do" / "index.html"
    with chromium() as browser:
        page = browser.new_page(**DESKTOP)
        page.goto(page_file.as_uri())
        assert page.locator('meta[name="robots"]').get_attribute("content").startswith("noindex")
        assert page.title().startswith("Tiến độ khảo sát ngày 13/06/2024")
        rows = page.locator(".card[data-unit]")
        assert rows.count() == 3
        assert rows.nth(0).get_attribute("data-unit") == "X01"
        alert = page.get_by_role("alert")
        assert alert.is_visible() and "Xã Tiên Điền" in alert.inner_text()
        assert "quá nhiều phiếu 13/06/2024" in alert.inner_text()
        assert "Cá nhân 28/15, Tổ chức 0/10 (cá nhân bù 10)" in page.locator(
            ".card[data-unit=X01]").inner_text()
        bars = page.get_by_role("progressbar")
        assert bars.count() == 4
        # X01 is above target: its bar is full, X02 at 68%
        assert bars.nth(0).get_attribute("aria-valuenow") == "100"
        assert bars.nth(1).get_attribute("aria-valuenow") == "68"
        full = bars.nth(0).bounding_box()["width"]
        inner = page.locator(".card[data-unit=X02] .bar span").bounding_box()["width"]
        assert abs(inner / full - 0.68) < 0.02
        bg = page.locator(".card[data-unit=X01]").evaluate("e => getComputedStyle(e).backgroundColor")
        assert bg != "rgba(0, 0, 0, 0)"  # the too_many card is highlighted
        assert "X01" not in page.locator("main").inner_text()  # named by name, not code
        phone = browser.new_page(**PHONE)
        phone.goto(page_file.as_uri())
        # a card per unit: nothing wider than the 360 px screen, every figure on screen
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        for card in phone.locator(".card").all():
            box = card.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        assert phone.locator(".card[data-unit=X01] dd").all_inner_texts() == ["16", "28", "25"]
    site = out / "site"
    for other in site.rglob("*.html"):
        if other != page_file:
            assert "tien-do" not in other.read_text(encoding="utf-8")


def test_cli_progress(tmp_path):
    """As staff run it at 16:30: the answers are only in the sheet; progress pulls and scores."""
    import subprocess
    import sys
    from pathlib import Path

    s = load_survey(write_survey(tmp_path / "s", visitors_csv=SETUP_VISITORS))
    out = tmp_path / "out"
    _write_sheet(out, s, SETUP_ROWS)
    done = subprocess.run(
        [sys.executable, "-m", "hailong", "progress", str(s.path), "--date", "2024-06-13",
         "--format", "zalo", "--out", str(out)],
        capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("TIẾN ĐỘ KHẢO SÁT: Khảo sát thử nghiệm\nNgày 13/06/2024")
    assert "1. Xã Tiên Điền\n- Hôm nay 16, cộng dồn 28/25 (112%)" in done.stdout
    assert done.stdout.splitlines()[2].startswith("Số liệu cập nhật lúc ")
    assert "pulled" not in done.stdout and "scored" not in done.stdout.lower()


def test_missing_responses_are_pulled_and_scored(tmp_path):
    """A survey never scored gets a report (all zero), not "run pull and score first", once
    --out holds its site (the first morning: built, nobody has answered yet)."""
    s = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    Layout(out, s.id).survey_site.mkdir(parents=True)
    text = pg.progress_report(s, out, day=D1)
    assert "TỔNG CỘNG" in text and Layout(out, s.id).data_file("responses.csv").exists()


def _updated(s, out):
    stamp = dt.datetime.fromtimestamp(
        Layout(out, s.id).data_file("responses.csv").stat().st_mtime, s.tz)
    return f"Số liệu cập nhật lúc {stamp:%H:%M} ngày {stamp:%d/%m/%Y}"


def test_refresh_counts_an_answer_sent_after_the_last_score(tmp_path):
    from hailong.ingest.pull import pull
    from hailong.score.pipeline import score

    s = load_survey(write_survey(tmp_path / "s", visitors_csv=SETUP_VISITORS))
    out = tmp_path / "out"
    _write_sheet(out, s, SETUP_ROWS)
    pull(s, out)
    score(s, out)
    old = os.path.getmtime(Layout(out, s.id).data_file("responses.csv")) - 3 * 3600
    os.utime(Layout(out, s.id).data_file("responses.csv"), (old, old))  # scored 3 hours ago
    stale = report(s, out, day=D2)
    assert re.search(r"^Thị trấn Xuân Hải +12 +22 ", stale, re.M), stale
    assert _updated(s, out) in stale.splitlines()[2]
    # one more answer reaches the sheet after the last score
    append_row(Layout(out, s.id).sheet_csv, s.response_columns,
               _sheet_row(s, len(SETUP_ROWS), D2, "X03", "organization"))
    assert report(s, out, day=D2) == stale  # without refresh: the scored data as it was
    fresh = pg.progress_report(s, out, day=D2)
    assert re.search(r"^Thị trấn Xuân Hải +13 +23 ", fresh, re.M), fresh
    lines = fresh.splitlines()
    assert lines[:2] == stale.splitlines()[:2] and lines[2] == _updated(s, out)
    assert lines[2] != stale.splitlines()[2]  # the time of the new score, not the old one
    # nothing of pull's or score's own summary reaches the text pasted into Zalo
    for fmt in ("text", "zalo"):
        text = pg.progress_report(s, out, day=D2, fmt=fmt)
        assert all(w not in text.lower() for w in ("pulled", "scored", "raw.csv", "responses"))
    zalo = pg.progress_report(s, out, day=D2, fmt="zalo")
    assert zalo.splitlines()[2] == _updated(s, out)
    assert "Hôm nay 13" in zalo or "hôm nay 13" in zalo


def test_updated_line_in_every_message_and_page_not_in_csv(tmp_path):
    s, out = _big_survey(tmp_path)
    frame = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D2)
    line = pg.updated_line(dt.datetime(2024, 6, 13, 16, 5, tzinfo=s.tz))
    assert line == "Số liệu cập nhật lúc 16:05 ngày 13/06/2024"
    messages = pg.zalo_messages(s, frame, D2, limit=900, updated=line)
    assert len(messages) > 1 and all(m.splitlines()[2] == line for m in messages)
    assert all(len(m) < 900 for m in messages)
    pg.progress_report(s, out, day=D2, fmt="html", refresh=False)
    html = (Layout(out, s.id).staff / "index.html").read_text(encoding="utf-8")
    assert _updated(s, out) in html
    csv_text = report(s, out, day=D2, fmt="csv")
    assert "cập nhật" not in csv_text
    assert csv_text.startswith("\ufeff")  # Excel on Windows reads it as UTF-8
    assert csv_text[1:].splitlines()[0].split(",") == [c for c in pg.COLUMNS if c not in pg.INTERNAL]


def test_no_responses_yet(tmp_path):
    s = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    _write_responses(out, s, [])
    text = report(s, out, day=D1)
    assert "TỔNG CỘNG" in text and "Chậm tiến độ" in text and "Đạt" not in text
    assert len(report(s, out, day=D1, fmt="zalo")) < 4000


def _nested(text: str) -> bool:
    """True when some line has a bracket inside a bracket."""
    for line in text.splitlines():
        depth = 0
        for ch in line:
            depth += (ch == "(") - (ch == ")")
            if depth > 1:
                return True
    return False


def test_before_window_says_not_started(setup):
    s, out = setup
    day = dt.date(2024, 6, 10)
    f = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), day)
    assert set(f.status) == {"not_started"} and set(f.cumulative) == {0}
    zalo = report(s, out, day=day, fmt="zalo")
    assert zalo.splitlines()[1] == ("Ngày 10/06/2024: đợt khảo sát chưa bắt đầu, sẽ bắt đầu "
                                    "ngày 12/06/2024")
    assert "Toàn bộ: chỉ tiêu 75 phiếu" in zalo
    assert "- Xã Tiên Điền: 25 phiếu, gồm cá nhân 15, tổ chức 10\n" in zalo
    assert "ĐẠT" not in zalo.upper() and "Đề nghị" not in zalo and not _nested(zalo)
    text = report(s, out, day=day)
    assert "Chưa bắt đầu khảo sát" in text and "Đạt" not in text and not _nested(text)


def test_on_pace_is_not_achieved(tmp_path):
    """«Đạt chỉ tiêu» only at or above the target; a unit on pace is «Đúng tiến độ»."""
    s = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    _write_responses(out, s, [(D1, "X01", "individual", "")] * 10
                     + [(D1, "X02", "individual", "")] * 20 + [(D1, "X02", "organization", "")] * 5)
    f = pg.progress_frame(s, pg.load_responses(s, out), {}, D1).set_index("unit_code")
    # day 1 of 3, pace ceil(25 / 3) = 9: X01 with 10 is on pace, X02 at 25 has its target
    assert f.status.to_dict() == {"X03": "behind", "X01": "ok", "X02": "achieved"}
    zalo = report(s, out, day=D1, fmt="zalo")
    assert "ĐÚNG TIẾN ĐỘ (1 đơn vị):\n- Xã Tiên Điền: hôm nay 10, cộng dồn 10/25 (40%)" in zalo
    assert "ĐẠT CHỈ TIÊU (1 đơn vị):\n- Xã Xuân An: hôm nay 25, cộng dồn 25/25 (100%)" in zalo
    assert "CẦN CHÚ Ý (1 đơn vị):\n1. Thị trấn Xuân Hải" in zalo
    text = report(s, out, day=D1)
    row = next(ln for ln in text.splitlines() if ln.startswith("Xã Tiên Điền"))
    assert row.endswith("Đúng tiến độ") and "Đạt" not in row
    # once every unit is fine, no closing request to the units
    _write_responses(out, s, [(D1, u, "individual", "") for u in ("X01", "X02", "X03")] * 10)
    zalo = report(s, out, day=D1, fmt="zalo")
    assert "CẦN CHÚ Ý" not in zalo and "Đề nghị" not in zalo


def test_achieved_only_at_target_any_day(setup):
    s, out = setup
    accepted = pg.load_responses(s, out)
    for day in [dt.date(2024, 6, d) for d in range(10, 17)]:
        f = pg.progress_frame(s, accepted, pg.part.load_visitors(s), day)
        assert ((f.status == "achieved") <= (f.cumulative >= f.target)).all()


def test_too_many_day_stays_flagged(tmp_path):
    """A day with too many answers is flagged on every later report, never dropped."""
    visitors = ("unit_code,date,visitors\nX01,2024-06-12,2\nX01,2024-06-13,40\n"
                "X01,2024-06-14,40\n")
    s = load_survey(write_survey(tmp_path / "s", visitors_csv=visitors))
    out = tmp_path / "out"
    _write_responses(out, s, [(D1, "X01", "individual", "")] * 6
                     + [(D2, "X01", "individual", "")] * 20)
    accepted = pg.load_responses(s, out)
    for day in (D1, D2, dt.date(2024, 6, 14), dt.date(2024, 6, 30)):
        f = pg.progress_frame(s, accepted, pg.part.load_visitors(s), day).set_index("unit_code")
        assert f.loc["X01", "status"] == "too_many", day
        assert f.loc["X01", "too_many_days"] == "2024-06-12"
    f = pg.progress_frame(s, accepted, pg.part.load_visitors(s), D2).set_index("unit_code")
    assert f.loc["X01", "day_status"] == "ok"  # 20 for 40 visitors is fine today
    assert f.loc["X01", "notes"] == ["ngày 12/06/2024 có 6 phiếu cho 2 lượt người đến, tối đa 3",
                                     "hôm nay 40 lượt người đến, cần 20–60 phiếu"]
    zalo = report(s, out, day=D2, fmt="zalo")
    assert ("1. Xã Tiên Điền\n- Hôm nay 20, cộng dồn 26/25 (104%)\n"
            "- Cá nhân 26/15, Tổ chức 0/10 (cá nhân bù 10)\n"
            "- Số phiếu cao bất thường so với lượt người đến làm thủ tục, cần kiểm tra\n"
            "- Ngày 12/06/2024 có 6 phiếu cho 2 lượt người đến, tối đa 3\n") in zalo
    csv = pd.read_csv(io.StringIO(report(s, out, day=D2, fmt="csv")), dtype=str,
                      keep_default_na=False).set_index("unit_code")
    assert csv.loc["X01", ["status", "too_many_days"]].tolist() == ["too_many", "2024-06-12"]
    report(s, out, day=D2, fmt="html")
    html = (Layout(out, s.id).staff / "index.html").read_text(encoding="utf-8")
    alert = html.split('role="alert"')[1].split("</section>")[0]
    assert "Xã Tiên Điền" in alert and "quá nhiều phiếu 12/06/2024" in alert


def test_office_with_fewer_visitors_than_minimum(tmp_path):
    visitors = ("unit_code,date,visitors\nX01,2024-06-13,5\nX02,2024-06-13,0\n"
                "X03,2024-06-13,5\n")
    s = load_survey(write_survey(tmp_path / "s", visitors_csv=visitors))
    out = tmp_path / "out"
    rows = ([(D1, u, "individual", "") for u in ("X01", "X02", "X03")] * 18
            + [(D2, "X01", "individual", "")] * 5 + [(D2, "X03", "individual", "")])
    _write_responses(out, s, rows)
    f = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D2)
    f = f.set_index("unit_code")
    # 5 answers from 5 visitors: as many as possible, not "too few"
    assert f.loc["X01", "day_status"] == "too_few" and f.loc["X01", "status"] == "ok"
    assert f.loc["X01", "notes"] == ["hôm nay chỉ có 5 lượt người đến, không thể đủ 10 phiếu"]
    # closed office: 0 visitors and 0 answers is not flagged
    assert f.loc["X02", "status"] == "ok"
    assert f.loc["X02", "notes"] == ["hôm nay không có người đến làm thủ tục"]
    # 1 answer from 5 visitors is below the ±50% band (at least 3)
    assert f.loc["X03", "status"] == "too_few"
    assert f.loc["X03", "notes"] == [
        "hôm nay chỉ có 5 lượt người đến, cần ít nhất 3 phiếu; không thể đủ 10 phiếu"]
    zalo = report(s, out, day=D2, fmt="zalo")
    assert ("- Xã Tiên Điền: hôm nay 5, cộng dồn 23/25 (92%)\n  Cá nhân 23/15, Tổ chức 0/10 "
            "(cá nhân bù 8)\n  Hôm nay chỉ có 5 lượt người đến, không thể đủ 10 phiếu") in zalo
    assert "cần 10–7" not in zalo and "10–0" not in zalo


@pytest.mark.parametrize("day", [dt.date(2024, 6, 10), D1, D2, dt.date(2024, 6, 20)])
@pytest.mark.parametrize("fmt", ["text", "zalo"])
def test_wording(setup, day, fmt):
    s, out = setup
    text = report(s, out, day=day, fmt=fmt)
    assert "khách" not in text and not _nested(text)
    report(s, out, day=day, fmt="html")
    html = (Layout(out, s.id).staff / "index.html").read_text(encoding="utf-8")
    assert "khách" not in html


def test_target_without_quota_is_the_sum_of_daily_minimums(tmp_path):
    units = "code,name\nX01,Xã Tiên Điền\nX02,Xã Xuân An\n"
    visitors = "unit_code,date,visitors\nX01,2024-06-12,20\nX01,2024-06-13,50\n"
    s = load_survey(write_survey(tmp_path / "s", units=units, visitors_csv=visitors))
    out = tmp_path / "out"
    _write_responses(out, s, [(D1, "X01", "individual", "")] * 12)
    frame = pg.progress_frame(s, pg.load_responses(s, out), pg.part.load_visitors(s), D2)
    targets = dict(zip(frame.unit_code, frame.target, strict=True))
    # X01: 10 on the 12th, 20 on the busy 13th (50 > 40 visitors), 10 on the uncounted 14th
    assert targets == {"X01": 40, "X02": 30}
    without_visitors = pg.progress_frame(s, pg.load_responses(s, out), {}, D2)
    assert set(without_visitors.target) == {s.scoring.min_responses}


def test_staff_pages_at_national_scale_are_paged_by_province(tmp_path):
    """Above 300 units: a summary page with a card per province and a page per province, each
    light, all of them (and nothing else) in the staff manifest; a province gone from
    units.csv leaves no page behind."""
    import json

    from test_publish_summary import FILE_ORDER, _national

    survey, _results = _national(tmp_path, pg.PAGED_ABOVE + 30)
    out = tmp_path / "out"
    message = pg.progress_report(survey, out, day=survey.end, fmt="html", refresh=False)
    staff = Layout(out, survey.id).staff
    written = sorted(p.relative_to(staff).as_posix() for p in staff.rglob("*") if p.is_file())
    assert written == ["index.html", *sorted(f"tinh/{s}/index.html"
                                             for s in ("da-nang", "nghe-an", "quang-tri"))]
    assert "(3)" in message
    summary = (staff / "index.html").read_text("utf-8")
    assert summary.count('data-province="') == len(FILE_ORDER)
    assert 'data-unit="' not in summary  # no unit cards on the summary
    for name in FILE_ORDER:
        assert name in summary
    province = (staff / "tinh" / "nghe-an" / "index.html").read_text("utf-8")
    codes = {u.code for u in survey.units if u.parent == "Nghệ An"}
    assert set(re.findall(r'data-unit="([^"]+)"', province)) == codes
    assert 'href="../../index.html"' in province  # back to the summary
    assert max(p.stat().st_size for p in staff.rglob("*.html")) < 300_000
    manifest = json.loads((out / survey.id / "manifest" / "progress.json").read_text("utf-8"))
    assert manifest["audience"] == "staff"
    assert sorted(manifest["files"]) == [f"{survey.id}/tien-do/{w}" for w in written]
    # a survey of few units: one page again, and the province pages are gone with their entries
    small = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML,
                                     units="code,name,parent\nU0000,Xã Số 0,Quảng Trị\n"))
    pg.progress_report(small, out, day=small.end, fmt="html", refresh=False)
    assert sorted(p.relative_to(staff).as_posix() for p in staff.rglob("*") if p.is_file()) == ["index.html"]
    manifest = json.loads((out / survey.id / "manifest" / "progress.json").read_text("utf-8"))
    assert list(manifest["files"]) == [f"{survey.id}/tien-do/index.html"]
