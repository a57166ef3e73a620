"""Single-use tickets for access = "tickets" (contract, section 6): signing and checking.

A ticket is 14 characters of Crockford's base-32 alphabet (digits and upper-case letters without
I, L, O and U, so no two characters look alike; typed text is read case-blind, spaces and dashes
ignored, and O, I, L read as 0, 1, 1). Its 70 bits are

    6 characters (30 bits) in clear: the ticket's number. `hailong tickets` draws a random start
                                     for each unit and day it issues, and numbers that run's
                                     tickets from it (start, start + 1, ...; modulo 2**30), so
                                     two issuers that know nothing of each other (another output
                                     folder, a lost issued.csv, a second machine) make the same
                                     ticket only when their random runs overlap;
    8 characters (40 bits):          HMAC-SHA256 under HAILONG_SIGNING_KEY over (survey id,
                                     unit code, issue date, number), cut to 40 bits.

The issue date and the unit code are not written: the unit comes from the page the ticket is
sent from, and the date is found by trying the days of the window, the day of the answer
first (most slips are answered the day they are handed out, so most rows cost one HMAC). A
ticket of another unit, survey, key or day fails; a ticket used before its date is told apart
(`early`). Nothing in a ticket names a person: the office hands out slips without writing down
who took which.

A blind guess: a forger who knows the format still has to hit a 40-bit signature, so each
guess counts with probability 2**-40 (see docs/tickets.md for how long that takes).
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
LENGTH = 14
NUMBER_CHARS = 6  # 30 bits: the ticket's number (random start of its run + its place in it)
SIG_CHARS = LENGTH - NUMBER_CHARS  # 40 bits of signature
NUMBER_BITS = 5 * NUMBER_CHARS
NUMBERS = 1 << NUMBER_BITS
DAYS = 128  # a ticket is looked for at most this many days before the day it is used
_IGNORED = str.maketrans("", "", " -\t\u00a0_.")
_CONFUSED = str.maketrans("OIL", "011")  # what a person may type for 0 and 1
_CANONICAL = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
_DOMAIN = b"hailong-ticket-v2"  # a MAC for roster tokens (or v1 tickets) never fits, and back


class Checked(NamedTuple):
    """The verdict on one ticket: `ok`, and for a valid one its issue date and number; for an
    invalid one, `why` says which rule it broke (missing, shape, early, signature). A named
    tuple: score makes one per row."""

    ok: bool
    why: str = ""
    date: dt.date | None = None
    number: int | None = None


def normalise(text) -> str | None:
    """The ticket's 14 canonical characters, or None when `text` cannot be a ticket."""
    if not isinstance(text, str):
        return None
    if _CANONICAL.fullmatch(text):  # as the QR code sends it: most rows
        return text
    folded = text.upper().translate(_IGNORED).translate(_CONFUSED)
    return folded if _CANONICAL.fullmatch(folded) else None


def display(ticket: str) -> str:
    """A ticket as printed for typing: three groups, ABCDE-FGHJ-KMNPQ."""
    t = normalise(ticket) or ticket
    return "-".join([t[:5], t[5:9], t[9:]]) if len(t) == LENGTH else t


def number_of(ticket: str) -> int | None:
    """The number written in a ticket (not yet verified), or None when it has no ticket shape."""
    canonical = normalise(ticket)
    return None if canonical is None else _decode(canonical[:NUMBER_CHARS])


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


def _signature(survey_id: str, unit_code: str, day: dt.date, number: int, key: bytes) -> str:
    # length-prefixed fields, so that no two different tuples sign the same message
    message = _prefix(survey_id, unit_code) + _field(day.isoformat()) + _field(str(number))
    digest = hmac.digest(key, message, hashlib.sha256)  # one-shot: in C, no HMAC object
    return _encode(int.from_bytes(digest[:5], "big"), SIG_CHARS)


def sign(survey_id: str, unit_code: str, day: dt.date, number: int, key: bytes) -> str:
    """The ticket with this number among `unit_code`'s tickets of `day` in one survey."""
    if not 0 <= number < NUMBERS:
        raise HailongError(_("ticket number {number} is outside 0..{max}", number=number,
                             max=NUMBERS - 1))
    return _encode(number, NUMBER_CHARS) + _signature(survey_id, unit_code, day, number, key)


def check(survey_id: str, unit_code: str, text, used_on: dt.date, key: bytes,
          first: dt.date | None = None, last: dt.date | None = None) -> Checked:
    """Whether `text` is a ticket of this survey and unit, signed with `key` for a day from
    `first` (default DAYS - 1 days before) up to `used_on` (the local date of the answer).
    A ticket of a day after `used_on`, up to `last` (default `used_on`: not looked for), is
    `early`. Days are tried from `used_on` backwards: most rows cost one HMAC."""
    if not isinstance(text, str) or not text.strip():
        return Checked(False, "missing")
    ticket = normalise(text)
    if ticket is None:
        return Checked(False, "shape")
    number = _decode(ticket[:NUMBER_CHARS])
    sig = ticket[NUMBER_CHARS:].encode()
    lowest = used_on - dt.timedelta(days=DAYS - 1)
    if first is not None:
        lowest = max(first, lowest)
    day = used_on
    while day >= lowest:
        if hmac.compare_digest(sig, _signature(survey_id, unit_code, day, number, key).encode()):
            return Checked(True, "", day, number)
        day -= dt.timedelta(days=1)
    day = used_on + dt.timedelta(days=1)
    while last is not None and day <= last:
        if hmac.compare_digest(sig, _signature(survey_id, unit_code, day, number, key).encode()):
            return Checked(False, "early", day, number)
        day += dt.timedelta(days=1)
    return Checked(False, "signature")
