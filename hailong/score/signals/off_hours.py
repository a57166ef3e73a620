"""off_hours: sent outside the office's hours or days, in the survey's time zone.

A citizen answers at the one-stop office, so many answers at night or on a closed day are a
sign; a roster survey (answered at home) leaves "off_hours" out of `checks`. The local day and
minute are worked out in numpy (base.answers, with the survey's time zone), the rule is SQL
(hailong.score.queries.OFF_HOURS).
"""

from __future__ import annotations

from hailong.score.queries import OFF_HOURS
from hailong.score.signals.base import Fired, Rows, counted, percent, share_counts
from hailong.survey.load import Survey

NAME = "off_hours"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    days = ", ".join(str(int(d)) for d in cfg.office_days)
    outside = counted(rows, OFF_HOURS.format(
        open_day=f"weekday IN ({days})" if days else "false", open=int(cfg.office_open_minute),
        close=int(cfg.office_close_minute)), survey.tz)
    fired = share_counts(rows, outside, cfg.min_count, cfg.off_hours_share)
    hours = f"({cfg.office_open}–{cfg.office_close}, {_days(cfg.office_days)})"
    return [Fired(u, c, f"{c} phiếu ({percent(c, int(rows.n[u]))} số phiếu) gửi ngoài giờ làm "
                        f"việc {hours}")
            for u, c in fired]


def _days(days: list[int]) -> str:
    names = {1: "thứ Hai", 2: "thứ Ba", 3: "thứ Tư", 4: "thứ Năm", 5: "thứ Sáu", 6: "thứ Bảy",
             7: "Chủ nhật"}
    days = sorted(set(days))
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{names[days[0]]} đến {names[days[-1]]}"
    return ", ".join(names[d] for d in days)
