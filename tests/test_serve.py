"""The development preview server: static files and the local collector endpoint."""

from __future__ import annotations

import csv
import datetime as dt
import http.client
import json
import subprocess
import sys
import threading
import urllib.parse
import uuid
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey

from hailong.collect.serve import MAX_BODY, make_server, start_lines
from hailong.survey.load import Section, load_survey

ROOT = Path(__file__).resolve().parent.parent
EXEC_URL = "https://script.google.com/macros/s/AKfycbTEST/exec"


@pytest.fixture
def site(tmp_path: Path, survey) -> Path:
    out = tmp_path / "out"
    root = out / "site"
    (root / survey.id / "u" / "X01").mkdir(parents=True)
    (root / "index.html").write_text("<h1>Trang chủ</h1>", encoding="utf-8")
    (root / survey.id / "u" / "X01" / "index.html").write_text("<p>Phiếu Tiên Điền</p>", encoding="utf-8")
    (root / "style.css").write_text("body{}", encoding="utf-8")
    (root / "qr.svg").write_text("<svg/>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("do not serve", encoding="utf-8")
    return out


@pytest.fixture
def server(site, survey):
    yield from running(site, survey)


def running(site, survey):
    """A server on 127.0.0.1 in a thread, stopped after the test. conftest's survey ran in
    June 2024: it is opened today, or every answer would be refused as late."""
    today = dt.datetime.now(survey.tz).date()
    survey.start, survey.end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    srv = make_server([survey], site)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(srv, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def sheet_rows(out: Path, survey) -> list[dict[str, str]]:
    path = out / survey.id / "sheet.csv"
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    return (urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})


ANSWER = {"survey_id": "thu-nghiem", "unit_code": "X01", "respondent_type": "individual",
          "device_id": "d-1", "q1": "5", "q2": "4", "q3": "4", "kenh": "Người quen",
          "gop_y": "Cán bộ nhiệt tình", "comment": "Rất tốt"}


def test_static_files_with_content_types(server):
    resp, data = request(server, "GET", "/")
    assert resp.status == 200 and "Trang chủ" in data.decode()
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    resp, data = request(server, "GET", "/thu-nghiem/u/X01/")
    assert resp.status == 200 and "Phiếu Tiên Điền" in data.decode("utf-8")
    assert request(server, "GET", "/style.css")[0].getheader("Content-Type").startswith("text/css")
    assert request(server, "GET", "/qr.svg")[0].getheader("Content-Type") == "image/svg+xml"
    resp, data = request(server, "HEAD", "/style.css")
    assert resp.status == 200 and data == b"" and resp.getheader("Content-Length") == "6"


def test_folder_without_slash_redirects_so_relative_links_work(server):
    resp, _ = request(server, "GET", "/thu-nghiem/u/X01?x=1")
    assert resp.status == 301 and resp.getheader("Location") == "/thu-nghiem/u/X01/?x=1"


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/thu-nghiem/../../secret.txt",
    "/..%2fsecret.txt", "/nothing-here.html", "/thu-nghiem/u/",
])
def test_no_escape_and_not_found(server, path):
    resp, data = request(server, "GET", path)
    assert resp.status == 404
    assert b"do not serve" not in data
    assert "Không tìm thấy" in data.decode("utf-8")


