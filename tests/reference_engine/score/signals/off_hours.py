"""off_hours: sent outside the office's hours or days, in the survey's time zone.

A citizen answers at the one-stop office, so many answers at night or on a closed day are a
sign; a roster survey (answered at home) leaves "off_hours" out of `checks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.survey.load import Survey
from reference_engine.score.signals.base import Fired, Rows, percent, share_fired
from reference_engine.score.signals.clock import MISSING

NAME = "off_hours"


def find(rows: Rows, survey: Survey) -> list[Fired]:
    cfg = survey.signals
    has = np.flatnonzero(rows.submitted != MISSING)
    utc = (rows.submitted[has] // 1_000_000).astype("datetime64[s]")
    local = pd.DatetimeIndex(utc).tz_localize("UTC").tz_convert(survey.tz).tz_localize(None)
    seconds = local.as_unit("s").asi8
    minute = seconds % 86400 // 60
    weekday = (seconds // 86400 + 3) % 7 + 1  # 1970-01-01 was a Thursday; 1 = Monday
    inside = (np.isin(weekday, cfg.office_days) & (minute >= cfg.office_open_minute)
              & (minute < cfg.office_close_minute))
    outside = np.zeros(len(rows), dtype=bool)
    outside[has] = ~inside
    fired = share_fired(rows, outside, cfg.min_count, cfg.off_hours_share)
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
