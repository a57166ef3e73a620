"""End to end through the Google path, with local stand-ins for Google.

The built survey page, in real Chromium, posts to a stand-in of the Apps Script web app (it
checks and writes the way Code.gs does, then answers through a 302 to an "echo" address as
script.google.com does); the stand-in appends to the fake Sheets server with values.append; then
`weekly` pulls through the real Sheets client, scores and publishes the ranking.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import threading
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from conftest import SMALL_TOML, write_survey
from fake_sheets import FakeSheets, Formula

from hailong.cells import restore
from hailong.layout import Layout
from hailong.survey.config import COMMENT_COLUMN, META_COLUMNS
from hailong.survey.load import Section, load_survey

SHEET = "e2e-sheet"
EXEC_PATH = "/macros/s/AKfy-e2e/exec"
INJECTION = '=HYPERLINK("http://evil.example","bấm vào đây")'


class AppsScriptStandIn(ThreadingHTTPServer):
    """What Code.gs does, in Python: check, stamp, quote-prefix text, append under a lock."""

    daemon_threads = True

    def __init__(self, survey, sheets_url: str):
        self.survey = survey
        self.sheets_url = sheets_url
        self.lock = threading.Lock()  # LockService.getScriptLock()
        self.echo: dict[str, tuple[str, bytes]] = {}
        super().__init__(("127.0.0.1", 0), _StandInHandler)

    @property
    def exec_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{EXEC_PATH}"

    def _api(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.sheets_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.load(answer)

    def accept(self, fields: dict[str, str]) -> dict:
        survey = self.survey
        if fields.get("survey_id", "") not in ("", survey.id):
            return {"ok": False, "code": "wrong_survey", "retry": False,
                    "error": "Phiếu không thuộc cuộc khảo sát đang mở ở đây."}
        unit = survey.find_unit(fields.get("unit_code", ""))
        if unit is None:
            return {"ok": False, "code": "unknown_unit", "retry": False,
                    "error": "Mã đơn vị trên phiếu không có trong danh sách."}
        scale = {q.id for q in survey.scale_questions}
        record = {name: fields.get(name, "").strip() for name in survey.response_columns}
        record.update(survey_id=survey.id, unit_code=unit.code)
        record["response_id"] = record["response_id"] or str(uuid.uuid4())
        header = [*META_COLUMNS, *(q.id for q in survey.questions), COMMENT_COLUMN]
        tab = quote("Responses!A1", safe="")
        with self.lock:
            first = self._api("GET", f"v4/spreadsheets/{SHEET}/values/{quote('Responses!1:1', safe='')}")
            if not first.get("values"):
                self._api("POST", f"v4/spreadsheets/{SHEET}/values/{tab}:append?valueInputOption=RAW",
                          {"values": [header]})
            record["submitted_at"] = dt.datetime.now(survey.tz).isoformat(timespec="seconds")
            row = []
            for name in header:
                value = record.get(name, "")
                if name in scale and value.isdigit():
                    row.append(int(value))
                else:
                    row.append("'" + value if value else "")  # Code.gs's cell_(): quote prefix
            self._api("POST", f"v4/spreadsheets/{SHEET}/values/{tab}:append"
                              "?valueInputOption=USER_ENTERED&insertDataOption=INSERT_ROWS",
                      {"majorDimension": "ROWS", "values": [row]})
        return {"ok": True, "response_id": record["response_id"]}


class _StandInHandler(BaseHTTPRequestHandler):
    server: AppsScriptStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if urlsplit(self.path).path != EXEC_PATH:
            self._send(404, b"not found", "text/plain")
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = ctype == "application/x-www-form-urlencoded"
        if form:
            fields = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        else:
            fields = {k: "" if v is None else str(v) for k, v in json.loads(raw).items()}
        answer = self.server.accept(fields)
        if form:
            title = "Cảm ơn Ông/Bà!" if answer["ok"] else "Chưa gửi được phiếu"
            body = (f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}'
                    f"</title></head><body><h1>{title}</h1></body></html>").encode()
            content = ("text/html; charset=utf-8", body)
        else:
            content = ("application/json; charset=utf-8", json.dumps(answer).encode())
        key = uuid.uuid4().hex
        self.server.echo[key] = content
        # script.google.com answers a POST with a redirect to the content on another host
        self._send(302, b"", "text/plain", {"Location": f"/macros/echo?user_content_key={key}"})

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/macros/echo":
            key = parse_qs(url.query).get("user_content_key", [""])[0]
            if key in self.server.echo:
                ctype, body = self.server.echo.pop(key)
                self._send(200, body, ctype)
                return
        self._send(404, b"not found", "text/plain")


def survey_for_today(folder: Path):
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    toml = SMALL_TOML.replace('start = "2024-06-12"', f'start = "{today - dt.timedelta(days=1)}"')
    toml = toml.replace('end = "2024-06-14"', f'end = "{today + dt.timedelta(days=1)}"')
    toml += f'\n[scoring]\nmin_responses = 1\n\n[sheets]\nspreadsheet_id = "{SHEET}"\n'
    return load_survey(write_survey(folder, toml=toml))


def fill(page, survey, answer: str, comment: str) -> None:
    page.check('input[name="respondent_type"][value="individual"]', force=True)
    for q in survey.scale_questions:
        page.check(f'input[name="{q.id}"][value="{answer}"]', force=True)
    page.check('input[name="kenh"][value="Người quen"]', force=True)
    page.fill('textarea[name="comment"]', comment)


@pytest.mark.browser
def test_page_to_apps_script_to_sheet_to_weekly_ranking(tmp_path, monkeypatch):
    from browser import PHONE, chromium

    from hailong.collect.build import build_site
    from hailong.collect.serve import make_server
    from hailong.ingest.pull import pull
    from hailong.jobs import weekly

    survey = survey_for_today(tmp_path / "survey")
    out = tmp_path / "out"
    servers = []
    with FakeSheets() as fake:
        fake.add_spreadsheet(SHEET, {"Responses": []})
        standin = AppsScriptStandIn(survey, fake.url)
        servers.append(standin)
        # survey.toml demands an https:// /exec address; the stand-in is plain http on loopback
        survey.collector = Section({"kind": "apps_script", "url": standin.exec_url})
        build_site([survey], out)
        unit_page = Layout(out, survey.id).unit_page("X01").read_text("utf-8")
        assert f'action="{standin.exec_url}"' in unit_page
        site = make_server([survey], out)
        servers.append(site)
        for srv in servers:
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        base = f"http://127.0.0.1:{site.server_address[1]}"
        try:
            with chromium() as browser:
                visits = [("X01", "5", INJECTION, True), ("X02", "4", "Cán bộ hướng dẫn tận tình", True),
                          ("X02", "2", "Phải chờ lâu", False)]
                for code, value, comment, javascript in visits:
                    context = browser.new_context(**PHONE, java_script_enabled=javascript)
                    page = context.new_page()
                    page.goto(f"{base}/{survey.id}/u/{code}/")
                    fill(page, survey, value, comment)
                    page.click("#gui")
                    if javascript:
                        page.wait_for_selector("#cam-on:not([hidden])", timeout=20000)
                        assert "đã được gửi" in page.inner_text("#cam-on-chu")
                    else:  # the plain form follows the redirect to the thank-you page
                        page.wait_for_url("**/macros/echo?**", timeout=20000)
                        assert "Cảm ơn Ông/Bà!" in page.content()
                    context.close()
        finally:
            for srv in servers:
                srv.shutdown()
                srv.server_close()

        rows = fake.tab(SHEET).rows
        assert rows[0][:2] == ["submitted_at", "response_id"]
        assert len(rows) == 4
        assert not any(isinstance(cell, Formula) for row in rows for cell in row)
        assert rows[1][-1] == INJECTION  # kept as text behind the quote prefix

        monkeypatch.setenv("SHEETS_API_ENDPOINT", fake.url)
        monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
        summary = weekly(survey, out)
        assert f"{SHEET}: 3 new" in summary
        fake.requests.clear()
        assert f"{SHEET}: 0 new" in pull(survey, out)
        assert fake.request_count == 1

    data = Layout(out, survey.id)
    with open(data.data_file("responses.csv"), newline="", encoding="utf-8-sig") as fh:
        accepted = list(csv.DictReader(fh))
    assert sorted(r["unit_code"] for r in accepted) == ["X01", "X02", "X02"]
    # written formula-safe (a leading apostrophe), read back as the text the citizen sent
    assert {r["comment"] for r in accepted} == {"'" + INJECTION, "Cán bộ hướng dẫn tận tình", "Phải chờ lâu"}
    assert {restore(r["comment"]) for r in accepted} == {INJECTION, "Cán bộ hướng dẫn tận tình",
                                                          "Phải chờ lâu"}
    with open(data.data_file("ranking.csv"), newline="", encoding="utf-8-sig") as fh:
        ranking = {r["unit_code"]: r for r in csv.DictReader(fh)}
    assert (ranking["X01"]["n"], ranking["X01"]["ranked"], ranking["X01"]["index"]) == ("1", "true", "100.00")
    assert (ranking["X02"]["n"], ranking["X02"]["ranked"], ranking["X02"]["index"]) == ("2", "true", "50.00")
    assert ranking["X01"]["rank"] == "1" and ranking["X02"]["rank"] == "2"
    assert ranking["X03"]["ranked"] == "false"
    results_page = (data.results / "index.html").read_text("utf-8")
    assert "Xã Tiên Điền" in results_page and "Xã Xuân An" in results_page
    published = "".join(p.read_text("utf-8", errors="ignore") for p in data.results.rglob("*") if p.is_file())
    assert "Cán bộ hướng dẫn tận tình" not in published and "evil.example" not in published