def test_symlink_out_of_the_site_is_not_followed(server, site, tmp_path):
    (site / "site" / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert request(server, "GET", "/link.txt")[0].status == 404


def test_form_post_goes_to_the_sheet_and_answers_thank_you(server, site, survey):
    body, headers = form(ANSWER)
    resp, data = request(server, "POST", "/api/responses", body, headers)
    assert resp.status == 200  # no thank-you page built yet: answered inline
    assert "Cảm ơn" in data.decode("utf-8")
    rows = sheet_rows(site, survey)
    assert len(rows) == 1
    row = rows[0]
    assert list(row) == survey.response_columns
    assert {k: row[k] for k in ANSWER} == ANSWER
    assert uuid.UUID(row["response_id"]).version == 4
    stamped = dt.datetime.fromisoformat(row["submitted_at"])
    assert stamped.utcoffset() == dt.timedelta(hours=7)
    assert abs(dt.datetime.now(dt.UTC) - stamped) < dt.timedelta(minutes=1)


def test_form_post_redirects_to_the_built_thank_you_page(server, site, survey):
    thanks = site / "site" / survey.id / "cam-on" / "index.html"
    thanks.parent.mkdir(parents=True)
    thanks.write_text("<p>Cảm ơn Ông/Bà</p>", encoding="utf-8")
    body, headers = form({**ANSWER, "response_id": "11111111-1111-4111-8111-111111111111"})
    resp, _ = request(server, "POST", "/api/responses", body, headers)
    assert resp.status == 303
    assert resp.getheader("Location") == f"/{survey.id}/cam-on/"
    assert sheet_rows(site, survey)[0]["response_id"] == "11111111-1111-4111-8111-111111111111"


@pytest.mark.parametrize("ctype", ["text/plain;charset=UTF-8", "application/json", None])
def test_json_post_answers_ok_with_cors(server, site, survey, ctype):
    payload = {**ANSWER, "q1": 3, "response_id": "abc", "submitted_at": "1999-01-01T00:00:00Z",
               "not_a_column": "dropped"}
    headers = {"Content-Type": ctype} if ctype else {}
    resp, data = request(server, "POST", "/api/responses", json.dumps(payload).encode(), headers)
    assert resp.status == 200
    assert resp.getheader("Access-Control-Allow-Origin") == "*"
    assert json.loads(data) == {"ok": True, "response_id": "abc"}
    row = sheet_rows(site, survey)[0]
    assert row["q1"] == "3" and row["response_id"] == "abc"
    assert not row["submitted_at"].startswith("1999")  # the server stamps the time
    assert "not_a_column" not in row


def test_lower_case_unit_code_is_accepted(server, site, survey):
    body = json.dumps({**ANSWER, "unit_code": " x02 "}).encode()
    assert request(server, "POST", "/api/responses", body)[0].status == 200
    assert sheet_rows(site, survey)[0]["unit_code"] == " x02 "  # kept as sent; score normalises


@pytest.mark.parametrize("change, words", [
    ({"unit_code": "X99"}, "Mã đơn vị"),
    ({"unit_code": ""}, "Mã đơn vị"),
    ({"survey_id": "khac"}, "cuộc khảo sát"),
])
def test_bad_survey_or_unit_is_400_in_vietnamese(server, site, survey, change, words):
    resp, data = request(server, "POST", "/api/responses", json.dumps({**ANSWER, **change}).encode())
    assert resp.status == 400
    answer = json.loads(data)
    assert answer["ok"] is False and words in answer["error"]
    body, headers = form({**ANSWER, **change})
    resp, data = request(server, "POST", "/api/responses", body, headers)
    assert resp.status == 400 and words in data.decode("utf-8")
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert not (site / survey.id / "sheet.csv").exists()


@pytest.mark.parametrize("body, ctype, status", [
    (b"{not json", "text/plain", 400),
    (b"[1, 2]", "application/json", 400),
    (b"\xff\xfe", "text/plain", 400),
    (b"a=1", "multipart/form-data; boundary=x", 415),
])
def test_unreadable_bodies(server, body, ctype, status):
    resp, data = request(server, "POST", "/api/responses", body, {"Content-Type": ctype})
    assert resp.status == status
    assert json.loads(data)["ok"] is False


def test_too_big_is_413(server, site, survey):
    big = json.dumps({**ANSWER, "comment": "x" * (MAX_BODY + 1)}).encode()
    resp, data = request(server, "POST", "/api/responses", big)
    assert resp.status == 413
    assert "quá lớn" in json.loads(data)["error"]
    assert not (site / survey.id / "sheet.csv").exists()


def test_options_preflight_and_other_paths(server):
    resp, _ = request(server, "OPTIONS", "/api/responses")
    assert resp.status == 204
    assert resp.getheader("Access-Control-Allow-Origin") == "*"
    assert "POST" in resp.getheader("Access-Control-Allow-Methods")
    assert request(server, "POST", "/other", b"{}")[0].status == 404
    assert request(server, "GET", "/api/responses")[0].status == 405


def test_concurrent_posts_all_land(server, site, survey):
    statuses = []

    def post(i):
        body = json.dumps({**ANSWER, "response_id": f"r{i}"}).encode()
        statuses.append(request(server, "POST", "/api/responses", body)[0].status)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 30
    assert sorted(r["response_id"] for r in sheet_rows(site, survey)) == sorted(f"r{i}" for i in range(30))


# -- the real survey page, in a real browser, against this server ------------------------------
@pytest.fixture
def built(tmp_path, survey):
    from hailong.collect.build import build_site

    # the page shows no form outside the survey's window (conftest's is June 2024): open it today
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    survey.start, survey.end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    out = tmp_path / "built"
    build_site([survey], out)
    srv = make_server([survey], out)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield out, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def fill(page, survey):
    page.check('input[name="respondent_type"][value="organization"]', force=True)
    for q in survey.scale_questions:
        page.check(f'input[name="{q.id}"][value="4"]', force=True)
    page.check('input[name="kenh"][value="Người quen"]', force=True)
    page.fill('textarea[name="comment"]', "Cán bộ hướng dẫn tận tình")


@pytest.mark.browser
@pytest.mark.parametrize("javascript", [False, True])
def test_survey_page_posts_into_the_local_sheet(built, survey, javascript):
    from browser import PHONE, chromium

    out, base = built
    with chromium() as browser:
        page = browser.new_context(**PHONE, java_script_enabled=javascript).new_page()
        page.goto(f"{base}/{survey.id}/u/X02/")
        fill(page, survey)
        page.click("#gui")
        if javascript:
            page.wait_for_selector("#cam-on:not([hidden])", timeout=15000)
        else:
            page.wait_for_url(f"{base}/{survey.id}/cam-on/", timeout=15000)
        assert "Cảm ơn" in page.content() or "cảm ơn" in page.content()
    rows = sheet_rows(out, survey)
    assert len(rows) == 1
    row = rows[0]
    assert (row["survey_id"], row["unit_code"], row["respondent_type"]) == (survey.id, "X02", "organization")
    assert [row[q.id] for q in survey.scale_questions] == ["4"] * len(survey.scale_questions)
    assert row["kenh"] == "Người quen" and row["comment"] == "Cán bộ hướng dẫn tận tình"
    assert uuid.UUID(row["response_id"])


def test_body_of_a_refused_post_is_never_read_as_a_second_request(server, site, survey):
    import socket

    inner = json.dumps(ANSWER).encode()
    smuggled = (b"POST /api/responses HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                b"Content-Length: " + str(len(inner)).encode() + b"\r\n\r\n" + inner)
    outer = (b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(smuggled)).encode()
             + b"\r\n\r\n" + smuggled)
    with socket.create_connection(server.server_address[:2], timeout=5) as sock:
        sock.sendall(outer)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.") == 1 and received.startswith(b"HTTP/1.1 404")
    assert not (site / survey.id / "sheet.csv").exists()


# -- what `serve` says at start ------------------------------------------------------------------
VN = dt.timezone(dt.timedelta(hours=7))
IN_WINDOW = dt.datetime(2024, 6, 13, 9, 0, tzinfo=VN)


def test_start_lines_say_where_local_answers_go(survey, tmp_path):
    lines = start_lines([survey], tmp_path / "out", "http://127.0.0.1:8000/", now=IN_WINDOW)
    assert lines[0] == f"Serving {tmp_path / 'out' / 'site'} at http://127.0.0.1:8000/ (development only; Ctrl-C to stop)"
    assert lines[1] == (f"  thu-nghiem: http://127.0.0.1:8000/thu-nghiem/  answers go to "
                        f"{tmp_path / 'out' / 'thu-nghiem' / 'sheet.csv'}")
    assert lines[2] == "  note: no site yet; run `hailong build` first"
    assert not any("warning" in line for line in lines)


def test_start_lines_tell_the_truth_for_an_apps_script_survey(survey, tmp_path):
    """The built form posts to the Apps Script address: answers typed in the preview go to the
    Google Sheet, and the local sheet stays empty, so serve must not say they land there."""
    survey.collector = Section({"kind": "apps_script", "url": EXEC_URL})
    line = start_lines([survey], tmp_path / "out", "http://127.0.0.1:8000/", now=IN_WINDOW)[1]
    assert line.startswith("  thu-nghiem: http://127.0.0.1:8000/thu-nghiem/  its pages post to its Apps Script")
    assert EXEC_URL in line and "go to the Google Sheet, not to" in line
    assert "answers go to" not in line


@pytest.mark.parametrize(("now", "warning"), [
    (dt.datetime(2024, 6, 12, 0, 0, tzinfo=VN), None),                  # the first day
    (dt.datetime(2024, 6, 14, 16, 59, tzinfo=dt.UTC), None),            # 23:59 on the last day
    (dt.datetime(2024, 6, 14, 17, 0, tzinfo=dt.UTC), "is over"),        # 00:00 the day after
    (dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC), "is over"),
    (dt.datetime(2024, 6, 11, 23, 59, tzinfo=VN), "has not started yet"),
])
def test_start_lines_warn_when_today_is_outside_the_window(survey, tmp_path, now, warning):
    lines = start_lines([survey], tmp_path / "out", "http://127.0.0.1:8000/", now=now)
    found = [line for line in lines if "warning" in line]
    if warning is None:
        assert found == []
    else:
        today = now.astimezone(VN).date()
        assert found == [f"  warning: thu-nghiem runs 2024-06-12 to 2024-06-14 ([window] in survey.toml) "
                         f"and today is {today}: its pages say the survey {warning} instead of showing "
                         "the form, and `score` quarantines answers outside the window; to try "
                         "the form anyway, add ?xem-thu to a page's address, e.g. "
                         "http://127.0.0.1:8000/thu-nghiem/u/X01/?xem-thu"]


