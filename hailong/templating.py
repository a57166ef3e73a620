"""The one Jinja2 environment over site/templates, with the filters every page shares.

Survey pages (collect.webapp), posters (collect.posters), results pages (publish), staff pages
(field.progress) and letters (field.links) all render through `environment()`, so a filter or
an escaping rule is defined once and a page of one stage can include a partial of another.
A bottom module: it imports only the number rules, never a stage.
"""

from __future__ import annotations

import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from hailong.numbers import fmt, int_vi

SITE = Path(__file__).resolve().parents[1] / "site"
TEMPLATES = SITE / "templates"
STATIC = SITE / "static"


def _pct(value) -> str:
    return fmt(value, 0 if float(value).is_integer() else 1) + "%"


def _delta(value) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + fmt(abs(value))


def _capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


FILTERS = {
    "num": fmt,  # 85.3 -> 85,30
    "pct": _pct,  # 85.0 -> 85%, 85.5 -> 85,5%
    "int_vi": int_vi,  # 10600 -> 10.600
    "weight": lambda v: f"{v:g}".replace(".", ","),
    "delta": _delta,  # +1,50 / −2,00 / ±0,00
    "capitalize_first": _capitalize_first,
}


@functools.cache
def environment() -> Environment:
    """The shared environment (made once per process; Jinja environments are thread-safe
    for rendering, which the build's worker threads rely on).

    StrictUndefined: a misspelt variable fails the build instead of printing nothing on a
    page a citizen reads. trim/lstrip blocks keep the output free of blank lines per tag."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html", "svg", "xml"], default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      # one publish renders thousands of pages from templates that do not change
                      # meanwhile: no stat() of every extended or imported template per page
                      auto_reload=False)
    env.filters.update(FILTERS)
    return env
