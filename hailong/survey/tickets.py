"""Single-use tickets for access = "tickets" (contract, section 6): signing and checking.

A ticket is 12 characters of Crockford's base-32 alphabet (digits and upper-case letters without
I, L, O and U, so no two characters look alike; typed text is read case-blind, spaces and dashes
ignored, and O, I, L read as 0, 1, 1). Its 60 bits are

    4 characters (20 bits) in clear: the issue date's day number modulo 128 (7 bits) and the
                                     serial of the ticket among its unit's tickets that day
                                     (13 bits, 1..8191);
    8 characters (40 bits):          HMAC-SHA256 under HAILONG_SIGNING_KEY over (survey id,
                                     unit code, issue date, serial), cut to 40 bits.

The date is not written in full: a checker takes the latest date with that day number on or
before the day the ticket is used, so a ticket works for 127 days after its date and a ticket
used before its date cannot match its signature. The unit code and survey id are not written
at all: they come from the page the ticket is sent from, so a ticket of another unit or survey
fails. Nothing in a ticket names a person: the office hands out slips without writing down who
took which.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from functools import lru_cache
from typing import NamedTuple

from hailong.errors import HailongError
from hailong.i18n import _

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
LENGTH = 12
CLEAR_CHARS = 4  # 20 bits: day number and serial
SIG_CHARS = LENGTH - CLEAR_CHARS  # 40 bits of signature
DAY_BITS = 7
SERIAL_BITS = 13
DAYS = 1 << DAY_BITS  # a ticket's day number repeats after this many days
MAX_SERIAL = (1 << SERIAL_BITS) - 1
_IGNORED = str.maketrans("", "", " -\t\u00a0_.")
_CONFUSED = str.maketrans("OIL", "011")  # what a person may type for 0 and 1
_CANONICAL = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_DOMAIN = b"hailong-ticket-v1"  # a MAC for roster tokens never fits a ticket, and back


class Checked(NamedTuple):
    """The verdict on one ticket: `ok`, and for a valid one its issue date and serial; for an
    invalid one, `why` says which rule it broke (missing, shape, early, signature). A named
    tuple: score makes one per row."""

    ok: bool
    why: str = ""
    date: dt.date | None = None
    serial: int | None = None


def normalise(text) -> str | None:
    """The ticket's 12 canonical characters, or None when `text` cannot be a ticket."""
    if not isinstance(text, str):
        return None
    if _CANONICAL.fullmatch(text):  # as the QR code sends it: most rows
        return text
    folded = text.upper().translate(_IGNORED).translate(_CONFUSED)
    return folded if _CANONICAL.fullmatch(folded) else None


def display(ticket: str) -> str:
    """A ticket as printed for typing: three groups of four, ABCD-EFGH-JKMN."""
    t = normalise(ticket) or ticket
    return "-".join(t[i:i + 4] for i in range(0, len(t), 4))


def _encode(value: int, chars: int) -> str:
    return "".join([ALPHABET[(value >> (5 * i)) & 31] for i in range(chars - 1, -1, -1)])


def _decode(text: str) -> int:
    value = 0
    for c in text:
        value = (value << 5) | _VALUE[c]
    return value


def _field(text: str) -> bytes:
    data = text.encode("utf-8")
    return str(len(data)).encode() + b"\x00" + data + b"\x00"


@lru_cache(maxsize=65536)
def _prefix(survey_id: str, unit_code: str) -> bytes:
    """The start of the signed message, the same for every ticket of a unit (made once)."""
    return _DOMAIN + b"\x00" + _field(survey_id) + _field(unit_code.upper())


def _signature(survey_id: str, unit_code: str, day: dt.date, serial: int, key: bytes) -> str:
    # length-prefixed fields, so that no two different tuples sign the same message
    message = _prefix(survey_id, unit_code) + _field(day.isoformat()) + _field(str(serial))
    digest = hmac.digest(key, message, hashlib.sha256)  # one-shot: in C, no HMAC object
    return _encode(int.from_bytes(digest[:5], "big"), SIG_CHARS)


def sign(survey_id: str, unit_code: str, day: dt.date, serial: int, key: bytes) -> str:
    """The ticket with this serial among `unit_code`'s tickets of `day` in one survey."""
    if not 1 <= serial <= MAX_SERIAL:
        raise HailongError(_("ticket serial {serial} is outside 1..{max}", serial=serial,
                             max=MAX_SERIAL))
    clear = ((day.toordinal() % DAYS) << SERIAL_BITS) | serial
    return _encode(clear, CLEAR_CHARS) + _signature(survey_id, unit_code, day, serial, key)


def _date_on_or_before(day_number: int, used_on: dt.date) -> dt.date:
    back = (used_on.toordinal() - day_number) % DAYS
    return used_on - dt.timedelta(days=back)


def check(survey_id: str, unit_code: str, text, used_on: dt.date, key: bytes) -> Checked:
    """Whether `text` is a ticket of this survey and unit, signed with `key`, dated on or before
    `used_on` (the local date of the answer) and at most 127 days earlier."""
    if not isinstance(text, str) or not text.strip():
        return Checked(False, "missing")
    ticket = normalise(text)
    if ticket is None:
        return Checked(False, "shape")
    clear = _decode(ticket[:CLEAR_CHARS])
    serial = clear & MAX_SERIAL
    day_number = clear >> SERIAL_BITS
    if serial == 0:
        return Checked(False, "signature")
    sig = ticket[CLEAR_CHARS:].encode()
    issued = _date_on_or_before(day_number, used_on)
    if hmac.compare_digest(sig, _signature(survey_id, unit_code, issued, serial, key).encode()):
        return Checked(True, "", issued, serial)
    later = issued + dt.timedelta(days=DAYS)  # the one date after used_on it could be of
    if hmac.compare_digest(sig, _signature(survey_id, unit_code, later, serial, key).encode()):
        return Checked(False, "early", later, serial)
    return Checked(False, "signature")


def issue_date(ticket: str, used_on: dt.date) -> dt.date | None:
    """The issue date of a ticket already found valid (no key needed), read from its day number."""
    canonical = normalise(ticket)
    if canonical is None:
        return None
    return _date_on_or_before(_decode(canonical[:CLEAR_CHARS]) >> SERIAL_BITS, used_on)
