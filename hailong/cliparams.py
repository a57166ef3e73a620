"""click parameter types that read what a Vietnamese user types, and say so in Vietnamese.

- Day: DD/MM/YYYY (also D/M/YYYY), as the CSV files and Excel under Vietnamese settings write
  dates, or YYYY-MM-DD.
- Whole: a whole number, with dots (or spaces) grouping the thousands: 20.000 is twenty
  thousand, as Vietnamese writes it (never twenty with three decimals: a count has none).
- Decimal: a number with a decimal comma or point (0,2 or 0.2).

Each has a Vietnamese metavar (NGÀY, SỐ) instead of click's DATETIME, INTEGER RANGE, and a
range said in words instead of "x>=1".
"""

from __future__ import annotations

import datetime as dt
import re

import click

from hailong.i18n import N_, _

# click translates these with `_(extra["required"])`, out of reach of the extractor
N_("required")

_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:[. \u00a0\u202f]\d{3})+$")
_PLAIN = re.compile(r"^[+-]?\d+$")


def parse_day(text: str) -> dt.date | None:
    """A date written YYYY-MM-DD or DD/MM/YYYY (D/M/YYYY), or None."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text)
        if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text):
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None
    return None


def parse_whole(text: str) -> int | None:
    """A whole number, its thousands grouped by dots or spaces or not at all, or None."""
    text = text.strip()
    if _GROUPED.match(text):
        return int(re.sub(r"[. \u00a0\u202f]", "", text))
    if _PLAIN.match(text):
        return int(text)
    return None


class Day(click.ParamType):
    name = "date"

    def get_metavar(self, param, ctx=None) -> str:
        return _("DATE")

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        day = parse_day(str(value))
        if day is None:
            self.fail(_("'{value}' is not a date; write it as DD/MM/YYYY, e.g. 13/06/2024 (or "
                        "2024-06-13)", value=value), param, ctx)
        return day


class Whole(click.ParamType):
    name = "number"

    def __init__(self, min: int | None = None, max: int | None = None):
        self.min, self.max = min, max

    def get_metavar(self, param, ctx=None) -> str:
        return _("NUMBER")

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return _("from {low} to {high}", low=self.min, high=self.max)
        if self.min is not None:
            return _("at least {low}", low=self.min)
        if self.max is not None:
            return _("at most {high}", high=self.max)
        return ""

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            number = parse_whole(str(value))
            if number is None:
                self.fail(_("'{value}' is not a whole number; write it with digits, the "
                            "thousands grouped by dots if you like, e.g. 20000 or 20.000",
                            value=value), param, ctx)
        if (self.min is not None and number < self.min) or (self.max is not None and number > self.max):
            self.fail(_("{value} is out of range: give a number {range}", value=value,
                        range=self.describe()), param, ctx)
        return number


class Decimal(click.ParamType):
    name = "decimal"

    def get_metavar(self, param, ctx=None) -> str:
        return _("NUMBER")

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        text = str(value).strip().replace(",", ".")
        try:
            if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", text):
                raise ValueError(text)
            return float(text)
        except ValueError:
            self.fail(_("'{value}' is not a number; write e.g. 0,2 or 0.2", value=value),
                      param, ctx)


def speak_vietnamese(group: click.Group) -> None:
    """click's own words in the help of every command: usage pieces, the metavars of text
    and number options, and the range of a number said in words (not "x>=1")."""
    group.options_metavar = _("[OPTIONS]")
    group.subcommand_metavar = _("COMMAND [ARGS]...")
    for command in group.commands.values():
        command.options_metavar = _("[OPTIONS]")
        for param in command.params:
            # arguments keep their names (SURVEY_DIR): the contract and the docs use them
            if isinstance(param, click.Option) and not param.is_flag and param.metavar is None:
                if isinstance(param.type, click.types.StringParamType):
                    param.metavar = _("TEXT")
                elif isinstance(param.type, Whole) and param.type.describe():
                    param.metavar = _("NUMBER")
                    param.help = f"{param.help or ''} ({param.type.describe()})".strip()
