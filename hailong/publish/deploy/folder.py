"""`kind = "folder"`: releases in a local folder that a web server serves (its root is
dest/current), written with Python alone, so no rsync is needed on the machine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hailong import sitefiles
from hailong.errors import HailongError
from hailong.i18n import _
from hailong.publish.deploy.common import Site, release, rollback
from hailong.publish.deploy.settings import Target

FILE_MODE, DIR_MODE = 0o644, 0o755  # the web server's user must read what we write


class LocalPlace:
    def __init__(self, dest: Path):
        self.dest = dest
        self.releases = dest / "releases"
        self.where = str(dest)

    def state(self) -> tuple[str | None, list[str]]:
        current = self.dest / "current"
        if current.exists() and not current.is_symlink():
            raise HailongError(_("{path} is a real folder, not a link: rename it (e.g. to current.old), "
                                 "then run again; hailong will create the link", path=current))
        try:
            self.releases.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HailongError(_("{path}: cannot create the folder ({strerror}); check the dest path "
                                 "and write permission", path=self.releases, strerror=exc.strerror)) from None
        name = Path(os.readlink(current)).name if current.is_symlink() else None
        return name, sorted(os.listdir(self.releases))

    def read(self, rel: str) -> bytes | None:
        path = self.dest / "current" / rel
        return path.read_bytes() if path.is_file() else None

    def same(self, site: Site, release: str) -> bool:
        there = self.releases / release
        have = sorted(rel for rel in (p.relative_to(there).as_posix() for p in there.rglob("*")
                                      if p.is_file()) if site.ours(rel))
        return have == list(site.files) and all(
            sitefiles.digest(there / rel) == site.sums[rel] for rel in site.files)

    def send(self, site: Site, temp: str, previous: str | None) -> None:
        target = self.releases / temp
        before = self.releases / previous if previous else None
        target.mkdir(mode=DIR_MODE)
        for rel in site.files:
            src, dst = site.root / rel, target / rel
            dst.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            old = before / rel if before else None
            # an unchanged file is a hard link to the previous release: releases are never
            # written after they are finished, so sharing the bytes is safe and keeps many cheap
            if old is not None and old.is_file() and sitefiles.digest(old) == site.sums[rel]:
                os.link(old, dst)
            else:
                shutil.copyfile(src, dst)
                os.chmod(dst, FILE_MODE)
                if sitefiles.digest(dst) != site.sums[rel]:  # changed while being copied
                    raise HailongError(_("{path} changed while it was being sent; nothing was "
                                         "switched, run again", path=src))
        if before is not None:  # other surveys' folders stay as they are live
            tops = [p.name for p in before.iterdir() if p.is_dir() and not p.is_symlink()]
            for top in site.carried(tops):
                shutil.copytree(before / top, target / top, copy_function=os.link)
        for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
            os.chmod(folder, DIR_MODE)

    def finish(self, temp: str, name: str) -> None:
        os.rename(self.releases / temp, self.releases / name)

    def switch(self, name: str) -> None:
        link = self.dest / ".current-new"
        link.unlink(missing_ok=True)
        os.symlink(f"releases/{name}", link)
        os.replace(link, self.dest / "current")  # rename over the old link: one step

    def remove(self, names: list[str]) -> None:
        for name in names:
            shutil.rmtree(self.releases / name, ignore_errors=True)


def deploy(target: Target, site: Site, surveys: list[str]) -> str:
    return release(LocalPlace(target.local_path(target["dest"])), site, target["keep"],
                   undo=f"hailong deploy --rollback --target {target.name}")


def undo(target: Target) -> str:
    return rollback(LocalPlace(target.local_path(target["dest"])))


def read(target: Target, rels: list[str]) -> dict[str, bytes | None]:
    place = LocalPlace(target.local_path(target["dest"]))
    return {rel: place.read(rel) for rel in rels}
