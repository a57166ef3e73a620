"""What every deploy target shares: the check of what may leave the machine, and the
release-and-switch of the rsync and folder targets.

A release is a complete copy of the site in `dest/releases/<seq>-<time>`; the live site is the
symlink `dest/current`, switched in one rename once the new release is whole. A deploy stopped
at any point leaves `current` on a complete release, and only a `.tmp-` folder behind, which
the next deploy removes. Releases are numbered, so rollback never depends on the clock.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hailong import sitefiles
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout
from hailong.sitefiles import PUBLIC, STAFF

# a service-account key or any PEM private key
SECRET_MARKERS = (b'"private_key"', b"-----BEGIN PRIVATE KEY-----", b"PRIVATE KEY-----")
TEMP_PREFIX = ".tmp-"
RELEASE = re.compile(r"^(\d{4,})-\d{8}T\d{6}Z$")
SHARED_DIRS = ("static",)  # top folders every survey's pages load; sent with any survey
NAMED_MAX = 5  # files named in the line that says what was left out


@dataclass(frozen=True)
class Site:
    """What one deploy sends: the named surveys' files listed in their manifests for the
    target's audience, with the SHA-256 recorded when they were written."""

    root: Path  # <out>/site, absolute
    files: tuple[str, ...]  # relative POSIX paths, sorted
    sums: dict[str, str]
    surveys: tuple[str, ...]
    left_out: str = ""  # one line naming what was found under the site and not sent

    def ours(self, rel: str) -> bool:
        """Whether `rel` belongs to what this deploy replaces (the named surveys' folders, the
        shared folders and the site's root files); the rest of a live release (other surveys'
        folders) is carried over as it is."""
        top, sep, _rest = rel.partition("/")
        return not sep or top in self.surveys or top in SHARED_DIRS

    def carried(self, tops: Iterable[str]) -> list[str]:
        """The top folders of a live release that this deploy keeps as they are."""
        return sorted(t for t in tops if t not in self.surveys and t not in SHARED_DIRS)


def _refuse(site: Path, rel: str, why: str) -> HailongError:
    return HailongError(
        _("{path}: {why}; nothing was sent: remove it from {site} (or run hailong build and "
          "publish again), then run again", path=site / rel, why=why, site=site)
    )


def collect_site(out: Path, survey_ids: Iterable[str], audience: str = PUBLIC) -> Site:
    """The files to send for `survey_ids` to a target of `audience`: exactly what build,
    publish (and for staff, progress and data entry) recorded, each still holding the bytes
    recorded. Everything else under the site is left out and named; a survey of made-up demo
    answers is refused for the public."""
    out = Path(out)
    site = (out / "site").absolute()
    if site.is_symlink() or not site.is_dir():
        raise HailongError(_("{site}: no site to deploy yet; run hailong build (and publish) first",
                             site=site))
    ids = tuple(survey_ids)
    signing = os.environ.get("HAILONG_SIGNING_KEY", "").encode()
    markers = SECRET_MARKERS + ((signing,) if len(signing) >= 8 else ())
    sums: dict[str, str] = {}
    changed: list[str] = []
    staff: list[str] = []
    for sid in ids:
        listed = sitefiles.entries(out, sid)
        if not any(e.part == "build" for e in listed) or not (site / sid / "index.html").is_file():
            raise HailongError(_("{path}: no pages of survey '{survey}' yet; run hailong build with "
                                 "--out {out} first", path=site / sid, survey=sid, out=out))
        if audience == PUBLIC and (Layout(out, sid).demo_mark.exists() or any(e.demo for e in listed)):
            raise HailongError(_("{survey}: these results come from the demo's made-up answers (the "
                                 "pages say \"dữ liệu thử\"); a public target never takes them. "
                                 "Score and publish the real answers into another --out folder",
                                 survey=sid))
        for e in listed:
            if e.audience == STAFF and audience != STAFF:
                staff.append(e.path)
                continue
            path = site / e.path
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                changed.append(e.path)
                continue
            if not stat.S_ISREG(mode) or sitefiles.digest(path) != e.sha256:
                changed.append(e.path)  # replaced, linked or edited since it was written
                continue
            sums[e.path] = e.sha256
    if changed:  # a page missing or edited since it was written: a half site must not go out
        raise HailongError(_("{path}: missing or changed since hailong wrote it ({count} such "
                             "file(s)); nothing was sent: run hailong build and publish again, "
                             "then deploy", path=site / changed[0], count=len(changed)))
    for rel in sorted(sums):
        data = (site / rel).read_bytes()
        if any(m in data for m in markers):
            raise _refuse(site, rel, _("holds a secret key"))
    return Site(site, tuple(sorted(sums)), sums, ids, _left_out(site, ids, sums, staff))


