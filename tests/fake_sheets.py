"""A fake Google Sheets v4 server for tests and benchmarks (stdlib only).

It answers the requests google-api-python-client makes from the bundled discovery document
(`rootUrl` replaced by `SHEETS_API_ENDPOINT`):

    GET  /v4/spreadsheets/{id}                          spreadsheets.get
    GET  /v4/spreadsheets/{id}/values/{range}           values.get
    GET  /v4/spreadsheets/{id}/values:batchGet?ranges=  values.batchGet
    POST /v4/spreadsheets/{id}/values/{range}:append    values.append
    POST /token                                         OAuth token endpoint (service accounts)

with Google's shapes: A1 ranges (`Responses!A2:Y20001`, `'My tab'!1:1`, `A:Z`), `majorDimension`,
`valueRanges`, trailing empty cells and rows dropped, no `values` key for an empty range, the
returned range clipped to the grid, errors as `{"error": {"code", "message", "status"}}`.

Each tab has a grid (`row_count` x `column_count`, 1000 x 26 for a new tab), as in Google: a range
that starts inside the grid and ends beyond it is clipped, but one that starts below the last
grid row (or right of the last column) is refused with 400 "Range (…) exceeds grid limits. Max
rows: N, max columns: M". Writing past the grid grows it (values.append with OVERWRITE, the
default, and Apps Script's appendRow fill the empty grid rows first; INSERT_ROWS inserts new
ones); deleting rows (`delete_rows`) shrinks it. spreadsheets.get honours a `fields` mask.
Faults can be injected (an HTTP status, a slow answer, a dropped connection), and every API
request is counted. `python tests/fake_sheets.py --rows N` serves a generated sheet (the bench).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SERIAL_EPOCH = dt.datetime(1899, 12, 30)
PROXY_PAGE = ("<!doctype html><html><head><title>Truy cập bị chặn</title></head><body><h1>Mạng nội "
              "bộ: trang này bị chặn</h1></body></html>").encode()
LOGIN_PAGE = ("<!doctype html><html><head><title>Đăng nhập</title></head><body><form>Đăng nhập "
              "mạng Wi-Fi</form></body></html>").encode()
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
QUOTA_MESSAGE = ("Quota exceeded for quota metric 'Read requests' and limit 'Read requests per "
                 "minute per user' of service 'sheets.googleapis.com'")


@dataclass(frozen=True)
class Formula:
    """A cell holding a formula (what USER_ENTERED makes of a string starting with '=')."""

    text: str


class ApiError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Tab:
    title: str
    sheet_id: int
    rows: list[list[Any]] = field(default_factory=list)
    row_count: int = 1000
    column_count: int = 26

    def grow(self) -> None:
        """Widen the grid to hold every written row (Sheets adds rows and columns as needed)."""
        self.row_count = max(self.row_count, len(self.rows))
        width = max((len(r) for r in self.rows[-1000:]), default=0)
        self.column_count = max(self.column_count, width)


@dataclass
class Book:
    id: str
    title: str
    time_zone: str
    locale: str
    tabs: dict[str, Tab]
    viewers: set[str] | None = None  # None: readable by anyone (and anonymous callers)


# -- A1 notation -------------------------------------------------------------------------------
def col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def col_letters(n: int) -> str:
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def quote_title(title: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_]+", title) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")


def split_range(text: str) -> tuple[str | None, str]:
    """('Responses', 'A2:Y9') from "Responses!A2:Y9" or "'My tab'!A2:Y9"; (None, cells) without '!'."""
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'":
                if text[i + 1: i + 2] == "'":
                    title += "'"
                    i += 2
                    continue
                break
            title += text[i]
            i += 1
        rest = text[i + 1:]
        if rest and not rest.startswith("!"):
            raise ApiError(400, f"Unable to parse range: {text}")
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.partition("!")
        return title, cells
    return None, text


def parse_cells(cells: str, original: str) -> tuple[int, int, int | None, int | None]:
    """0-based (row0, col0, row_end, col_end) with exclusive ends; None: unbounded."""
    if not cells:
        return 0, 0, None, None
    first, sep, last = cells.partition(":")
    a = CELL.match(first)
    b = CELL.match(last) if sep else a
    if not a or not b or not (a.group(1) or a.group(2)) or not (b.group(1) or b.group(2)):
        raise ApiError(400, f"Unable to parse range: {original}")
    row0 = int(a.group(2)) - 1 if a.group(2) else 0
    col0 = col_number(a.group(1)) - 1 if a.group(1) else 0
    row_end = int(b.group(2)) if b.group(2) else None
    col_end = col_number(b.group(1)) if b.group(1) else None
    if row0 < 0 or (row_end is not None and row_end <= row0) or (col_end is not None and col_end <= col0):
        raise ApiError(400, f"Unable to parse range: {original}")
    return row0, col0, row_end, col_end


# -- cell rendering ----------------------------------------------------------------------------
def serial(value: dt.datetime) -> float:
    return (value - SERIAL_EPOCH) / dt.timedelta(days=1)


def formatted(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return f"{value.month}/{value.day}/{value.year} {value.hour}:{value.minute:02d}:{value.second:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Formula):
        return "#ERROR!"
    return str(value)


def render(value: Any, value_option: str, date_option: str) -> Any:
    if value_option == "FORMATTED_VALUE":
        return formatted(value)
    if isinstance(value, Formula):
        return value.text if value_option == "FORMULA" else "#ERROR!"
    if isinstance(value, dt.datetime):
        return formatted(value) if date_option == "FORMATTED_STRING" else serial(value)
    return value


def user_entered(value: Any) -> Any:
    """What Sheets stores for a value written with valueInputOption=USER_ENTERED."""
    if not isinstance(value, str):
        return value
    if value.startswith("'"):
        return value[1:]  # the quote prefix: kept as text, the apostrophe itself is not stored
    if value.startswith("="):
        return Formula(value)
    if re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    if re.fullmatch(r"[+-]?\d*\.\d+", value):
        return float(value)
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    return value


def _empty(v: Any) -> bool:
    return v is None or v == ""


# -- the server --------------------------------------------------------------------------------
class FakeSheets:
    """The fake's state; `with FakeSheets() as fake:` serves it on 127.0.0.1 (fake.url)."""

    def __init__(self) -> None:
        self.books: dict[str, Book] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request
        self.token_requests = 0
        self.tokens: dict[str, str] = {}  # access token -> service-account e-mail
        self._faults: deque[dict[str, Any]] = deque()
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- setting up data ---------------------------------------------------------------------
    def add_spreadsheet(self, spreadsheet_id: str, tabs: dict[str, list[list[Any]]] | None = None,
                        *, title: str = "Phiếu khảo sát", time_zone: str = "Asia/Ho_Chi_Minh",
                        viewers: set[str] | None = None, row_count: int = 1000) -> Book:
        """A spreadsheet whose tabs have grids of `row_count` rows, or as many as their rows."""
        tabs = {"Responses": []} if tabs is None else tabs
        book = Book(spreadsheet_id, title, time_zone, "vi_VN", {}, viewers)
        for i, (name, rows) in enumerate(tabs.items()):
            tab = Tab(name, i * 1000 + 1, [list(r) for r in rows], row_count=row_count)
            tab.grow()
            book.tabs[name] = tab
        with self._lock:
            self.books[spreadsheet_id] = book
        return book

    def tab(self, spreadsheet_id: str, title: str = "Responses") -> Tab:
        return self.books[spreadsheet_id].tabs[title]

    def extend(self, spreadsheet_id: str, rows: list[list[Any]], title: str = "Responses") -> None:
        with self._lock:
            tab = self.tab(spreadsheet_id, title)
            tab.rows.extend(list(r) for r in rows)
            tab.grow()

    def delete_rows(self, spreadsheet_id: str, first: int, count: int, title: str = "Responses") -> None:
        """Delete `count` grid rows from sheet row `first` (1-based), as Edit → Delete rows does."""
        with self._lock:
            tab = self.tab(spreadsheet_id, title)
            del tab.rows[first - 1:first - 1 + count]
            tab.row_count = max(1, tab.row_count - max(0, min(count, tab.row_count - first + 1)))

    BAD_ANSWERS = ("truncated", "html", "shape", "redirect", "empty")

    def inject(self, kind: str, *, times: int = 1, after: int = 0, status: int = 500,
               delay: float = 0.0, message: str = "", payload: Any = None) -> None:
        """Make API requests fail: kind "status" (answer `status`), "slow" (wait `delay` seconds,
        then answer normally) or "drop" (close the connection without an answer), `times` times,
        after `after` requests answered normally. Answers a server or proxy can give instead of
        the data: "truncated" (the real answer cut short of its Content-Length), "html" (200
        with a proxy's HTML page), "shape" (200 with JSON `payload` instead of the answer),
        "redirect" (302 to a login page that answers 200 HTML), "empty" (200, no body)."""
        if kind not in ("status", "slow", "drop", *self.BAD_ANSWERS):
            raise ValueError(kind)
        with self._lock:
            self._faults.append({"kind": kind, "times": times, "after": after, "status": status,
                                 "delay": delay, "message": message, "payload": payload})

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def request_count(self) -> int:
        return len(self.requests)

    # -- serving -----------------------------------------------------------------------------
    def start(self) -> str:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "call start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSheets:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- fault injection ---------------------------------------------------------------------
    def _next_fault(self) -> dict[str, Any] | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            if fault["after"] > 0:
                fault["after"] -= 1
                return None
            fault["times"] -= 1
            if fault["times"] <= 0:
                self._faults.popleft()
            return fault

    # -- the API -----------------------------------------------------------------------------
    def _book(self, spreadsheet_id: str, caller: str | None) -> Book:
        book = self.books.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        if book.viewers is not None and caller not in book.viewers:
            raise ApiError(403, "The caller does not have permission")
        return book

    def _resolve(self, book: Book, text: str) -> tuple[Tab, tuple[int, int, int | None, int | None]]:
        title, cells = split_range(text)
        if title is None:
            if text in book.tabs:
                title, cells = text, ""
            else:
                title = next(iter(book.tabs))
        tab = book.tabs.get(title)
        if tab is None:
            raise ApiError(400, f"Unable to parse range: {text}")
        return tab, parse_cells(cells, text)

    def read_range(self, book: Book, text: str, major: str = "ROWS",
                   value_option: str = "FORMATTED_VALUE",
                   date_option: str = "SERIAL_NUMBER") -> dict[str, Any]:
        tab, (row0, col0, row_end, col_end) = self._resolve(book, text)
        if row0 >= tab.row_count or col0 >= tab.column_count:
            raise ApiError(400, f"Range ({text}) exceeds grid limits. Max rows: {tab.row_count}, "
                                f"max columns: {tab.column_count}")
        r_end = tab.row_count if row_end is None else min(row_end, tab.row_count)
        c_end = tab.column_count if col_end is None else min(col_end, tab.column_count)
        r_end, c_end = max(r_end, row0 + 1), max(c_end, col0 + 1)
        answer: dict[str, Any] = {
            "range": f"{quote_title(tab.title)}!{col_letters(col0 + 1)}{row0 + 1}:"
                     f"{col_letters(c_end)}{r_end}",
            "majorDimension": major,
        }
        values: list[list[Any]] = []
        plain = value_option == "UNFORMATTED_VALUE"
        for row in tab.rows[row0:r_end]:
            cells = row[col0:c_end]
            while cells and _empty(cells[-1]):
                cells = cells[:-1]
            cells = ["" if c is None else c for c in cells]
            if not plain or any(isinstance(c, (dt.datetime, Formula)) for c in cells):
                cells = [render(c, value_option, date_option) for c in cells]
            values.append(cells)
        while values and not values[-1]:
            values.pop()
        if values and major == "COLUMNS":
            width = max(len(r) for r in values)
            cols = [[r[i] if i < len(r) else "" for r in values] for i in range(width)]
            for col in cols:
                while col and col[-1] == "":
                    col.pop()
            values = cols
        if values:
            answer["values"] = values
        return answer

    def append(self, book: Book, text: str, body: dict[str, Any], input_option: str,
               insert_option: str = "OVERWRITE") -> dict[str, Any]:
        if input_option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "Invalid valueInputOption: must be RAW or USER_ENTERED")
        if insert_option not in ("OVERWRITE", "INSERT_ROWS"):
            raise ApiError(400, "Invalid insertDataOption: must be OVERWRITE or INSERT_ROWS")
        tab, (_row0, col0, _row_end, _col_end) = self._resolve(book, text)
        rows = body.get("values") or []
        if body.get("majorDimension", "ROWS") != "ROWS":
            raise ApiError(400, "the fake supports majorDimension ROWS only")
        with self._lock:
            last = len(tab.rows)
            while last and all(_empty(c) for c in tab.rows[last - 1]):
                last -= 1
            table = f"{quote_title(tab.title)}!A1:{col_letters(tab.column_count)}{last}" if last else None
            del tab.rows[last:]
            width = 0
            for row in rows:
                cells = [user_entered(v) if input_option == "USER_ENTERED" else v for v in row]
                tab.rows.append([None] * col0 + cells)
                width = max(width, len(cells))
            if insert_option == "INSERT_ROWS":  # new grid rows below the table, whatever is free
                tab.row_count += len(rows)
            tab.grow()
        updated = (f"{quote_title(tab.title)}!{col_letters(col0 + 1)}{last + 1}:"
                   f"{col_letters(col0 + max(width, 1))}{last + len(rows)}")
        answer: dict[str, Any] = {
            "spreadsheetId": book.id,
            "updates": {"spreadsheetId": book.id, "updatedRange": updated,
                        "updatedRows": len(rows), "updatedColumns": width,
                        "updatedCells": sum(len(r) for r in rows)},
        }
        if table:
            answer["tableRange"] = table
        return answer

    def describe(self, book: Book, fields: str | None = None) -> dict[str, Any]:
        answer = {
            "spreadsheetId": book.id,
            "properties": {"title": book.title, "locale": book.locale, "autoRecalc": "ON_CHANGE",
                           "timeZone": book.time_zone},
            "sheets": [
                {"properties": {"sheetId": t.sheet_id, "title": t.title, "index": i,
                                "sheetType": "GRID",
                                "gridProperties": {"rowCount": t.row_count,
                                                   "columnCount": t.column_count}}}
                for i, t in enumerate(book.tabs.values())
            ],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.id}/edit",
        }
        return answer if not fields else select(answer, parse_fields(fields))


