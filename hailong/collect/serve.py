"""`hailong serve`: a local preview server, for development only.

It serves the built site (`<out>/site/`) and stands in for the collector: the survey form's POST
to `/api/responses` lands in the survey's embedded local sheet. It does the few checks a
collector does (known survey, known unit, size); validation proper happens at `score`.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import mimetypes
import posixpath
import sys
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

from hailong.collect.localsheet import append_row
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey.load import Survey
from hailong.survey.tables import nfc

API_PATH = "/api/responses"
MAX_BODY = 64 * 1024  # a filled form is a few kilobytes
THANKS_SEGMENT = "cam-on"

TEXT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".webmanifest": "application/manifest+json; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".xml": "application/xml; charset=utf-8",
}

PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family:sans-serif;max-width:36em;margin:2em auto;padding:0 1em;line-height:1.5">
<h1 style="font-size:1.4em">{title}</h1>
{body}
</body></html>
"""


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in TEXT_TYPES:
        return TEXT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def page(title: str, body_html: str) -> bytes:
    return PAGE.format(title=html.escape(title), body=body_html).encode("utf-8")


class Rejected(Exception):
    """A submission the collector refuses: an HTTP status and a Vietnamese message; `title`
    (optional) replaces the form page's "try again" heading for a refusal that is final."""

    def __init__(self, status: HTTPStatus, message: str, title: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.title = title


TRIAL_FIELD = "xem_thu"  # sent by a page opened with ?xem-thu (staff trying a closed survey)


def _in_window(survey: Survey, moment: dt.datetime) -> bool:
    return survey.start <= moment.astimezone(survey.tz).date() <= survey.end


def _started(fields: dict[str, str]) -> dt.datetime | None:
    try:
        started = dt.datetime.fromisoformat(fields.get("started_at", "").strip())
    except ValueError:
        return None
    return started if started.tzinfo is not None else None


def refuse_outside_window(survey: Survey, fields: dict[str, str], now: dt.datetime) -> None:
    """Refuse an answer sent on a day outside the survey's window (local dates, inclusive),
    with the words the closed page shows: telling a citizen "recorded" for an answer that
    `score` quarantines would be a lie. Taken anyway, for `score` to quarantine as outside the
    window: a staff trial (?xem-thu), and an answer the page saved in its outbox while the
    survey was open (its started_at inside the window), so that nothing saved is lost."""
    started = _started(fields)
    if fields.get(TRIAL_FIELD, "").strip() or (started is not None and _in_window(survey, started)):
        return
    today = now.astimezone(survey.tz).date()
    if today > survey.end:
        text = f"Đợt khảo sát đã kết thúc ngày {survey.end:%d/%m/%Y}."
    elif today < survey.start:
        text = f"Đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày {survey.start:%d/%m/%Y}."
    else:
        return
    raise Rejected(HTTPStatus.FORBIDDEN, text + " Cảm ơn ông/bà đã quan tâm.",
                   title="Đợt khảo sát không nhận phiếu")


class Handler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "hailong-preview"
    protocol_version = "HTTP/1.1"

    # -- plumbing ------------------------------------------------------------------------------
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None,
              head_only: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def _send_page(self, status: int, title: str, body_html: str, head_only: bool = False) -> None:
        self._send(status, page(title, body_html), TEXT_TYPES[".html"], head_only=head_only)

    # -- static files --------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._static(head_only=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._static(head_only=True)

    def _static(self, head_only: bool) -> None:
        url = urlsplit(self.path)
        if url.path == API_PATH:
            self._send_page(405, "Không hỗ trợ", "<p>Địa chỉ này chỉ nhận phiếu gửi lên (POST).</p>",
                            head_only)
            return
        target = self.server.resolve(url.path)
        if target is None:
            self._not_found(head_only)
            return
        if target.is_dir():
            if not url.path.endswith("/"):
                # relative links in the pages need the trailing slash
                location = quote(url.path) + "/" + (f"?{url.query}" if url.query else "")
                self._send(301, b"", "text/plain", {"Location": location}, head_only=True)
                return
            index = target / "index.html"
            if not index.is_file():
                if url.path == "/":
                    self._survey_list(head_only)
                else:
                    self._not_found(head_only)
                return
            target = index
        try:
            body = target.read_bytes()
        except OSError:
            self._not_found(head_only)
            return
        self._send(200, body, content_type(target), head_only=head_only)

    def _not_found(self, head_only: bool) -> None:
        hint = ""
        if not self.server.site.exists():
            hint = "<p>Chưa có trang nào: hãy chạy <code>hailong build</code> trước.</p>"
        self._send_page(404, "Không tìm thấy trang", "<p>Không có trang ở địa chỉ này.</p>" + hint,
                        head_only)

    def _survey_list(self, head_only: bool) -> None:
        items = "".join(
            f'<li><a href="{html.escape(s.id)}/">{html.escape(s.title)}</a></li>'
            for s in self.server.surveys.values()
        )
        self._send_page(200, "Các cuộc khảo sát", f"<ul>{items}</ul>", head_only)

    # -- the collector -------------------------------------------------------------------------
    def do_OPTIONS(self) -> None:  # noqa: N802
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != API_PATH:
            self.close_connection = True  # its body is not read: never parse it as a request
            self._send_page(404, "Không tìm thấy", "<p>Địa chỉ này không nhận phiếu.</p>")
            return
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        is_form = ctype == "application/x-www-form-urlencoded"
        try:
            fields = self._read_fields(ctype, is_form)
            survey, row = self.server.accept(fields)
        except Rejected as exc:
            self._reject(exc, is_form)
            return
        if is_form:
            self._thank(survey)
        else:
            body = json.dumps({"ok": True, "response_id": row["response_id"]}).encode("utf-8")
            self._send(200, body, "application/json; charset=utf-8",
                       {"Access-Control-Allow-Origin": "*"})

    def _read_fields(self, ctype: str, is_form: bool) -> dict[str, str]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # the body's end is unknown: do not reuse the connection
            raise Rejected(HTTPStatus.BAD_REQUEST, "Yêu cầu không hợp lệ (thiếu độ dài nội dung).")
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read; do not reuse the connection
            raise Rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           "Phiếu gửi lên quá lớn; xin rút ngắn phần ý kiến rồi gửi lại.")
        raw = self.rfile.read(length)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(HTTPStatus.BAD_REQUEST, "Nội dung phiếu không đúng mã UTF-8.") from None
        if is_form:
            parsed = parse_qs(text, keep_blank_values=True)
            return {k: v[0] for k, v in parsed.items()}
        if ctype not in ("", "text/plain", "application/json"):
            raise Rejected(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                           "Kiểu nội dung không được hỗ trợ; hãy gửi biểu mẫu hoặc JSON.")
        try:
            data = json.loads(text)
        except ValueError:
            raise Rejected(HTTPStatus.BAD_REQUEST, "Nội dung phiếu không đọc được (JSON lỗi).") from None
        if not isinstance(data, dict):
            raise Rejected(HTTPStatus.BAD_REQUEST, "Nội dung phiếu phải là một đối tượng JSON.")
        return {str(k): _text(v) for k, v in data.items()}

    def _reject(self, exc: Rejected, is_form: bool) -> None:
        if is_form and exc.title:
            self._send(exc.status, page(exc.title, f"<p>{html.escape(exc.message)}</p>"),
                       TEXT_TYPES[".html"])
        elif is_form:
            body = (f"<p>{html.escape(exc.message)}</p>"
                    "<p>Xin quay lại trang trước, kiểm tra rồi gửi lại phiếu.</p>")
            self._send(exc.status, page("Chưa gửi được phiếu", body), TEXT_TYPES[".html"])
        else:
            body = json.dumps({"ok": False, "error": exc.message}, ensure_ascii=False).encode("utf-8")
            self._send(exc.status, body, "application/json; charset=utf-8",
                       {"Access-Control-Allow-Origin": "*"})

    def _thank(self, survey: Survey) -> None:
        thanks = Layout(self.server.out, survey.id).survey_site / THANKS_SEGMENT / "index.html"
        if thanks.is_file():
            self._send(303, b"", "text/plain", {"Location": f"/{survey.id}/{THANKS_SEGMENT}/"})
            return
        self._send_page(200, "Cảm ơn Ông/Bà!",
                        f"<p>Phiếu khảo sát “{html.escape(survey.title)}” đã được ghi nhận.</p>"
                        "<p>Cảm ơn Ông/Bà đã dành thời gian góp ý.</p>")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a room of phones submitting at once must not be refused

    def __init__(self, address: tuple[str, int], surveys: Sequence[Survey], out: Path,
                 verbose: bool = False):
        self.surveys = {s.id: s for s in surveys}
        self.out = Path(out)
        self.site = self.out / "site"
        self.verbose = verbose
        self.clock = lambda: dt.datetime.now(dt.UTC)  # replaced by tests to move "today"
        super().__init__(address, Handler)

    def resolve(self, url_path: str) -> Path | None:
        """The file or folder under the site that a URL path names, or None (never outside)."""
        parts = [p for p in posixpath.normpath(unquote(url_path)).split("/") if p not in ("", ".")]
        if any(p == ".." or "\\" in p or "\0" in p for p in parts):
            return None
        root = self.site.resolve()
        target = root.joinpath(*parts).resolve()
        if target != root and root not in target.parents:
            return None  # e.g. a symlink pointing out of the site
        return target if target.exists() else None

    def accept(self, fields: dict[str, str]) -> tuple[Survey, dict[str, str]]:
        """Check a submission and append it to its survey's local sheet."""
        sid = fields.get("survey_id", "").strip()
        if not sid and len(self.surveys) == 1:
            sid = next(iter(self.surveys))
        survey = self.surveys.get(sid)
        if survey is None:
            raise Rejected(HTTPStatus.BAD_REQUEST, "Phiếu không thuộc cuộc khảo sát nào đang mở ở đây.")
        if survey.find_unit(fields.get("unit_code", "")) is None:
            raise Rejected(HTTPStatus.BAD_REQUEST,
                           "Mã đơn vị trên phiếu không có trong danh sách; xin quét lại mã QR tại nơi làm thủ tục.")
        now = self.clock()
        refuse_outside_window(survey, fields, now)
        row = {c: nfc(fields.get(c, "")) for c in survey.response_columns}
        row["survey_id"] = survey.id
        row["submitted_at"] = now.astimezone(survey.tz).isoformat(timespec="seconds")
        if not row["response_id"].strip():
            row["response_id"] = str(uuid.uuid4())
        try:
            append_row(Layout(self.out, survey.id).sheet_csv, survey.response_columns, row)
        except HailongError as exc:
            self.log_error("%s", exc)
            raise Rejected(HTTPStatus.INTERNAL_SERVER_ERROR,
                           "Máy chủ chưa ghi được phiếu; xin thử lại sau ít phút.") from None
        return survey, row

    def log_error(self, fmt: str, *args) -> None:
        sys.stderr.write("hailong serve: " + (fmt % args) + "\n")


