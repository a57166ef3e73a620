"""The fingerprint of the signing key kept beside what was signed with it.

`hailong links` and `hailong tickets` write `key-check.txt` into their folders (personal links,
tickets): an HMAC of a fixed text under HAILONG_SIGNING_KEY, cut to 16 hex digits. It tells
whether the key in use is the key the letters or slips were signed with, and reveals nothing
more of the key than a signed link or ticket already does. A run under another key is refused
before it can replace what was printed (links, tickets) or quarantine every answer (score).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey.tokens import KEY_ENV

KEY_CHECK = "key-check.txt"


def key_check(key: bytes) -> str:
    """A fingerprint of the signing key, safe to keep beside the letters and slips."""
    return hmac.new(key, b"hailong key check", hashlib.sha256).hexdigest()[:16]


def stored_check(folder: Path) -> str | None:
    """The fingerprint kept in `folder`, or None when there is none (first run)."""
    stored = Path(folder) / KEY_CHECK
    try:
        return stored.read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise HailongError(_("{path}: cannot read it ({strerror})", path=stored,
                             strerror=exc.strerror)) from None


def require_same_key(folder: Path, check: str, why: str) -> None:
    """Refuse (a HailongError naming the key-check file, then `why`) when `folder` holds the
    fingerprint of another key than `check`; nothing to compare on a first run."""
    before = stored_check(folder)
    if before is not None and before != check:
        raise HailongError(_("{path}: {why}", path=Path(folder) / KEY_CHECK, why=why))


def signed_folders(layout: Layout) -> list[Path]:
    """The folders whose contents are signed with the survey's key."""
    return [layout.links, layout.tickets]


def mismatch(layout: Layout, key: bytes) -> Path | None:
    """The key-check file of this survey that another key wrote, or None when all agree."""
    check = key_check(key)
    for folder in signed_folders(layout):
        before = stored_check(folder)
        if before is not None and before != check:
            return folder / KEY_CHECK
    return None


def refuse_other_key(layout: Layout, key: bytes, doing: str) -> None:
    """A HailongError when `key` is not the key the survey's links or tickets were signed with.

    `doing` names what is refused, translated (e.g. _("score the answers"))."""
    found = mismatch(layout, key)
    if found is None:
        return
    raise HailongError(
        _("{path}: the current {KEY_ENV} is not the key {what} in {folder} were signed with; "
          "cannot {doing} with this key (every answer would count as invalid). Set {KEY_ENV} back "
          "to the key used before", path=found, KEY_ENV=KEY_ENV, what=_what(found),
          folder=found.parent, doing=doing)
    )


def _what(found: Path) -> str:
    return (_("the tickets handed out to citizens") if found.parent.name == "tickets"
            else _("the personal links"))