# -- field masks (the `fields` parameter) --------------------------------------------------------
def parse_fields(text: str) -> dict[str, Any]:
    """A field mask as a tree: "a.b,c(d,e.f)" -> {"a": {"b": {}}, "c": {"d": {}, "e": {"f": {}}}};
    an empty dict selects the whole value."""
    tree: dict[str, Any] = {}
    stack = [tree]
    node = tree
    name = ""

    def close_name() -> None:
        nonlocal node, name
        if name:
            node.setdefault(name, {})
        name = ""
        node = stack[-1]

    for ch in text.replace(" ", ""):
        if ch == ".":
            if not name:
                raise ApiError(400, f"Invalid field selection {text}")
            node = node.setdefault(name, {})
            name = ""
        elif ch == "(":
            if not name:
                raise ApiError(400, f"Invalid field selection {text}")
            node = node.setdefault(name, {})
            stack.append(node)
            name = ""
        elif ch == ",":
            close_name()
        elif ch == ")":
            close_name()
            if len(stack) == 1:
                raise ApiError(400, f"Invalid field selection {text}")
            stack.pop()
            node = stack[-1]
        else:
            name += ch
    close_name()
    if len(stack) != 1:
        raise ApiError(400, f"Invalid field selection {text}")
    return tree


def select(value: Any, tree: dict[str, Any]) -> Any:
    """The parts of a JSON value that a field-mask tree names (lists: applied to each item)."""
    if not tree:
        return value
    if isinstance(value, list):
        return [select(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    return {k: select(value[k], sub) for k, sub in tree.items() if k in value}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up on a slow answer closed its end: expected, not worth a traceback
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeSheets

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _send(self, code: int, payload: dict[str, Any]) -> None:
        try:
            data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:  # an unpaired surrogate: JSON can still carry it, escaped
            data = json.dumps(payload, separators=(",", ":")).encode("ascii")
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, code: int, message: str) -> None:
        self._send(code, {"error": {"code": code, "message": message,
                                    "status": STATUS_NAMES.get(code, "UNKNOWN")}})

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self, method: str) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        body = self._body()
        if parts.path == "/token" and method == "POST":
            self._token(body)
            return
        if parts.path == "/login":  # where a proxy or portal sends a request it wants signed in
            self._raw(200, LOGIN_PAGE, "text/html; charset=utf-8")
            return
        if not parts.path.startswith("/v4/spreadsheets/"):
            self._error(404, f"Method not found: {parts.path}")
            return
        with fake._lock:
            fake.requests.append((method, self.path))
        fault = fake._next_fault()
        if fault and fault["kind"] == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault and fault["kind"] == "slow":
            time.sleep(fault["delay"])
        if fault and fault["kind"] in FakeSheets.BAD_ANSWERS:
            self._bad_answer(fault, method, parts, body)
            return
        if fault and fault["kind"] == "status":
            status = fault["status"]
            self._error(status, fault["message"] or (QUOTA_MESSAGE if status == 429 else
                        "Internal error encountered." if status == 500 else
                        "The service is currently unavailable."))
            return
        try:
            self._send(200, self._api(method, parts.path, parse_qs(parts.query), body))
        except ApiError as exc:
            self._error(exc.code, exc.message)

    def _raw(self, code: int, data: bytes, ctype: str, headers: dict[str, str] | None = None,
             length: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if length is not None:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def _bad_answer(self, fault: dict[str, Any], method: str, parts: Any, body: bytes) -> None:
        kind = fault["kind"]
        if kind == "truncated":
            try:
                payload = self._api(method, parts.path, parse_qs(parts.query), body)
            except ApiError as exc:
                payload = {"error": {"code": exc.code, "message": exc.message}}
            data = json.dumps(payload, separators=(",", ":")).encode("utf-8")
            self._raw(200, data[: len(data) // 2], "application/json; charset=UTF-8",
                      length=len(data))
        elif kind == "html":
            self._raw(200, PROXY_PAGE, "text/html; charset=utf-8")
        elif kind == "shape":
            data = json.dumps(fault["payload"]).encode("utf-8")
            self._raw(200, data, "application/json; charset=UTF-8")
        elif kind == "redirect":
            self._raw(302, b"", "text/html", {"Location": "/login?continue=" + parts.path})
        else:
            self._raw(200, b"", "application/json; charset=UTF-8")

    def _caller(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        token = auth[len("Bearer "):]
        if token not in self.fake.tokens:
            raise ApiError(401, "Request had invalid authentication credentials.")
        return self.fake.tokens[token]

    def _api(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> dict[str, Any]:
        fake = self.fake
        rest = path[len("/v4/spreadsheets/"):]
        verb = None
        segments = rest.split("/")
        if ":" in segments[-1]:  # values:batchGet, {range}:append (a ':' inside a range is %3A)
            segments[-1], verb = segments[-1].rsplit(":", 1)
        spreadsheet_id = unquote(segments[0])
        book = fake._book(spreadsheet_id, self._caller())
        one = {k: v[-1] for k, v in query.items()}
        value_option = one.get("valueRenderOption", "FORMATTED_VALUE")
        date_option = one.get("dateTimeRenderOption", "SERIAL_NUMBER")
        major = one.get("majorDimension", "ROWS")
        if len(segments) == 1 and verb is None and method == "GET":
            return fake.describe(book, one.get("fields"))
        if len(segments) == 2 and segments[1] == "values" and verb == "batchGet" and method == "GET":
            ranges = query.get("ranges", [])
            return {"spreadsheetId": book.id,
                    "valueRanges": [fake.read_range(book, r, major, value_option, date_option)
                                    for r in ranges]}
        if len(segments) == 3 and segments[1] == "values":
            text = unquote(segments[2])
            if verb is None and method == "GET":
                return fake.read_range(book, text, major, value_option, date_option)
            if verb == "append" and method == "POST":
                return fake.append(book, text, json.loads(body or b"{}"),
                                   one.get("valueInputOption", ""),
                                   one.get("insertDataOption", "OVERWRITE"))
        raise ApiError(404, f"Method not found: {method} {path}")

    def _token(self, body: bytes) -> None:
        """The OAuth2 token endpoint of a service account (JWT bearer grant)."""
        form = parse_qs(body.decode("utf-8"))
        assertion = form.get("assertion", [""])[0]
        try:
            payload = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (IndexError, ValueError):
            self.send_response(400)
            data = b'{"error":"invalid_grant","error_description":"Invalid JWT"}'
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        with self.fake._lock:
            self.fake.token_requests += 1
            token = f"ya29.fake-{self.fake.token_requests}"
            self.fake.tokens[token] = claims.get("iss", "")
        data = json.dumps({"access_token": token, "expires_in": 3600,
                           "token_type": "Bearer"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# -- several servers behind one endpoint --------------------------------------------------------
class Router:
    """One endpoint (SHEETS_API_ENDPOINT) in front of several FakeSheets servers, each holding
    its own spreadsheets: a request goes to the server of its spreadsheet id, as Google's
    requests for a national survey's spreadsheets land on many machines. Counts how many
    requests were in flight at once, to show that pulls overlap. Anonymous credentials only
    (a token from one server would mean nothing to the others)."""

    def __init__(self, servers: list[FakeSheets]):
        self.servers = servers
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def _backend(self, path: str) -> FakeSheets | None:
        match = re.match(r"/v4/spreadsheets/([^/:?]+)", path)
        sid = unquote(match.group(1)) if match else None
        return next((s for s in self.servers if sid in s.books), self.servers[0])

    def start(self) -> str:
        router = self

        class Forward(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._forward("GET")

            def do_POST(self) -> None:
                self._forward("POST")

            def _forward(self, method: str) -> None:
                import http.client

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                backend = router._backend(urlsplit(self.path).path)
                with router._lock:
                    router.in_flight += 1
                    router.most_in_flight = max(router.most_in_flight, router.in_flight)
                try:
                    port = backend._server.server_address[1]
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    try:
                        conn.request(method, self.path, body=body, headers=headers)
                        answer = conn.getresponse()
                        data = answer.read()
                    except (OSError, http.client.HTTPException):
                        self.close_connection = True  # the backend dropped it: so do we
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    finally:
                        conn.close()
                finally:
                    with router._lock:
                        router.in_flight -= 1
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        for server in self.servers:
            if server._server is None:
                server.start()
        self._server = _QuietServer(("127.0.0.1", 0), Forward)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None, "call start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for server in self.servers:
            server.stop()

    def __enter__(self) -> Router:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- generated data (tests and the bench) ------------------------------------------------------
def response_header(questions: list[str]) -> list[str]:
    return ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
            "respondent_key", "device_id", "ticket", "started_at", *questions, "comment"]


def generated_rows(n: int, questions: list[str], survey_id: str = "thu-nghiem",
                   units: tuple[str, ...] = ("X01", "X02", "X03"), start: int = 0) -> list[list[Any]]:
    """n response rows as Code.gs writes them (numbers for answers, text elsewhere); trailing
    empty cells are left off, as Sheets does."""
    rows = []
    for i in range(start, start + n):
        minute = i % (3 * 24 * 60)
        stamp = (f"2024-06-{12 + minute // 1440:02d}T{minute // 60 % 24:02d}:{minute % 60:02d}:00+07:00")
        row: list[Any] = [stamp, f"r-{i:08d}", survey_id, units[i % len(units)],
                          "individual", "", f"d-{i:08d}", "", stamp]
        row += [1 + (i * 7 + k) % 5 for k in range(len(questions))]
        if i % 10 == 0:
            row.append(f"góp ý {i}")
        rows.append(row)
    return rows


def main() -> None:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Serve a fake Google Sheets API with a generated sheet.")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=15)
    parser.add_argument("--spreadsheet-id", default="bench-sheet")
    args = parser.parse_args()
    questions = [f"q{i + 1}" for i in range(args.questions)]
    fake = FakeSheets()
    fake.add_spreadsheet(args.spreadsheet_id, {
        "Responses": [response_header(questions), *generated_rows(args.rows, questions)]})
    url = fake.start()
    print(url, flush=True)
    # a line on stdin asks for the request count; end of input stops the server
    for line in sys.stdin:
        if line.strip() == "count":
            print(fake.request_count, flush=True)
        elif line.strip() == "reset":
            fake.requests.clear()
            print("ok", flush=True)
    fake.stop()


if __name__ == "__main__":
    main()
