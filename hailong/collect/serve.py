"""`hailong serve`: a local preview server, for development only.

It serves the built site (`<out>/site/`) and stands in for the collector: the survey form's POST
to `/api/responses` lands in the survey's embedded local sheet. It does the few checks a
collector does (known survey, known unit, size, at least one answer); validation proper happens
at `score`.

Whatever arrives gets an HTTP answer (4xx with the Vietnamese message the page shows, for the
client's mistakes) or, when the client is too slow, a closed connection: every read has a time
limit, a request must be read whole within REQUEST_DEADLINE, and at most MAX_CONNECTIONS are
served at once (the rest get 503 at once). A body is read only with a Content-Length and only
whole; a connection whose body was not read is closed, so a body is never taken for a request.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import mimetypes
import posixpath
import socket
import sys
import threading
import time
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
READ_TIMEOUT = 10.0  # seconds a connection may stay silent (an idle keep-alive included)
REQUEST_DEADLINE = 30.0  # seconds to send one whole request, however it trickles in
MAX_CONNECTIONS = 64  # served at once; a phone on 3G needs one, a room of them a few dozen
EMPTY_MESSAGE = ('Ông/bà chưa trả lời câu nào. Xin chọn ít nhất một câu trả lời rồi bấm '
                 '"Gửi ý kiến".')  # the page's own words (site/static/survey.js)
ERROR_MESSAGES = {
    400: "Yêu cầu không hợp lệ.",
    404: "Không có trang ở địa chỉ này.",
    408: "Yêu cầu gửi quá chậm; xin thử lại.",
    411: "Yêu cầu không hợp lệ (thiếu độ dài nội dung).",
    413: "Phiếu gửi lên quá lớn; xin rút ngắn phần ý kiến rồi gửi lại.",
    414: "Địa chỉ quá dài.",
    431: "Phần đầu yêu cầu quá lớn.",
    501: "Máy chủ không hỗ trợ yêu cầu này.",
    503: "Máy chủ đang bận; xin thử lại sau ít phút.",
}
BUSY = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Retry-After: 5\r\nConnection: close\r\nContent-Length: {n}\r\n\r\n{body}")

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
    guessed, _encoding = mimetypes.guess_type(path.name)
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
    default_request_version = "HTTP/1.0"  # not 0.9: even a refusal of "GET" alone has a status line
    timeout = READ_TIMEOUT  # StreamRequestHandler sets it on the socket: no read waits longer

    # -- time limits and the answers http.server gives itself -----------------------------------
    def handle_one_request(self) -> None:
        self.server.watch(self)
        try:
            super().handle_one_request()
        except OSError:  # timed out, cut off by the deadline, or the client went away
            self.close_connection = True
        finally:
            self.server.unwatch(self)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a bad request line, too long a URL, an unknown method)
        in Vietnamese, and the connection closed: what follows cannot be trusted."""
        self.close_connection = True
        text = ERROR_MESSAGES.get(code, "Yêu cầu không hợp lệ.")
        body = page("Không xử lý được yêu cầu", f"<p>{html.escape(text)}</p>")
        try:
            self.send_response(code)  # the standard phrase: `message` may quote what was sent
            self.send_header("Content-Type", TEXT_TYPES[".html"])
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass

    def _body_left_unread(self) -> None:
        """A request whose body is not read: close after answering, so it is never parsed."""
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") or \
                self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def _guarded(self, work) -> None:
        """Any failure of ours still gets an answer (500), never a dropped connection."""
        try:
            work()
        except OSError:
            self.close_connection = True  # the client went away or timed out: nobody to answer
        except Exception as exc:  # noqa: BLE001 (a server must answer whatever went wrong)
            self.server.log_error("%s %s: %s: %s", self.command, self.path[:200],
                                  type(exc).__name__, exc)
            self.close_connection = True
            try:
                self._send_page(500, "Lỗi máy chủ", "<p>Máy chủ gặp lỗi; xin thử lại sau ít phút.</p>")
            except OSError:
                pass

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
        self.server.unwatch(self)
        self._body_left_unread()
        self._guarded(lambda: self._static(head_only=False))

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.unwatch(self)
        self._body_left_unread()
        self._guarded(lambda: self._static(head_only=True))

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
        self.server.unwatch(self)
        self._body_left_unread()
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        self._guarded(self._post)

    def _post(self) -> None:
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

    def _read_body(self) -> bytes:
        """The whole body, or a refusal; a connection whose body is not read whole is closed."""
        given = self.headers.get("Content-Length")
        try:
            length = int(given) if given is not None and given.strip().isdigit() else -1
        except ValueError:
            length = -1
        if length < 0 or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the body's end is unknown: do not reuse the connection
            raise Rejected(HTTPStatus.LENGTH_REQUIRED, ERROR_MESSAGES[411])
        if length > MAX_BODY:
            self.close_connection = True  # the body is not read; do not reuse the connection
            raise Rejected(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, ERROR_MESSAGES[413])
        raw = self.rfile.read(length)
        self.server.unwatch(self)  # read whole: from here on the time is ours, not the client's
        if len(raw) < length:
            self.close_connection = True  # half sent: never take part of a form for the form
            raise Rejected(HTTPStatus.BAD_REQUEST, "Phiếu gửi lên chưa trọn vẹn; xin gửi lại.")
        return raw

    def _read_fields(self, ctype: str, is_form: bool) -> dict[str, str]:
        raw = self._read_body()
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
        except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
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
        try:
            return json.dumps(value, ensure_ascii=False)
        except (ValueError, RecursionError):
            raise Rejected(HTTPStatus.BAD_REQUEST, "Nội dung phiếu không đọc được (JSON lỗi).") from None
    return str(value)


