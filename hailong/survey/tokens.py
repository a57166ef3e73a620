"""Signed personal tokens for roster access (cooperatives answering on a personal link).

A token is `<roster id>.<signature>`: the signature is HMAC-SHA256 under HAILONG_SIGNING_KEY over
the survey id and the roster id, base64url without padding, cut to 22 characters (132 bits).
The survey id is inside the MAC, so a token made for one survey fails in another; the roster id
is in clear so staff can tell whose answer it is. A token is not secret from its holder: it only
proves that the survey's organiser issued it to that roster member.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.survey.keystrength import MIN_BITS, strength_bits

KEY_ENV = "HAILONG_SIGNING_KEY"
SIG_CHARS = 22  # 22 base64 characters carry 132 bits, above the 128 the brief requires
_DOMAIN = b"hailong-roster-v1"  # so a MAC made for another purpose with the same key never fits


MIN_KEY_BYTES = 16


def signing_key(making: bool = True) -> bytes:
    """The signing key from the environment, or a HailongError saying how to set it.

    A key too easy to guess is refused for making tickets or links (`making`); checking
    (`score`) still takes it, because a new key would void every slip and letter already
    handed out: the survey after this one gets a good key."""
    key = os.environ.get(KEY_ENV, "")
    if not key.strip():
        raise HailongError(
            _('set {KEY_ENV} to a long random secret (e.g. the output of `python3 -c "import '
              'secrets; print(secrets.token_urlsafe(32))"`) before making or checking personal '
              "links; keep the same value for the whole survey", KEY_ENV=KEY_ENV)
        )
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        # a short key can be guessed offline from one letter's link, and then links forged
        raise HailongError(
            _("{KEY_ENV} is too short ({value} characters); use at least {MIN_KEY_BYTES}, e.g. "
              'the output of `python3 -c "import secrets; print(secrets.token_urlsafe(32))"`',
              KEY_ENV=KEY_ENV, value=len(key), MIN_KEY_BYTES=MIN_KEY_BYTES)
        )
    if making and strength_bits(key) < MIN_BITS:
        # a key of repeats or steps passes the length rule and falls to the first guesses
        raise HailongError(
            _("{KEY_ENV} is too easy to guess (repeated characters, steps like abcd or 1234, or "
              "a repeated stretch); make a good one with `python -c \"import secrets; "
              'print(secrets.token_urlsafe(32))"`', KEY_ENV=KEY_ENV)
        )
    return key.encode("utf-8")


def _signature(survey_id: str, roster_id: str, key: bytes) -> str:
    # Length-prefixed fields: ("a", "b.c") and ("a.b", "c") must not sign the same message.
    message = b"\x00".join([
        _DOMAIN,
        str(len(survey_id)).encode(), survey_id.encode("utf-8"),
        str(len(roster_id)).encode(), roster_id.encode("utf-8"),
    ])
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")[:SIG_CHARS]


def sign(survey_id: str, roster_id: str, key: bytes) -> str:
    """The personal token of one roster member in one survey."""
    if not roster_id:
        raise HailongError(_("cannot sign an empty roster id"))
    return f"{roster_id}.{_signature(survey_id, roster_id, key)}"


def roster_id_of(token: str) -> str | None:
    """The roster id a token names (not yet verified), or None if it has no token shape."""
    if not isinstance(token, str):
        return None
    roster_id, dot, sig = token.strip().rpartition(".")
    if not dot or not roster_id or len(sig) != SIG_CHARS:
        return None
    return roster_id


def verify(survey_id: str, token: str, key: bytes) -> bool:
    """True when `token` was signed for this survey with this key (any roster id)."""
    roster_id = roster_id_of(token)
    if roster_id is None:
        return False
    expected = sign(survey_id, roster_id, key)
    return hmac.compare_digest(expected.encode("utf-8"), token.strip().encode("utf-8"))
