"""`hailong capacity`: how many spreadsheets and Apps Script web apps a survey needs.

From the survey's response columns and Google's published limits:
- a spreadsheet holds at most 10,000,000 cells (Google Sheets); we plan to fill 80% of it,
  the share at which `pull` warns, leaving room for the Units and Config tabs;
- a web app that executes as its owner runs at most 30 executions at once (Apps Script's
  "simultaneous executions per user");
- Code.gs writes each answer under the script lock, so one web app appends one answer at a
  time: its rate is at most 1 / (time the lock is held).
Google publishes no time for appendRow + flush; LOCK_HOLD_S and EXECUTION_S are our estimates
(several SpreadsheetApp calls of about a tenth of a second each), and HEADROOM plans for the
peak at half of what a web app could take, because submissions do not arrive evenly. The
script's own work per answer, measured under the node fakes (bench/apps_script_bench.js), is
a few milliseconds: the waiting is Google's, not the script's.

Each web app is bound to its own spreadsheet (one per province or shard, units.csv
collector_url), so the survey needs max(spreadsheets for the cells, web apps for the peak).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hailong.errors import HailongError
from hailong.i18n import _

CELLS_PER_SPREADSHEET = 10_000_000  # Google Sheets' limit
CELL_SHARE = 0.8
SIMULTANEOUS_EXECUTIONS = 30  # Apps Script, per user (a web app executing as its owner)
LOCK_HOLD_S = 0.5  # estimate: seconds one answer holds the script lock on Google
EXECUTION_S = 2.0  # estimate: seconds of one whole doPost on Google
HEADROOM = 0.5
PEAK_SHARE = 0.2  # default: the busiest hour carries a fifth of a day's answers


@dataclass(frozen=True)
class Capacity:
    columns: int
    answers: int
    days: int
    peak_share: float
    rows_per_spreadsheet: int
    spreadsheets_for_cells: int
    peak_per_second: float
    per_app_limit: float  # submissions a second one web app can take
    apps_for_peak: int

    @property
    def needed(self) -> int:
        return max(self.spreadsheets_for_cells, self.apps_for_peak)

    @property
    def peak_each(self) -> float:
        return self.peak_per_second / self.needed


def plan(columns: int, answers: int, days: int, peak_share: float = PEAK_SHARE) -> Capacity:
    """The arithmetic of the module doc, for `answers` over `days` with `columns` per row."""
    rows = math.floor(CELL_SHARE * CELLS_PER_SPREADSHEET / columns) - 1  # less the header
    sheets = max(1, math.ceil(answers / rows))
    peak = answers / days * peak_share / 3600
    per_app = min(SIMULTANEOUS_EXECUTIONS / EXECUTION_S, 1 / LOCK_HOLD_S)
    apps = max(1, math.ceil(peak / (per_app * HEADROOM)))
    return Capacity(columns, answers, days, peak_share, rows, sheets, peak, per_app, apps)


def _n(value: float, decimals: int = 0) -> str:
    """Vietnamese number: 1.000.000 and 1,85."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def capacity(survey, answers: int, days: int, peak_share: float = PEAK_SHARE) -> str:
    """The `hailong capacity` report for a survey (for IT staff)."""
    if answers < 1 or days < 1:
        raise HailongError(_("--answers and --days must be positive whole numbers, e.g. --answers "
                             "1000000 --days 30"))
    if not 0 < peak_share <= 1:
        raise HailongError(_("--peak-share is the share of a day's responses in its peak hour, "
                             "from 0 to 1, e.g. 0.2"))
    c = plan(len(survey.response_columns), answers, days, peak_share)
    return "\n".join([
        _("Survey {survey}: each response is a row of {columns} cells.", survey=survey.id,
          columns=c.columns),
        _("{answers} responses in {days} days; the peak hour holds {share}% of a day's responses.",
          answers=_n(answers), days=_n(days), share=_n(100 * peak_share, 0)),
        _("Spreadsheets: Google allows at most {cells} cells a spreadsheet; using {used}% of that is "
          "{rows} responses a spreadsheet → {sheets} spreadsheet(s) needed.",
          cells=_n(CELLS_PER_SPREADSHEET), used=_n(100 * CELL_SHARE),
          rows=_n(c.rows_per_spreadsheet), sheets=c.spreadsheets_for_cells),
        _("Peak hour: {peak} responses/second. Each Apps Script web app writes one response at a "
          "time under the script lock (about {hold} seconds a response, at most {simultaneous} "
          "executions at once): it takes {per_app} responses/second, with half kept spare → "
          "{apps} web app(s) needed.", peak=_n(c.peak_per_second, 2), hold=_n(LOCK_HOLD_S, 1),
          simultaneous=SIMULTANEOUS_EXECUTIONS, per_app=_n(c.per_app_limit, 1),
          apps=c.apps_for_peak),
        _("{needed} spreadsheet(s) needed, one web app each (the collector_url column of units.csv, "
          "[sheets] spreadsheet_id listing all {needed} ids); at the peak each app takes {each} "
          "responses/second.", needed=c.needed, each=_n(c.peak_each, 2)),
    ])