def test_serve_command_prints_the_truth_at_start(tmp_path):
    """`hailong serve` itself, as staff run it: an Apps Script survey whose window is over."""
    toml = SMALL_TOML + f'\n[collector]\nkind = "apps_script"\nurl = "{EXEC_URL}"\n'
    folder = write_survey(tmp_path / "thu-nghiem", toml=toml)
    load_survey(folder)  # a valid survey folder
    proc = subprocess.Popen([sys.executable, "-m", "hailong", "serve", str(folder), "--port", "0",
                             "--out", str(tmp_path / "out")],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert lines[0].startswith("Serving ")
    assert "its pages post to its Apps Script address" in lines[1] and EXEC_URL in lines[1]
    assert lines[2].startswith("  warning: thu-nghiem runs 2024-06-12 to 2024-06-14")
    assert "survey is over" in lines[2]
    assert lines[3].startswith("  note: no site yet")


@pytest.mark.parametrize("days, words", [(-1, "đã kết thúc ngày 14/06/2024"),
                                         (+1, "chưa bắt đầu, sẽ bắt đầu ngày 12/06/2024")])
def test_answers_outside_the_window_are_refused_with_the_pages_words(site, survey, days, words):
    """A closed survey never says "recorded" for an answer score would quarantine."""
    srv = make_server([survey], site)
    edge = survey.end if days < 0 else survey.start
    srv.clock = lambda: dt.datetime.combine(edge - dt.timedelta(days=days), dt.time(8),
                                            survey.tz)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        resp, data = request(srv, "POST", "/api/responses", json.dumps(ANSWER).encode(),
                             {"Content-Type": "text/plain"})
        answer = json.loads(data)
        assert resp.status == 403 and answer["ok"] is False
        assert answer["error"] == f"Đợt khảo sát {words}. Cảm ơn ông/bà đã quan tâm."
        body, headers = form(ANSWER)
        resp, data = request(srv, "POST", "/api/responses", body, headers)
        text = data.decode("utf-8")
        assert resp.status == 403 and words in text and "ghi nhận" not in text
        assert "Đợt khảo sát không nhận phiếu" in text
        assert not (site / survey.id / "sheet.csv").exists()
        # a staff trial (?xem-thu) is written, stamped today, and score quarantines it
        trial = {**ANSWER, "xem_thu": "1"}
        resp, data = request(srv, "POST", "/api/responses", json.dumps(trial).encode(),
                             {"Content-Type": "text/plain"})
        assert resp.status == 200
        rows = sheet_rows(site, survey)
        assert len(rows) == 1 and "xem_thu" not in rows[0]
        stamped = dt.datetime.fromisoformat(rows[0]["submitted_at"]).date()
        assert not survey.start <= stamped <= survey.end
        # an answer saved in the page's outbox while the survey was open still goes in
        inside = dt.datetime.combine(edge, dt.time(9), survey.tz).astimezone(dt.UTC)
        late = {**ANSWER, "started_at": inside.isoformat().replace("+00:00", "Z")}
        resp, _ = request(srv, "POST", "/api/responses", json.dumps(late).encode(),
                          {"Content-Type": "text/plain"})
        assert resp.status == 200 and len(sheet_rows(site, survey)) == 2
        outside = {**ANSWER, "started_at": srv.clock().isoformat()}
        resp, _ = request(srv, "POST", "/api/responses", json.dumps(outside).encode(),
                          {"Content-Type": "text/plain"})
        assert resp.status == 403
    finally:
        srv.shutdown()
        srv.server_close()


def test_first_and_last_day_are_open(site, survey):
    from hailong.collect.serve import refuse_outside_window

    for day in (survey.start, survey.end):
        for hour in (0, 23):
            when = dt.datetime.combine(day, dt.time(hour, 30), survey.tz)
            assert refuse_outside_window(survey, ANSWER, when) is None


# -- whatever arrives: an answer, or a closed connection after a time limit ---------------------
import random  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

from hailong.collect import serve as serve_module  # noqa: E402


@pytest.fixture
def quick(monkeypatch, site, survey):
    """A server with short time limits and room for a few connections, so hostile clients
    are dealt with in a test's time."""
    monkeypatch.setattr(serve_module.Handler, "timeout", 0.5)
    monkeypatch.setattr(serve_module, "REQUEST_DEADLINE", 1.0)
    monkeypatch.setattr(serve_module, "MAX_CONNECTIONS", 8)
    yield from running(site, survey)


def exchange(srv, data: bytes, *, close_write: bool = True, wait: float = 5.0) -> bytes:
    """Send raw bytes; return all the server sent before it closed (or `wait` passed)."""
    with socket.create_connection(srv.server_address[:2], timeout=wait) as sock:
        try:
            sock.sendall(data)
            if close_write:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse before all was sent
        received = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            received += chunk
        return received


def post(body: bytes, extra: bytes = b"", length: int | None = None) -> bytes:
    n = len(body) if length is None else length
    return (b"POST /api/responses HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n" + extra
            + (b"Content-Length: %d\r\n" % n if n >= 0 else b"") + b"\r\n" + body)


def test_a_path_longer_than_the_file_system_allows_is_404(server):
    for path in ["/" + "a" * 300, "/x/" + "b/" * 3000, "/%2e%2e/" + "c" * 5000 + "/"]:
        resp, data = request(server, "GET", path)
        assert resp.status == 404 and "Không có trang" in data.decode("utf-8")
    assert exchange(server, b"GET /" + b"d" * 70_000 + b" HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 414")


def test_json_nested_thousands_deep_is_400(server, site, survey):
    for body in [b"[" * 30_000 + b"]" * 30_000,
                 json.dumps({**ANSWER, "comment": "X"}).encode().replace(b'"X"', b"[" * 20_000 + b"]" * 20_000)]:
        resp, data = request(server, "POST", "/api/responses", body)
        assert resp.status == 400 and "JSON" in json.loads(data)["error"]
    assert not (site / survey.id / "sheet.csv").exists()


def test_an_unpaired_surrogate_is_written_as_a_replacement_and_acknowledged(server, site, survey):
    body = json.dumps({**ANSWER, "response_id": "s1", "comment": "a\ud800b"}).encode()
    assert b"\\ud800" in body  # JSON carries it escaped, as JSON.stringify does
    resp, data = request(server, "POST", "/api/responses", body)
    assert resp.status == 200 and json.loads(data)["ok"] is True
    assert sheet_rows(site, survey)[0]["comment"] == "a\ufffdb"


def test_a_post_without_content_length_is_411_and_its_body_never_a_request(server, site, survey):
    inner = json.dumps(ANSWER).encode()
    smuggled = post(inner)
    for head in (post(smuggled, length=-1), post(smuggled, b"Transfer-Encoding: chunked\r\n", -1),
                 post(smuggled, length=-1).replace(b"\r\n\r\n", b"\r\nContent-Length: -5\r\n\r\n", 1)):
        received = exchange(server, head)
        assert received.startswith(b"HTTP/1.1 411") and received.count(b"HTTP/1.") == 1, received
        assert "thiếu độ dài" in received.decode("utf-8")
    assert not (site / survey.id / "sheet.csv").exists()


def test_a_get_with_a_body_is_answered_and_its_body_never_a_request(server, site, survey):
    smuggled = post(json.dumps(ANSWER).encode())
    received = exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                        % len(smuggled) + smuggled)
    assert received.startswith(b"HTTP/1.1 200") and received.count(b"HTTP/1.") == 1
    assert not (site / survey.id / "sheet.csv").exists()


