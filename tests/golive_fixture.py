"""A survey folder made ready to go live, for the tests of commands that refuse to print for a
public (https) address otherwise: an Apps Script collector and a window that has not begun."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

EXEC_URL = "https://script.google.com/macros/s/AKfycbz-thu-nghiem-0123456789abcdef/exec"


def ready(folder: Path, days_ahead: int = 7, length: int = 14) -> Path:
    """Rewrite folder/survey.toml in place: window from `days_ahead` days from now, collector
    apps_script with a web-app address; returns the folder."""
    path = Path(folder) / "survey.toml"
    text = path.read_text(encoding="utf-8")
    start = dt.date.today() + dt.timedelta(days=days_ahead)
    end = start + dt.timedelta(days=length)
    text = re.sub(r'(?m)^start = "[^"]*"', f'start = "{start}"', text, count=1)
    text = re.sub(r'(?m)^end = "[^"]*"', f'end = "{end}"', text, count=1)
    text = re.sub(r"(?ms)^\[collector\].*?(?=^\[|\Z)", "", text)
    text = text.rstrip("\n") + f'\n\n[collector]\nkind = "apps_script"\nurl = "{EXEC_URL}"\n'
    path.write_text(text, encoding="utf-8")
    return Path(folder)