class PreviewServer(ThreadingHTTPServer):
    daemon_threads = True
    # Ctrl-C stops at once: server_close does not wait for the request threads. Python 3.11's
    # ThreadingMixIn joins even daemon threads when block_on_close is set, so a request thread
    # still waiting on its connection could hold the server open (by hand, a stop once took
    # 20 s and once over a minute, in about sixty; not caught in the act, so this is the likely
    # cause, not a proven one). An answer is written and synced before its reply is sent, so
    # no answer that a phone saw confirmed is lost.
    block_on_close = False
    request_queue_size = 128  # a room of phones submitting at once must not be refused

    def __init__(self, address: tuple[str, int], surveys: Sequence[Survey], out: Path,
                 verbose: bool = False):
        self.surveys = {s.id: s for s in surveys}
        self.out = Path(out)
        self.site = self.out / "site"
        self.verbose = verbose
        self.clock = lambda: dt.datetime.now(dt.UTC)  # replaced by tests to move "today"
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._deadlines: dict[Handler, float] = {}
        self._deadlines_lock = threading.Lock()
        self._closed = threading.Event()
        super().__init__(address, Handler)
        threading.Thread(target=self._enforce_deadlines, daemon=True,
                         name="hailong-serve-deadlines").start()

    # -- limits: connections at once, time to send a request ------------------------------------
    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            body = ERROR_MESSAGES[503].encode("utf-8")
            try:
                request.settimeout(1.0)
                request.sendall(BUSY.format(n=len(body), body="").encode("ascii") + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def watch(self, handler: Handler) -> None:
        with self._deadlines_lock:
            self._deadlines[handler] = time.monotonic() + REQUEST_DEADLINE

    def unwatch(self, handler: Handler) -> None:
        with self._deadlines_lock:
            self._deadlines.pop(handler, None)

    def _enforce_deadlines(self) -> None:
        """Cut off a client still sending its request after REQUEST_DEADLINE (a slow trickle
        resets no clock): its blocked read ends and its thread is free again."""
        while not self._closed.wait(0.25):
            now = time.monotonic()
            with self._deadlines_lock:
                late = [h for h, t in self._deadlines.items() if t < now]
                for h in late:
                    del self._deadlines[h]
            for h in late:
                try:
                    h.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def server_close(self) -> None:
        self._closed.set()
        super().server_close()

    def resolve(self, url_path: str) -> Path | None:
        """The file or folder under the site that a URL path names, or None (never outside)."""
        parts = [p for p in posixpath.normpath(unquote(url_path)).split("/") if p not in ("", ".")]
        if any(p == ".." or "\\" in p or "\0" in p for p in parts):
            return None
        try:
            root = self.site.resolve()
            target = root.joinpath(*parts).resolve()
            if target != root and root not in target.parents:
                return None  # e.g. a symlink pointing out of the site
            return target if target.exists() else None
        except (OSError, ValueError):  # a name longer than the file system allows, a loop…
            return None

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
        refuse_empty(survey, fields)
        row = {c: nfc(fields.get(c, "")) for c in survey.response_columns}
        row["survey_id"] = survey.id
        row["submitted_at"] = now.astimezone(survey.tz).isoformat(timespec="seconds")
        if not row["response_id"].strip():
            row["response_id"] = str(uuid.uuid4())
        try:
            append_row(Layout(self.out, survey.id).sheet_csv, survey.response_columns, row)
        except (HailongError, OSError) as exc:  # OSError: a full disk, a lock held too long…
            self.log_error("%s", exc)
            raise Rejected(HTTPStatus.INTERNAL_SERVER_ERROR,
                           "Máy chủ chưa ghi được phiếu; xin thử lại sau ít phút.") from None
        return survey, row

    def log_error(self, fmt: str, *args) -> None:
        sys.stderr.write("hailong serve: " + (fmt % args) + "\n")


def refuse_empty(survey: Survey, fields: dict[str, str]) -> None:
    """A submission answering no question (a form sent without JavaScript and untouched) is
    refused with the page's own words rather than written and counted."""
    if survey.answers_nothing(fields):
        raise Rejected(HTTPStatus.BAD_REQUEST, EMPTY_MESSAGE)


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
