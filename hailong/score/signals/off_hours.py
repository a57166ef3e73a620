"""off_hours: sent outside the office's hours or days, in the survey's time zone.

A citizen answers at the one-stop office, so many answers at night or on a closed day are a
sign; a roster survey (answered at home) leaves "off_hours" out of `checks`.
"""

from __future__ import annotations

from hailong.score.signals.base import Fired, Rows, percent, share_fired
from hailong.survey.load import Survey

NAME = "off_hours"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    local = rows.submitted.dt.tz_convert(survey.tz)
    minute = local.dt.hour * 60 + local.dt.minute
    open_day = (local.dt.day_of_week + 1).isin(cfg.office_days)
    inside = open_day & (minute >= cfg.office_open_minute) & (minute < cfg.office_close_minute)
    outside = rows.submitted.notna() & ~inside
    fired = share_fired(rows, outside, cfg.min_count, cfg.off_hours_share)
    return [Fired(code, int(c), (
        f"{c} phiếu ({percent(c, rows.n[code])} số phiếu) gửi ngoài giờ làm việc "
        f"({cfg.office_open}–{cfg.office_close}, {_days(cfg.office_days)})"))
        for code, c in fired.items()]


def _days(days: list[int]) -> str:
    names = {1: "thứ Hai", 2: "thứ Ba", 3: "thứ Tư", 4: "thứ Năm", 5: "thứ Sáu", 6: "thứ Bảy",
             7: "Chủ nhật"}
    days = sorted(set(days))
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{names[days[0]]} đến {names[days[-1]]}"
    return ", ".join(names[d] for d in days)
