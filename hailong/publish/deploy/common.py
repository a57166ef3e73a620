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
        f"{site / rel}: {why}; chỉ trang công khai được gửi đi nên không gửi gì cả: xóa nó khỏi "
        f"{site} (hoặc chạy lại hailong build) rồi chạy lại"
    )


def check_site(out: Path, survey_ids: Iterable[str]) -> Site:
    """The site under `out`, after checking that it holds the surveys' pages and nothing
    private: no symlink (it could point anywhere), no private folder or file, no key."""
    site = Layout(Path(out), "").site
    if site.is_symlink() or not site.is_dir():
        raise HailongError(f"{site}: chưa có trang để đưa lên; chạy hailong build (và publish) trước")
    for sid in survey_ids:
        if not (site / sid / "index.html").is_file():
            raise HailongError(f"{site / sid}: chưa có trang của khảo sát '{sid}'; chạy hailong "
                               f"build với --out {out} trước")
    signing = os.environ.get("HAILONG_SIGNING_KEY", "").encode()
    markers = SECRET_MARKERS + ((signing,) if len(signing) >= 8 else ())
    files = []
    for top, dirs, names in os.walk(site):
        here = Path(top)
        for name in [*dirs, *names]:
            rel = (here / name).relative_to(site).as_posix()
            mode = os.lstat(here / name).st_mode
            if stat.S_ISLNK(mode):
                raise _refuse(site, rel, "là liên kết (symlink), có thể trỏ ra ngoài trang")
            if name == ".git":  # a repository's history holds every past version of every file
                raise _refuse(site, rel, "là kho git (chứa mọi bản cũ); đích git do hailong tự quản")
            if name in PRIVATE_DIRS and stat.S_ISDIR(mode):
                raise _refuse(site, rel, "là thư mục dữ liệu riêng")
            if name in PRIVATE_FILES or name.endswith(".lock"):
                raise _refuse(site, rel, "là tệp dữ liệu riêng")
            if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
                raise _refuse(site, rel, "không phải tệp thường")
            if stat.S_ISREG(mode):
                data = (here / name).read_bytes()
                if any(m in data for m in markers):
                    raise _refuse(site, rel, "chứa khóa bí mật")
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
        return f"{place.where}: không có gì thay đổi, trang đang chạy vẫn là bản {current}"
    name = next_name(ours, now or dt.datetime.now(dt.UTC))
    temp = TEMP_PREFIX + name
    place.send(site, temp, current if current in ours else None)
    place.finish(temp, name)
    place.switch(name)
    kept = [*ours, name][-keep:]
    old = [r for r in ours if r not in kept and r != current]
    if old:
        place.remove(old)
    done = f"{place.where}: đã đưa lên bản {name} ({len(site.files)} tệp)"
    return done + (f"; giữ {len(kept)} bản, quay về bản trước bằng: {undo}" if len(kept) > 1 else "")


def rollback(place: Place) -> str:
    """Point `current` back at the release before it."""
    current, entries = place.state()
    ours = releases_of(entries)
    if current is None or current not in ours:
        raise HailongError(f"{place.where}: chưa có bản nào do hailong đưa lên, không có gì để quay về")
    older = ours[: ours.index(current)]
    if not older:
        raise HailongError(f"{place.where}: {current} là bản cũ nhất còn giữ, không còn bản nào "
                           "trước nó để quay về")
    place.switch(older[-1])
    return f"{place.where}: đã quay về bản {older[-1]} (bản {current} vẫn được giữ)"
