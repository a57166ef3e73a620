"""Messages in the staff's language: Vietnamese by default, English with HAILONG_LANG=en.

Every message a command prints goes through `_` (or `ngettext`). Message ids are English;
hailong/locale/vi/LC_MESSAGES/hailong.po translates them, and English is the message id
itself. Values go in as named fields, so a translation can put them in its own word order:

    raise HailongError(_("{path}: file not found", path=path))

Catalogs: `make messages` extracts the ids with Babel (hailong/locale/hailong.pot), updates the
.po files and compiles them to the .mo files that are committed beside them, so a fresh clone
needs no build step; tests/test_i18n.py fails when an id has no Vietnamese translation or a .mo
is older than its .po. The language is read from the environment at each call (tests and the
weekly cron job may set it per run), and each catalog is loaded once.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "hailong"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


def language() -> str:
    """The language of messages: HAILONG_LANG (vi, en; en_US and vi-VN are read as en, vi)."""
    wanted = os.environ.get("HAILONG_LANG", "").strip().lower().replace("-", "_").split("_")[0]
    return wanted if wanted in LANGUAGES else DEFAULT


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    if lang == "en":  # the message ids are English
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True)


def _(message: str, /, **values: object) -> str:
    """`message` in the current language, with `values` filled into its {named} fields."""
    text = catalog(language()).gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, /, **values: object) -> str:
    """The singular or plural form for `n` (Vietnamese has one form); `n` is also a field."""
    text = catalog(language()).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def translate(message: str) -> str:
    """`message` translated, its fields left for the caller to fill (click formats its own)."""
    return catalog(language()).gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """The form of `singular`/`plural` for `n`, translated, fields left unfilled."""
    return catalog(language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; `_` translates it where it is used."""
    return message