def test_half_sent_body_is_refused_not_half_written(quick, site, survey):
    whole = json.dumps({**ANSWER, "response_id": "h1"}).encode()
    received = exchange(quick, post(whole[: len(whole) - 5] + b"}", length=len(whole)))
    assert received.startswith(b"HTTP/1.1 400") and "chưa trọn vẹn" in received.decode("utf-8")
    assert not (site / survey.id / "sheet.csv").exists()


def test_slow_clients_are_cut_off_and_cannot_hold_the_server(quick, site, survey):
    start = time.monotonic()
    slow = []
    for _ in range(6):  # trickle a header line every 0.3 s: each read is quick, the request is not
        sock = socket.create_connection(quick.server_address[:2], timeout=5)
        sock.sendall(b"POST /api/responses HTTP/1.1\r\n")
        slow.append(sock)
    for _ in range(6):
        time.sleep(0.3)
        for sock in slow:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                pass
    # meanwhile an ordinary answer gets through
    resp, _ = request(quick, "POST", "/api/responses", json.dumps({**ANSWER, "response_id": "ok"}).encode())
    assert resp.status == 200
    for sock in slow:  # every slow one was closed by the deadline, without a row
        sock.settimeout(5)
        try:
            while sock.recv(65536):
                pass
        except OSError:
            pass
        sock.close()
    assert time.monotonic() - start < 8
    assert [r["response_id"] for r in sheet_rows(site, survey)] == ["ok"]


