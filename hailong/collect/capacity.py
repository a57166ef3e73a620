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
    """The `hailong capacity` report for a survey (Vietnamese, for IT staff)."""
    if answers < 1 or days < 1:
        raise HailongError("--answers và --days phải là số nguyên dương, ví dụ --answers 1000000 --days 30")
    if not 0 < peak_share <= 1:
        raise HailongError("--peak-share là tỉ lệ phiếu của giờ cao điểm trong một ngày, "
                           "từ 0 đến 1, ví dụ 0.2")
    c = plan(len(survey.response_columns), answers, days, peak_share)
    return "\n".join([
        f"Khảo sát {survey.id}: mỗi phiếu là một dòng {c.columns} ô.",
        f"{_n(answers)} phiếu trong {_n(days)} ngày; giờ cao điểm chiếm "
        f"{_n(100 * peak_share, 0)}% số phiếu của một ngày.",
        f"Bảng tính: Google cho tối đa {_n(CELLS_PER_SPREADSHEET)} ô mỗi bảng tính; dùng "
        f"{_n(100 * CELL_SHARE)}% là {_n(c.rows_per_spreadsheet)} phiếu mỗi bảng tính → cần "
        f"{c.spreadsheets_for_cells} bảng tính.",
        f"Giờ cao điểm: {_n(c.peak_per_second, 2)} phiếu/giây. Mỗi ứng dụng web Apps Script ghi "
        f"từng phiếu dưới khóa của script (ước tính {_n(LOCK_HOLD_S, 1)} giây mỗi phiếu, tối đa "
        f"{SIMULTANEOUS_EXECUTIONS} lượt chạy cùng lúc): nhận được {_n(c.per_app_limit, 1)} "
        f"phiếu/giây, tính dư một nửa → cần {c.apps_for_peak} ứng dụng web.",
        f"Cần {c.needed} bảng tính, mỗi bảng tính một ứng dụng web (cột collector_url trong "
        f"units.csv, [sheets] spreadsheet_id liệt kê đủ {c.needed} mã); lúc cao điểm mỗi ứng "
        f"dụng nhận {_n(c.peak_each, 2)} phiếu/giây.",
    ])
