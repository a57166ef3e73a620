"""Pull responses from Google Sheets (collector.kind = "apps_script") into data/raw.csv.

Each spreadsheet's tab is read in blocks of rows with values.batchGet, starting after the rows
raw.csv already holds from it (the RawStore's per-source count). A block is appended to raw.csv
only once its whole answer has arrived, and RawStore makes each append all-or-nothing: a pull
stopped at any point and run again holds every sheet row once.

Google refuses (400 "exceeds grid limits") a range that starts below the tab's last grid row,
and the grid of a tab past its first 1000 rows ends at the last answer (appending grows it row
by row), so no range may start at a row not known to exist. Ranges ending below the grid are
clipped, which is harmless. Hence:
- the first request asks for the header row and a block that starts at the *last row already
  pulled* (the anchor: it was read before, so it exists) and is one row longer; the anchor row
  is dropped. A pull with nothing new is this one request, on any sheet;
- only when that block comes back full (more rows may follow) is the grid's row count read
  (spreadsheets.get, one small request, together with the time zone); the remaining blocks are
  then cut at that row count, two per request, so none starts below the grid and no request is
  spent finding the end: 500,000 rows are 1 + 1 + 12 requests;
- should the grid shrink while pulling (rows deleted, against the rules), the 400 makes the pull
  read the row count once more and go on with the smaller grid.

The row counter is the only link between raw.csv and the sheet, so the Responses tab must only
ever grow at the bottom (collector/README.md tells staff not to sort or delete rows there).
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httplib2

from hailong.errors import HailongError
from hailong.i18n import N_, _, ngettext
from hailong.survey import config

SCOPES = ["https://www.googleapis.com/auth/spreadsheets.readonly"]
BLOCK_ROWS = 20_000  # rows per range in one batchGet
BLOCKS_PER_CALL = 2  # ranges per batchGet after the first call (each answer stays a few MB)
CELL_LIMIT = 10_000_000  # Google's limit for one spreadsheet
CELL_WARN_SHARE = 0.8
READS_PER_MINUTE = 60  # Sheets' read quota per user
NUM_RETRIES = 4  # googleapiclient's own retries of one request (429, 5xx, timeouts)
CALL_ATTEMPTS = 4  # our retries of a whole call after those are used up
TIMEOUT = 120.0  # seconds for one HTTP answer
BACKOFF = 2.0  # seconds before our first retry of a whole call; doubled each time
DATE_COLUMNS = ("submitted_at", "started_at")
SERIAL_EPOCH = dt.datetime(1899, 12, 30)
META_FIELDS = "properties.timeZone,sheets.properties(title,gridProperties.rowCount)"

_sleep: Callable[[float], None] = time.sleep  # tests replace it so retries cost no time


class RateLimiter:
    """At most `per_minute` requests in any 60 seconds: waits before a request that would exceed it."""

    def __init__(self, per_minute: int = READS_PER_MINUTE, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= 60.0:
            self.sent.popleft()
        if len(self.sent) >= self.per_minute:
            _sleep(60.0 - (now - self.sent[0]))
            now = self.clock()
            self.sent.popleft()
        self.sent.append(now)


class _CountingHttp(httplib2.Http):
    """httplib2 with a timeout, the rate limiter in front of every request, and a request count.
    It keeps the last answer's status, type and first bytes: when that answer is not the data,
    they say what came instead (a proxy's page, a login page, nothing)."""

    def __init__(self, limiter: RateLimiter):
        super().__init__(timeout=TIMEOUT)
        self.limiter = limiter
        self.count = 0
        self.last: tuple[str, str, str, bytes] | None = None  # (asked, answered from, type, head)

    def request(self, uri: str, *args: Any, **kwargs: Any):
        self.limiter.wait()
        self.count += 1
        self.last = None
        resp, content = super().request(uri, *args, **kwargs)
        self.last = (uri, resp.get("content-location", uri), resp.get("content-type", ""),
                     bytes(content[:512]) if content else b"")
        return resp, content


class _BadAnswer(Exception):
    """An answer that is not the data asked for; the message says what came instead."""


def _unparsed(answer: str | bytes, transport: _CountingHttp) -> None:
    """googleapiclient hands back a body it cannot parse as the text itself; a JSON string
    arrives parsed. Either way it is not the data."""
    head = (transport.last or ("", "", "", b""))[3]
    text = answer.encode("utf-8", "replace") if isinstance(answer, str) else answer
    if head.startswith(text[:len(head)]) and not head.lstrip().startswith(b'"'):
        raise ValueError("not JSON")
    raise _BadAnswer(_("JSON {shape} (a string, not an object)", shape=_(_SHAPE)))


def _what_came(exc: BaseException, transport: _CountingHttp) -> str:
    """What a server or proxy sent instead of the data, for the one-line message."""
    if isinstance(exc, _BadAnswer):
        return str(exc)
    if isinstance(exc, http.client.IncompleteRead):
        return _("an answer cut short ({got} bytes of {total})", got=len(exc.partial),
                 total=len(exc.partial) + (exc.expected or 0))
    if isinstance(exc, http.client.HTTPException):
        return _("a broken HTTP answer ({type})", type=type(exc).__name__)
    asked, answered, ctype, head = transport.last or ("", "", "", b"")
    moved = (_(", after a redirect to {url}", url=answered.split("?")[0]) if answered != asked
             else "")
    if not head.strip():
        return _("an empty answer") + moved
    if "html" in ctype.lower() or head.lstrip()[:1] == b"<":
        return _("an HTML page") + moved
    return _("an answer that is not JSON ({ctype}){moved}", ctype=ctype or _("no content type"),
             moved=moved)


# -- credentials and the client ---------------------------------------------------------------
def _credentials() -> tuple[Any, str | None]:
    """(credentials, service-account e-mail or None) from the environment (contract, section 3)."""
    from google.auth.credentials import AnonymousCredentials
    from google.oauth2 import service_account

    path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip()
    if not path:
        if os.environ.get("SHEETS_API_ENDPOINT"):
            return AnonymousCredentials(), None
        raise HailongError(
            _("GOOGLE_APPLICATION_CREDENTIALS is not set; set it to the path of the service "
              "account's JSON key file (see collector/README.md, step 6)")
        )
    key = Path(path)
    if not key.is_file():
        raise HailongError(
            _("GOOGLE_APPLICATION_CREDENTIALS points to {key}, which does not exist; set it to "
              "the service account's JSON key file downloaded from Google Cloud", key=key)
        )
    try:
        info = json.loads(key.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not valid JSON"
        raise HailongError(
            _("{key}: cannot read the service-account key ({reason}); download a new JSON key for "
              "the service account and point GOOGLE_APPLICATION_CREDENTIALS at it",
              key=key, reason=reason)
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise HailongError(
            _('{key}: not a service-account key (its "type" is not "service_account"); create a '
              "JSON key under IAM → Service accounts → Keys and point "
              "GOOGLE_APPLICATION_CREDENTIALS at it", key=key)
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
    except (ValueError, KeyError) as exc:
        raise HailongError(
            _("{key}: the service-account key is incomplete or damaged ({exc}); download a new "
              "JSON key for the service account", key=key, exc=exc)
        ) from None
    return creds, info.get("client_email")


def _service(limiter: RateLimiter) -> tuple[Any, _CountingHttp, str | None]:
    import google_auth_httplib2
    from googleapiclient.discovery import build

    creds, email = _credentials()
    raw_http = _CountingHttp(limiter)
    http = google_auth_httplib2.AuthorizedHttp(creds, http=raw_http)
    endpoint = os.environ.get("SHEETS_API_ENDPOINT", "").strip()
    options = {"api_endpoint": endpoint.rstrip("/") + "/"} if endpoint else None
    service = build("sheets", "v4", http=http, static_discovery=True, client_options=options,
                    cache_discovery=False)
    return service, raw_http, email


# -- cells --------------------------------------------------------------------------------------
def _text(value: Any) -> str:
    if type(value) is str:
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise _BadAnswer(_("JSON {shape} (a cell holding a {type})", shape=_(_SHAPE),
                           type=type(value).__name__))
    return str(value)


def _serial_to_iso(value: float | int, tz: Any) -> str:
    """A Sheets date-time serial number (days since 1899-12-30, local time) as ISO 8601."""
    try:
        moment = SERIAL_EPOCH + dt.timedelta(seconds=round(float(value) * 86400))
    except (OverflowError, ValueError):  # 1e300, inf, NaN: no date; score quarantines the text
        return _text(value)
    return moment.replace(tzinfo=tz).isoformat()


def a1_tab(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


_SHAPE = N_("not the shape of a Google Sheets answer")


def _check_batch(answer: Any, count: int) -> list[dict[str, Any]]:
    """One values.batchGet answer's checks: `count` ranges, each with a list of rows, each a
    list of cells; the cells themselves are checked as they are read (_text)."""
    if not isinstance(answer, dict):
        raise _BadAnswer(_("JSON {shape} (a {type}, not an object)", shape=_(_SHAPE),
                           type=type(answer).__name__))
    ranges = answer.get("valueRanges")
    if not isinstance(ranges, list) or len(ranges) != count:
        raise _BadAnswer(_("JSON {shape} (valueRanges is not a list of the {count} ranges asked "
                           "for)", shape=_(_SHAPE), count=count))
    for block in ranges:
        values = block.get("values", []) if isinstance(block, dict) else None
        if not isinstance(values, list) or not all(type(row) is list for row in values):
            raise _BadAnswer(_("JSON {shape} (a range whose values are not rows of cells)",
                               shape=_(_SHAPE)))
    return ranges


def _check_meta(answer: Any) -> dict[str, Any]:
    """One spreadsheets.get answer's checks: its tabs, each with a title and a whole row count."""
    sheets = answer.get("sheets") if isinstance(answer, dict) else None
    if not isinstance(sheets, list):
        raise _BadAnswer(_("JSON {shape} (no list of tabs)", shape=_(_SHAPE)))
    for sheet in sheets:
        props = sheet.get("properties") if isinstance(sheet, dict) else None
        grid = props.get("gridProperties", {}) if isinstance(props, dict) else None
        count = grid.get("rowCount", 0) if isinstance(grid, dict) else None
        if type(count) is not int:
            raise _BadAnswer(_("JSON {shape} (a tab without a row count)", shape=_(_SHAPE)))
    zone = answer.get("properties", {})
    if not isinstance(zone, dict):
        raise _BadAnswer(_("JSON {shape} (properties is not an object)", shape=_(_SHAPE)))
    return answer


class _BeyondGrid(Exception):
    """Google's 400 for a range that starts below the tab's grid (the grid shrank)."""


# -- one spreadsheet ----------------------------------------------------------------------------
class _Sheet:
    def __init__(self, pull: _Pull, spreadsheet_id: str):
        self.pull = pull
        self.id = spreadsheet_id
        self.tab = pull.tab
        self.source = f"sheets:{spreadsheet_id}:{pull.tab}"
        self.time_zone: Any = None
        self.meta: dict[str, Any] | None = None  # spreadsheets.get: time zone and grid sizes

    def _call(self, ranges: list[str]) -> list[dict[str, Any]]:
        """One values.batchGet, retried whole; the answer is used only once complete."""
        values = self.pull.service.spreadsheets().values()
        return self._execute(lambda: values.batchGet(
            spreadsheetId=self.id, ranges=ranges, majorDimension="ROWS",
            valueRenderOption="UNFORMATTED_VALUE", dateTimeRenderOption="SERIAL_NUMBER",
        ), lambda answer: _check_batch(answer, len(ranges)))

    def _execute(self, make_request: Callable[[], Any], check: Callable[[Any], Any]) -> Any:
        """Run one API request, retried whole on 429, 5xx, network failures and answers that
        are not the data (cut short, not JSON, not its shape); `check` is that request's checks."""
        from googleapiclient.errors import HttpError

        delay = BACKOFF
        bad: BaseException | None = None
        for attempt in range(1, CALL_ATTEMPTS + 1):
            request = make_request()
            request._sleep = _sleep  # googleapiclient's own backoff between its retries
            try:
                answer = request.execute(num_retries=NUM_RETRIES)
                if isinstance(answer, str | bytes):
                    _unparsed(answer, self.pull.http)
                return check(answer)
            except (_BadAnswer, ValueError, http.client.HTTPException) as exc:
                # ValueError: the body is not JSON or not UTF-8; what came is in self.pull.http
                bad, failure = exc, "bad answer"
            except HttpError as exc:
                status = exc.resp.status
                if status == 400 and "exceeds grid limits" in (exc.reason or ""):
                    raise _BeyondGrid(exc.reason) from None
                if status != 429 and status < 500:
                    raise self._http_error(exc) from None
                failure = f"HTTP {status}"
            except (TimeoutError, ConnectionError, OSError, httplib2.HttpLib2Error) as exc:
                failure = type(exc).__name__
            except _auth_errors() as exc:
                raise HailongError(
                    _("could not sign in to Google with the service account ({exc}); check that "
                      "its key is still valid and that this computer can reach Google",
                      exc=exc)
                ) from None
            else:
                bad = None
            if attempt < CALL_ATTEMPTS:
                _sleep(delay)
                delay *= 2
        if bad is not None:
            raise self._bad_answer(bad)
        raise HailongError(
            _("Google Sheets did not answer for spreadsheet {id} ({failure}, {CALL_ATTEMPTS} "
              "tries); rows pulled so far are kept, run the pull again later",
              id=self.id, failure=failure, CALL_ATTEMPTS=CALL_ATTEMPTS)
        )

    def _bad_answer(self, exc: BaseException, tries: int = CALL_ATTEMPTS) -> HailongError:
        endpoint = os.environ.get("SHEETS_API_ENDPOINT", "").strip() or "https://sheets.googleapis.com"
        return HailongError(
            ngettext("spreadsheet {id}: Google Sheets sent {what} instead of the data ({n} try); a "
                     "proxy, firewall or Wi-Fi login page may stand between this computer and "
                     "Google: check that a browser here opens {endpoint} without signing in to the "
                     "network; rows pulled so far are kept, run the pull again later",
                     "spreadsheet {id}: Google Sheets sent {what} instead of the data ({n} tries); a "
                     "proxy, firewall or Wi-Fi login page may stand between this computer and "
                     "Google: check that a browser here opens {endpoint} without signing in to the "
                     "network; rows pulled so far are kept, run the pull again later",
                     tries, id=self.id, what=_what_came(exc, self.pull.http), endpoint=endpoint)
        )

    def _http_error(self, exc: Any) -> HailongError:
        status = exc.resp.status
        message = exc.reason or ""
        if status == 403 and ("has not been used" in message or "disabled" in message):
            return HailongError(
                _("the Google Sheets API is not enabled for the service account's Google Cloud "
                  "project: in console.cloud.google.com open APIs & Services → Library → Google "
                  "Sheets API → Enable, wait a few minutes, then pull again")
            )
        if status == 403:
            who = self.pull.email or "the service account"
            return HailongError(
                _("spreadsheet {id} is not shared with {who}: open it in Google Sheets, click "
                  "Share (Chia sẻ) and add {who} as Viewer (Người xem), then pull again",
                  id=self.id, who=who)
            )
        if status == 404:
            return HailongError(
                _("no spreadsheet with id {id}: check [sheets] spreadsheet_id in survey.toml (the "
                  "long code between /d/ and /edit in the sheet's address)", id=self.id)
            )
        if status == 400 and "parse range" in message:
            return HailongError(
                _("spreadsheet {id} has no tab named '{tab}': set [sheets] range in survey.toml to "
                  "the name of the tab holding the responses", id=self.id, tab=self.tab)
            )
        if status == 401:
            return HailongError(
                _("Google refused the service-account credentials (401); download a new JSON key "
                  "and point GOOGLE_APPLICATION_CREDENTIALS at it")
            )
        return HailongError(_("Google Sheets answered {status} for spreadsheet {id}: {message}",
                              status=status, id=self.id, message=message))

    def _header(self, block: dict[str, Any]) -> list[str]:
        cells = [_text(c).strip() for c in (block.get("values") or [[]])[0]]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            return []
        required = [*config.REQUIRED_META, *(q.id for q in self.pull.survey.questions)]
        missing = [c for c in required if c not in cells]
        if missing:
            raise HailongError(
                _("spreadsheet {id}, tab '{tab}': row 1 lacks the column(s) {value}; row 1 must "
                  "hold the response header ({value2}, comment), as the collector script writes "
                  "it",
                  id=self.id, tab=self.tab, value=', '.join(missing), value2=', '.join(required))
            )
        seen = set()
        for name in cells:
            if name and name in seen:
                raise HailongError(
                    _("spreadsheet {id}, tab '{tab}': column '{name}' appears twice in row 1; "
                      "rename or delete one of them",
                      id=self.id, tab=self.tab, name=name)
                )
            seen.add(name)
        return cells

    def _range(self, first_row: int, last_row: int) -> str:
        return f"{a1_tab(self.tab)}!{first_row}:{last_row}"

    def _row_count(self) -> int:
        """Rows in the tab's grid, read afresh (retried: the pull cannot go on without it)."""
        spreadsheets = self.pull.service.spreadsheets()
        self.meta = self._execute(lambda: spreadsheets.get(spreadsheetId=self.id, fields=META_FIELDS),
                                  _check_meta)
        return self._grid_rows(self.meta)

    def _grid_rows(self, meta: dict[str, Any]) -> int:
        for sheet in meta.get("sheets", []):
            props = sheet.get("properties", {})
            if props.get("title") == self.tab:
                return int(props.get("gridProperties", {}).get("rowCount", 0))
        raise HailongError(
            _("spreadsheet {id} has no tab named '{tab}' (any more): set [sheets] range in "
              "survey.toml to the name of the tab holding the responses", id=self.id, tab=self.tab)
        )

    def _rows(self, block: dict[str, Any], header: list[str]) -> list[list[str]]:
        width = len(header)
        dates = [i for i, name in enumerate(header) if name in DATE_COLUMNS]
        rows = []
        for raw in block.get("values") or []:
            # the common cells (text, whole numbers) inline: this loop sees every cell pulled
            row = [v if type(v) is str else str(v) if type(v) is int else _text(v)
                   for v in raw[:width]]
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            if len(raw) > width and any(_text(v) for v in raw[width:]):
                self.pull.findings.add(
                    _("spreadsheet {id}: cells right of the last named column in row 1 were not "
                      "kept; give those columns a name in row 1",
                      id=self.id)
                )
            for i in dates:
                value = raw[i] if i < len(raw) else ""
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row[i] = _serial_to_iso(value, self._zone())
            rows.append(row)
        return rows

    def _zone(self) -> Any:
        """The spreadsheet's time zone, asked for once, only if a date cell is a serial number."""
        if self.time_zone is None:
            from zoneinfo import ZoneInfo

            from googleapiclient.errors import HttpError

            answer = self.meta
            if answer is None:  # one try: the survey's time zone is a fair stand-in
                request = self.pull.service.spreadsheets().get(spreadsheetId=self.id,
                                                               fields=META_FIELDS)
                request._sleep = _sleep
                try:
                    answer = self.meta = _check_meta(request.execute(num_retries=NUM_RETRIES))
                    # (a body that is not JSON comes back as text, which _check_meta refuses)
                except (HttpError, OSError, httplib2.HttpLib2Error, _BadAnswer, ValueError,
                        http.client.HTTPException) as exc:
                    answer = {}
                    self.pull.findings.add(
                        _("spreadsheet {id}: could not read its time zone ({__name__}); date "
                          "cells were read in the survey's time zone {timezone}",
                          id=self.id, __name__=type(exc).__name__,
                          timezone=self.pull.survey.timezone)
                    )
            name = answer.get("properties", {}).get("timeZone") or self.pull.survey.timezone
            try:
                self.time_zone = ZoneInfo(name)
            except (KeyError, ValueError):
                self.time_zone = self.pull.survey.tz
        return self.time_zone

    def pull_new(self) -> int:
        store = self.pull.store
        have = store.rows_from(self.source)
        anchor = have + 1  # sheet row of the last row pulled (row 1, the header, at first)
        # one range when nothing was pulled yet: its first row is the header
        ranges = [self._range(1, 1)] if have else []
        ranges.append(self._range(anchor, anchor + BLOCK_ROWS))
        try:
            answer = self._call(ranges)
        except _BeyondGrid:
            rows = self._row_count()  # the anchor row is gone: rows were deleted
            self.pull.findings.add(
                _("spreadsheet {id}, tab '{tab}' has {value} rows below the header, but {have} "
                  "were pulled from it before: rows were deleted or the tab was replaced; raw.csv "
                  "keeps them, and rows are pulled again once the tab is longer",
                  id=self.id, tab=self.tab, value=max(rows - 1, 0), have=have)
            )
            return 0
        header = self._header(answer[0])
        values = answer[-1].get("values") or []
        if not header:
            if any(values[1:] if not have else values):  # the anchor row holds data too
                raise HailongError(
                    _("spreadsheet {id}, tab '{tab}': row 1 is empty but rows below it hold data; "
                      "put the response header back in row 1",
                      id=self.id, tab=self.tab)
                )
            if have:
                self.pull.findings.add(
                    _("spreadsheet {id}, tab '{tab}' is empty, but {have} rows were pulled from "
                      "it before; was it cleared? raw.csv keeps them",
                      id=self.id, tab=self.tab, have=have)
                )
            return 0  # nothing collected yet: the collector writes the header first
        rows = self._rows({"values": values[1:]}, header)  # without the anchor row
        added = store.append(self.source, header, rows)
        if len(rows) == BLOCK_ROWS:  # full: more rows may follow, as far as the grid goes
            added += self._pull_rest(anchor + BLOCK_ROWS + 1, header)
        total_cells = (have + added + 1) * len(header)
        if total_cells >= CELL_WARN_SHARE * CELL_LIMIT:
            self.pull.findings.add(
                _("spreadsheet {id} holds about {total_cells:,} cells, close to Google's limit of "
                  "10 million: make a new spreadsheet for further answers and add its id to "
                  "[sheets] spreadsheet_id", id=self.id, total_cells=total_cells)
            )
        return added

    def _pull_rest(self, first: int, header: list[str]) -> int:
        """Rows from sheet row `first` to the end of the grid, BLOCKS_PER_CALL blocks a request."""
        # the size read with the time zone moments ago will do: the grid only grows
        grid = self._grid_rows(self.meta) if self.meta else self._row_count()
        refreshed = False
        added = 0
        while first <= grid:
            spans = []
            for k in range(BLOCKS_PER_CALL):
                start = first + k * BLOCK_ROWS
                if start <= grid:
                    spans.append((start, min(start + BLOCK_ROWS - 1, grid)))
            try:
                blocks = self._call([self._range(a, b) for a, b in spans])
            except _BeyondGrid as exc:
                if refreshed:  # shrinking while we read: do not chase it
                    raise HailongError(
                        _("spreadsheet {id}: rows of tab '{tab}' are being deleted while pulling "
                          "({exc}); rows pulled so far are kept: stop deleting rows, then pull "
                          "again",
                          id=self.id, tab=self.tab, exc=exc)
                    ) from None
                grid, refreshed = self._row_count(), True
                continue
            last_full = True
            for i, ((a, b), block) in enumerate(zip(spans, blocks, strict=True)):
                rows = self._rows(block, header)
                later = any(x.get("values") for x in blocks[i + 1:])
                if later and len(rows) < b - a + 1:
                    # Sheets drops trailing empty rows; keep the count aligned with sheet rows
                    rows.extend([[""] * len(header)] * (b - a + 1 - len(rows)))
                added += self.pull.store.append(self.source, header, rows)
                first += len(rows)
                last_full = len(rows) == b - a + 1
            if not last_full:
                break
        return added


def _auth_errors() -> tuple[type[BaseException], ...]:
    from google.auth import exceptions

    return (exceptions.RefreshError, exceptions.TransportError)


class _Pull:
    def __init__(self, survey: Any, store: Any, limiter: Any = None):
        self.survey = survey
        self.store = store
        self.tab = survey.sheets.range.strip() or "Responses"  # a tab name, quoted in A1 ranges
        # one limiter may be shared by several pulls (hailong.ingest.shards)
        self.limiter = limiter or RateLimiter()
        self.service, self.http, self.email = _service(self.limiter)
        self.findings: set[str] = set()


def pull_sheets(survey: Any, out: Path, store: Any) -> str:
    """Append the rows new since the last pull, from every spreadsheet in [sheets], to `store`.

    Returns a one-paragraph summary (rows added per spreadsheet, requests made, warnings).
    """
    ids: Sequence[str] = survey.sheets.spreadsheet_ids
    if not ids:
        raise HailongError(
            _("survey.toml: [sheets] spreadsheet_id is empty; put the id of the Google Sheet "
              "that holds the responses there (see collector/README.md)")
        )
    pull = _Pull(survey, store)
    parts = []
    total = 0
    for spreadsheet_id in ids:
        sheet = _Sheet(pull, spreadsheet_id)
        try:
            added = sheet.pull_new()
        except _BadAnswer as exc:  # a cell that is not a value: found while reading the rows
            raise sheet._bad_answer(exc, tries=1) from None
        total += added
        parts.append(_("{spreadsheet_id}: {added} new", spreadsheet_id=spreadsheet_id, added=added))
    summary = (_("pulled {total} new row(s) from Google Sheets ({value}) in {count} request(s) "
                 "into {store_path}",
                 total=total, value='; '.join(parts), count=pull.http.count, store_path=store.path))
    for finding in sorted(pull.findings):
        summary += _("\nwarning: {finding}", finding=finding)
    return summary