def test_connections_beyond_the_limit_get_503_at_once(quick):
    idle = [socket.create_connection(quick.server_address[:2], timeout=5) for _ in range(8)]
    time.sleep(0.2)
    try:
        received = exchange(quick, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", wait=2)
        assert received.startswith(b"HTTP/1.1 503") and "bận" in received.decode("utf-8")
    finally:
        for sock in idle:
            sock.close()
    time.sleep(1.0)  # the idle ones time out and free their places
    assert request(quick, "GET", "/")[0].status == 200


def test_unknown_methods_and_bad_request_lines_are_answered_in_vietnamese(server):
    for raw in [b"DELETE / HTTP/1.1\r\n\r\n", b"BREW /pot HTTP/1.1\r\n\r\n", b"GET\r\n\r\n",
                b"GET / HTTP/9.9\r\n\r\n", b"\x00\xff garbage\r\n\r\n"]:
        received = exchange(server, raw)
        assert re_status(received) >= 400, raw
        assert "<html" in received.decode("utf-8", "replace")


def re_status(received: bytes) -> int:
    first = received.split(b"\r\n", 1)[0].split()
    assert len(first) >= 2 and first[0].startswith(b"HTTP/1."), received[:200]
    return int(first[1])


@pytest.mark.parametrize("fields", [
    {}, {"survey_id": "thu-nghiem", "unit_code": "X01", "comment": "chỉ có ý kiến"},
    {"unit_code": "X01", "q1": "0", "q2": " ", "q3": "0", "kenh": "", "gop_y": ""},
])
def test_a_submission_answering_nothing_is_refused_with_the_pages_words(server, site, survey, fields):
    fields = {"unit_code": "X01", **fields}
    body, headers = form(fields)
    resp, data = request(server, "POST", "/api/responses", body, headers)
    assert resp.status == 400 and serve_module.EMPTY_MESSAGE in html_text(data)
    resp, data = request(server, "POST", "/api/responses", json.dumps(fields).encode())
    assert resp.status == 400 and json.loads(data)["error"] == serve_module.EMPTY_MESSAGE
    assert not (site / survey.id / "sheet.csv").exists()
    for answer in ({"kenh": "Khác"}, {"gop_y": "ý kiến"}, {"q2": "1"}):  # any one answer will do
        resp, _ = request(server, "POST", "/api/responses", json.dumps({**fields, **answer}).encode())
        assert resp.status == 200


def html_text(data: bytes) -> str:
    import html as html_module
    return html_module.unescape(data.decode("utf-8"))


METHODS = [b"GET", b"POST", b"HEAD", b"OPTIONS", b"PUT", b"DELETE", b"PATCH", b"TRACE", b"G\x00T",
           b"post", b"X" * 300, b""]
PATHS = [b"/", b"/api/responses", b"/api/responses?x=1", b"/thu-nghiem/u/X01/", b"/../../etc/passwd",
         b"/%00", b"/%ff%fe", b"/" + b"a" * 4000, b"*", b"http://x/api/responses", b"/api/responses/",
         "/trang-chủ".encode(), b"/a b", b""]
BODIES = [b"", b"{}", b"[", b"\xff\xfe\x00", b"[" * 20_000, b"x=1&y=2", b'{"unit_code": "X01"}',
          b'"\\ud800"', b"\x00" * 100]


def fuzz_request(rnd: random.Random, i: int) -> tuple[bytes, str | None]:
    """A random request, and the response_id of a valid answer in it (or None)."""
    if rnd.random() < 0.3:  # a valid answer with awkward text, sometimes sent in odd ways
        rid = f"f{i}"
        text = "".join(rnd.choice(["\r", "\n", '"', ",", "\ud800", "\x00", "á", "x", "\t", "=1+"])
                       for _ in range(rnd.randrange(12)))
        body = json.dumps({**ANSWER, "response_id": rid, "comment": text}).encode()
        extra = rnd.choice([b"", b"Connection: close\r\n", b"Content-Type: application/json\r\n"])
        return post(body, extra), rid
    method = rnd.choice(METHODS)
    path = rnd.choice(PATHS)
    version = rnd.choice([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"", b"HTTP/1.1 extra"])
    body = rnd.choice(BODIES) if rnd.random() < 0.8 else rnd.randbytes(rnd.randrange(300))
    headers = []
    length = rnd.choice([len(body), len(body), None, -1, len(body) + 50, 0, 10**12, "abc", "1, 2"])
    if length is not None:
        headers.append(b"Content-Length: " + str(length).encode())
    if rnd.random() < 0.1:
        headers.append(b"Transfer-Encoding: chunked")
    if rnd.random() < 0.1:
        headers.append(b"X-Long: " + b"h" * rnd.choice([100, 70_000]))
    if rnd.random() < 0.2:
        headers.append(rnd.randbytes(rnd.randrange(40)))
    data = method + b" " + path + b" " + version + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body
    if rnd.random() < 0.15:
        data = data[: rnd.randrange(len(data) + 1)]  # cut anywhere
    return data, None


def test_fuzz_every_request_is_answered_or_closed_and_every_200_is_a_whole_row(quick, site, survey):
    rnd = random.Random(20240612)
    acknowledged = []
    sent = 0
    stop = time.monotonic() + 5.0
    while time.monotonic() < stop:
        data, rid = fuzz_request(rnd, sent)
        sent += 1
        started = time.monotonic()
        received = exchange(quick, data, close_write=rnd.random() < 0.8, wait=4)
        assert time.monotonic() - started < 3.5, data[:200]  # answered, or closed within the limits
        if received:
            status = re_status(received)
            if status == 200 and rid:
                assert json.loads(received.split(b"\r\n\r\n", 1)[1])["response_id"] == rid
                acknowledged.append(rid)
        elif rid:
            pytest.fail(f"a valid answer got no answer: {data[:200]!r}")
    assert sent > 20 and acknowledged
    path = site / survey.id / "sheet.csv"
    with open(path, newline="", encoding="utf-8-sig") as fh:  # the local sheet starts with a BOM
        records = list(csv.reader(fh))
    assert records[0] == survey.response_columns
    assert all(len(r) == len(records[0]) for r in records[1:])  # no torn or split row
    ids = [r[1] for r in records[1:]]
    assert sorted(ids) == sorted(acknowledged)  # every 200 is one row, and nothing else was written
    assert request(quick, "GET", "/")[0].status == 200  # and the server is still there


def test_a_sheet_that_cannot_be_written_is_500_retry_never_a_dropped_connection(server, site, survey, monkeypatch):
    from hailong.collect import localsheet

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serve_module, "append_row", full_disk)
    resp, data = request(server, "POST", "/api/responses", json.dumps(ANSWER).encode())
    assert resp.status == 500 and "thử lại" in json.loads(data)["error"]
    monkeypatch.setattr(serve_module, "append_row", localsheet.append_row)
    assert request(server, "POST", "/api/responses", json.dumps(ANSWER).encode())[0].status == 200