def _left_out(site: Path, ids: tuple[str, ...], sent: dict[str, str], staff: list[str]) -> str:
    """One line naming what lies under the site and is not sent (empty when nothing)."""
    strays, others = [], 0
    for top, dirs, names in os.walk(site):
        dirs.sort()
        for name in sorted(names):
            rel = (Path(top) / name).relative_to(site).as_posix()
            if rel in sent or rel in staff:
                continue
            first, sep, _rest = rel.partition("/")
            if sep and first not in ids and first not in SHARED_DIRS:
                others += 1
            else:
                strays.append(rel)
    parts = []
    if strays:
        shown = ", ".join(strays[:NAMED_MAX]) + (", …" if len(strays) > NAMED_MAX else "")
        parts.append(_("left out {count} file(s) that no hailong command wrote for this target: "
                       "{names}", count=len(strays), names=shown))
    if staff:
        parts.append(_("{count} staff page file(s), sent only to a target with audience = "
                       "\"staff\"", count=len(staff)))
    if others:
        parts.append(_("{count} file(s) of surveys not named", count=others))
    return "; ".join(parts)


class Place(Protocol):
    """A destination holding releases/ and the `current` symlink (a local or remote folder)."""

    where: str

    def state(self) -> tuple[str | None, list[str]]:
        """The release `current` points at (None before the first) and every entry of releases/."""

    def read(self, rel: str) -> bytes | None:
        """A file of the live release (`current`), None when there is none."""

    def same(self, site: Site, release: str) -> bool:
        """Whether `release` holds exactly the site's files, byte for byte, in the part this
        deploy replaces (Site.ours)."""

    def send(self, site: Site, temp: str, previous: str | None) -> None:
        """Copy the site into releases/<temp>, reusing unchanged files of `previous`, and carry
        over the folders of `previous` that this deploy does not replace (Site.carried)."""

    def finish(self, temp: str, name: str) -> None:
        """Rename releases/<temp> to releases/<name>."""

    def switch(self, name: str) -> None:
        """Point `current` at releases/<name> in one step."""

    def remove(self, names: list[str]) -> None:
        """Delete these entries of releases/."""


def releases_of(entries: Iterable[str]) -> list[str]:
    """hailong's releases among the entries of releases/, oldest first (by number)."""
    found = [e for e in entries if RELEASE.match(e)]
    return sorted(found, key=lambda e: int(RELEASE.match(e).group(1)))


def next_name(releases: list[str], now: dt.datetime) -> str:
    seq = int(RELEASE.match(releases[-1]).group(1)) + 1 if releases else 1
    return f"{seq:04d}-{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"


def release(place: Place, site: Site, keep: int, now: dt.datetime | None = None,
            undo: str = "hailong deploy --rollback") -> str:
    """Send the site as a new release and switch `current` to it; nothing when unchanged."""
    current, entries = place.state()
    stale = [e for e in entries if e.startswith(TEMP_PREFIX)]
    if stale:  # what a stopped deploy left; never live
        place.remove(stale)
    ours = releases_of(entries)
    if current is not None and current in ours and place.same(site, current):
        return _("{where}: nothing changed, the live site is still release {release}",
                 where=place.where, release=current)
    name = next_name(ours, now or dt.datetime.now(dt.UTC))
    temp = TEMP_PREFIX + name
    place.send(site, temp, current if current in ours else None)
    place.finish(temp, name)
    place.switch(name)
    kept = [*ours, name][-keep:]
    old = [r for r in ours if r not in kept and r != current]
    if old:
        place.remove(old)
    done = _("{where}: deployed release {release} ({files} files)", where=place.where, release=name,
             files=len(site.files))
    return done + (_("; {kept} releases kept, go back to the one before with: {undo}", kept=len(kept),
                     undo=undo) if len(kept) > 1 else "")


def rollback(place: Place) -> str:
    """Point `current` back at the release before it."""
    current, entries = place.state()
    ours = releases_of(entries)
    if current is None or current not in ours:
        raise HailongError(_("{where}: no release deployed by hailong yet, nothing to go back to",
                             where=place.where))
    older = ours[: ours.index(current)]
    if not older:
        raise HailongError(_("{where}: {current} is the oldest release kept, there is none before it "
                             "to go back to", where=place.where, current=current))
    place.switch(older[-1])
    return _("{where}: back to release {release} (release {current} is still kept)",
             where=place.where, release=older[-1], current=current)
