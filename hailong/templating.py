"""The one Jinja2 environment over site/templates, with the filters every page shares.

Survey pages (collect.webapp), posters (collect.posters), results pages (publish), staff pages
(field.progress) and letters (field.links) all render through `environment()`, so a filter or
an escaping rule is defined once and a page of one stage can include a partial of another.
A bottom module: it imports only the number rules, never a stage.
"""

from __future__ import annotations

import functools
import hashlib
import re
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


# Static files carry a hash of their content in their name (survey.3f2a9c01be.js), so a host
# may cache them for a year (deploy/_headers, nginx.conf): a changed file is a new name, which
# the pages that use it name. Templates reach them through asset() only.
HASH_LENGTH = 8  # 32 bits: plenty to tell a dozen files' versions apart, and light


@functools.cache
def _hashed(name: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:HASH_LENGTH]
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"


def static_name(name: str) -> str:
    """The published name of site/static/<name>: its stem, a hash of its bytes, its extension."""
    stat = (STATIC / name).stat()
    return _hashed(name, stat.st_mtime_ns, stat.st_size)


def asset(name: str) -> str:
    """The path of a static file from the site's root, for templates: {{ root }}{{ asset("x.css") }}."""
    return "static/" + static_name(name)


def hashed_form(name: str) -> re.Pattern:
    """Any hashed name of site/static/<name>, current or earlier (to clear old ones away)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return re.compile(re.escape(name) + rf"\.[0-9a-f]{{{HASH_LENGTH}}}")
    return re.compile(re.escape(stem) + rf"\.[0-9a-f]{{{HASH_LENGTH}}}\." + re.escape(ext))


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
    env.globals["asset"] = asset
    return env