def make_server(surveys: Sequence[Survey], out: str | Path, host: str = "127.0.0.1",
                port: int = 0, verbose: bool = False) -> PreviewServer:
    """A preview server bound to host:port (0 = any free port); call serve_forever() on it."""
    return PreviewServer((host, port), surveys, Path(out), verbose=verbose)


def start_lines(surveys: Sequence[Survey], out: str | Path, base: str,
                now: dt.datetime | None = None) -> list[str]:
    """What `serve` says at start: where each survey's pages are and where their answers go
    (the truth: an Apps Script survey's pages post to Google, not here), and a warning for a
    survey whose window does not include today, since its pages then refuse to show the form."""
    out = Path(out)
    lines = [_("Serving {value} at {base} (development only; Ctrl-C to stop)",
               value=out / 'site', base=base)]
    for s in surveys:
        sheet = Layout(out, s.id).sheet_csv
        if s.collector.kind == "apps_script":
            lines.append("  " + _("{s_id}: {base}{s_id}/  its pages post to its Apps Script "
                                  "address {url}: answers typed here go to the Google Sheet, not "
                                  "to {sheet}",
                                  s_id=s.id, base=base, url=s.collector.url, sheet=sheet))
        else:
            lines.append("  " + _("{s_id}: {base}{s_id}/  answers go to {sheet}",
                                  s_id=s.id, base=base, sheet=sheet))
        today = (now or dt.datetime.now(dt.UTC)).astimezone(s.tz).date()
        if not s.start <= today <= s.end:
            state = _("is over") if today > s.end else _("has not started yet")
            lines.append("  " + _("warning: {s_id} runs {start} to {end} ([window] in "
                                  "survey.toml) and today is {today}: its pages say the survey "
                                  "{state} instead of showing the form, and `score` quarantines "
                                  "answers outside the window; to try the form anyway, add "
                                  "?xem-thu to a page's address, e.g. "
                                  "{base}{s_id}/u/{code}/?xem-thu",
                                  s_id=s.id, start=s.start, end=s.end, today=today, state=state,
                                  base=base, code=s.units[0].code))
    if not (out / "site").exists():
        lines.append("  " + _("note: no site yet; run `hailong build` first"))
    return lines


def serve(surveys: Sequence[Survey], out: str | Path, port: int = 8000) -> None:
    """Serve until Ctrl-C (development only: no TLS, no rate limit, local address only)."""
    try:
        server = make_server(surveys, out, port=port, verbose=True)
    except OSError as exc:
        raise HailongError(_("cannot listen on 127.0.0.1:{port} ({strerror}); try another port "
                             "with --port",
                             port=port, strerror=exc.strerror)) from None
    host, real_port = server.server_address[:2]
    base = f"http://{host}:{real_port}/"
    print("\n".join(start_lines(surveys, out, base)), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print(_("stopped"))
    finally:
        server.server_close()
