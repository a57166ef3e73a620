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

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.layout import Layout

# Folders and files of <out>/<id>/ that hold personal or unpublished data (contract, section 4
# and 6). None of them belongs in the site; finding one there means something copied it in.
PRIVATE_DIRS = {"data", "links", "tickets"}
PRIVATE_FILES = {
    "sheet.csv", "raw.csv", "responses.csv", "quarantine.csv", "duplicates.csv", "signals.csv",
    "pull-state.json", "issued.csv", "sample.csv", "reserve.csv", "excluded.csv", "sample.xlsx",
}
# a service-account key or any PEM private key
SECRET_MARKERS = (b'"private_key"', b"-----BEGIN PRIVATE KEY-----", b"PRIVATE KEY-----")
TEMP_PREFIX = ".tmp-"
RELEASE = re.compile(r"^(\d{4,})-\d{8}T\d{6}Z$")


@dataclass(frozen=True)
class Site:
    root: Path
    files: tuple[str, ...]  # relative POSIX paths, sorted


def _refuse(site: Path, rel: str, why: str) -> HailongError:
    return HailongError(
        _("{path}: {why}; only the public pages may be sent, so nothing was sent: remove it from "
          "{site} (or run hailong build again), then run again", path=site / rel, why=why, site=site)
    )


def check_site(out: Path, survey_ids: Iterable[str]) -> Site:
    """The site under `out`, after checking that it holds the surveys' pages and nothing
    private: no symlink (it could point anywhere), no private folder or file, no key."""
    site = Layout(Path(out), "").site
    if site.is_symlink() or not site.is_dir():
        raise HailongError(_("{site}: no site to deploy yet; run hailong build (and publish) first",
                             site=site))
    for sid in survey_ids:
        if not (site / sid / "index.html").is_file():
            raise HailongError(_("{path}: no pages of survey '{survey}' yet; run hailong build with "
                                 "--out {out} first", path=site / sid, survey=sid, out=out))
    signing = os.environ.get("HAILONG_SIGNING_KEY", "").encode()
    markers = SECRET_MARKERS + ((signing,) if len(signing) >= 8 else ())
    files = []
    for top, dirs, names in os.walk(site):
        here = Path(top)
        for name in [*dirs, *names]:
            rel = (here / name).relative_to(site).as_posix()
            mode = os.lstat(here / name).st_mode
            if stat.S_ISLNK(mode):
                raise _refuse(site, rel, _("is a link (symlink), which may point outside the site"))
            if name == ".git":  # a repository's history holds every past version of every file
                raise _refuse(site, rel, _("is a git repository (it holds every old version); "
                                           "hailong manages git targets itself"))
            if name in PRIVATE_DIRS and stat.S_ISDIR(mode):
                raise _refuse(site, rel, _("is a private data folder"))
            if name in PRIVATE_FILES or name.endswith(".lock"):
                raise _refuse(site, rel, _("is a private data file"))
            if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
                raise _refuse(site, rel, _("is not a regular file"))
            if stat.S_ISREG(mode):
                data = (here / name).read_bytes()
                if any(m in data for m in markers):
                    raise _refuse(site, rel, _("holds a secret key"))
                files.append(rel)
    return Site(site, tuple(sorted(files)))


class Place(Protocol):
    """A destination holding releases/ and the `current` symlink (a local or remote folder)."""

    where: str

    def state(self) -> tuple[str | None, list[str]]:
        """The release `current` points at (None before the first) and every entry of releases/."""

    def same(self, site: Site, release: str) -> bool:
        """Whether `release` holds exactly the site's files, byte for byte."""

    def send(self, site: Site, temp: str, previous: str | None) -> None:
        """Copy the site into releases/<temp>, reusing unchanged files of `previous`."""

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
