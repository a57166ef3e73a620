"""Pull a survey spread over many spreadsheets (one per province or shard) at once.

A national survey writes to dozens of spreadsheets, each behind its own Apps Script web app
(units.csv `collector_url`), and `[sheets] spreadsheet_id` lists them all. Read one after the
other, paced by the read quota, a first pull of them takes many minutes; most of that time is
waiting for Google's answers, so several spreadsheets are read at once by threads, each with
its own HTTP connection (httplib2 and the API client are not thread-safe), all behind ONE
limiter that holds every request to Google's documented read quotas:

- read requests per minute per user (one service account is one user): 60;
- read requests per minute per project: 300.

A 429 still gets the per-call backoff of hailong.ingest.sheets. Each spreadsheet is pulled
incrementally as before (its own row count in the raw store); appends to raw.csv are one at a
time under a lock, each all-or-nothing. A spreadsheet that fails does not stop the others:
their rows land, and the pull then ends with one error naming the failed ones, so a cron job
sees it, and the next pull completes them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.ingest import sheets
from hailong.ui import steps

READS_PER_MINUTE_PER_USER = 60
READS_PER_MINUTE_PER_PROJECT = 300
WORKERS = 4  # spreadsheets read at once: enough to keep the per-user quota busy


class QuotaLimiter:
    """Never more requests than any of `limits` allows: {window seconds: requests} pairs as
    (per_minute, 60.0). Thread-safe; a request that would exceed a limit waits, holding the
    lock, so the others queue behind it rather than racing for the same free slot."""

    def __init__(self, limits: Sequence[int] = (READS_PER_MINUTE_PER_USER,
                                                READS_PER_MINUTE_PER_PROJECT),
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None):
        self.per_minute = min(limits)  # in one minute, the smallest limit is the one that binds
        self.clock = clock
        self.sleep = sleep or (lambda s: sheets._sleep(s))  # tests replace sheets._sleep
        self.sent: deque[float] = deque()
        self.log: list[float] = []  # when each request was let through (for tests and bench)
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            while self.sent and now - self.sent[0] >= 60.0:
                self.sent.popleft()
            if len(self.sent) >= self.per_minute:
                self.sleep(60.0 - (now - self.sent[0]))
                now = max(self.clock(), self.sent[0] + 60.0)
                self.sent.popleft()
            self.sent.append(now)
            self.log.append(now)


class _LockedStore:
    """The raw store shared by the threads: one append (or count) at a time."""

    def __init__(self, store: Any):
        self._store = store
        self._lock = threading.Lock()
        self.path = store.path

    def rows_from(self, source: str) -> int:
        with self._lock:
            return self._store.rows_from(source)

    def append(self, source: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> int:
        with self._lock:
            return self._store.append(source, columns, rows)


def pull_sheets(survey: Any, out: Path, store: Any, *, workers: int = WORKERS,
                limiter: QuotaLimiter | None = None) -> str:
    """Append the rows new since the last pull from every spreadsheet in [sheets] to `store`,
    several at once; a summary, or HailongError naming the spreadsheets that failed (after
    the others' rows have landed)."""
    ids: Sequence[str] = survey.sheets.spreadsheet_ids
    if not ids:
        raise HailongError(
            _("survey.toml: [sheets] spreadsheet_id is empty; put the id of the Google Sheet "
              "that holds the responses there (see collector/README.md)")
        )
    limiter = limiter or QuotaLimiter()
    shared = _LockedStore(store)

    def one(spreadsheet_id: str) -> tuple[int, int, set[str]]:
        pull = sheets._Pull(survey, shared, limiter=limiter)
        added = sheets._Sheet(pull, spreadsheet_id).pull_new()
        return added, pull.http.count, pull.findings

    results: dict[str, tuple[int, int, set[str]] | HailongError] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(ids)))) as pool, \
            steps(_("Pulling responses from Google Sheets"), len(ids)) as advance:
        futures = {pool.submit(one, i): i for i in ids}
        for future, spreadsheet_id in futures.items():
            try:
                results[spreadsheet_id] = future.result()
            except HailongError as exc:
                results[spreadsheet_id] = exc
            advance()
    done = {i: r for i, r in results.items() if not isinstance(r, HailongError)}
    failed = {i: r for i, r in results.items() if isinstance(r, HailongError)}
    total = sum(r[0] for r in done.values())
    requests = sum(r[1] for r in done.values())
    parts = [_("{spreadsheet_id}: {added} new", spreadsheet_id=i, added=done[i][0]) for i in ids
             if i in done]
    if failed and not done and len({str(e) for e in failed.values()}) == 1:
        raise next(iter(failed.values()))  # one cause for all (no key, no network): say it once
    if failed:
        reasons = "; ".join(f"{i}: {exc}" for i, exc in failed.items())
        landed = (_("the {total} new row(s) of the other {done} are in {path}", total=total,
                    done=len(done), path=store.path) if done else _("nothing was pulled"))
        raise HailongError(
            _("{failed} of {count} spreadsheets could not be pulled ({reasons}); {landed}: run the "
              "pull again to complete the rest", failed=len(failed), count=len(ids), reasons=reasons,
              landed=landed)
        )
    summary = _("pulled {total} new row(s) from Google Sheets ({value}) in {count} request(s) "
                "into {store_path}", total=total, value="; ".join(parts), count=requests,
                store_path=store.path)
    findings = sorted(set().union(*(r[2] for r in done.values())))
    for finding in findings:
        summary += _("\nwarning: {finding}", finding=finding)
    return summary
