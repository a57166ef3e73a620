"""`kind = "rsync"`: releases sent with rsync to a local folder or to `user@host:path` over ssh.

The few steps on the destination (read `current`, rename, switch, prune) are short POSIX shell
scripts run there through the same ssh command rsync uses (or locally with sh), so the server
needs only sshd, rsync and GNU coreutils (`mv -T` renames the new link over the old one).
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import PurePosixPath

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.publish.deploy.common import Site, release, rollback
from hailong.publish.deploy.settings import Target, is_remote

TIMEOUT = 3600  # seconds for one command: a stuck connection must not hang cron forever


def _reason(stderr: str) -> str:
    """The first line that says what went wrong: ssh's or rsync's own, before rsync's closing
    "rsync error: … (code N)" and past ssh's notes about known hosts."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()
             and not line.startswith(("Warning: Permanently added", "**"))]
    errors = [line for line in lines if not line.startswith("Warning:")]
    return (errors or lines or [_("no error message")])[0]


class ShellPlace:
    def __init__(self, target: Target):
        dest = target["dest"]
        self.ssh = shlex.split(target["ssh"] or os.environ.get("RSYNC_RSH", "") or "ssh")
        self.options = list(target["options"])
        if is_remote(dest):
            host, _colon, path = dest.partition(":")
            # rsync and ssh both start a relative path in the login's home; "~/" means the same
            self.host, self.path = host, path.removeprefix("~/") or "."
        else:
            self.host, self.path = None, str(target.local_path(dest))
        self.where = dest

    def _run(self, script: str, what: str) -> str:
        script = f"set -e; cd {shlex.quote(self.path)}; {script}"
        argv = [*self.ssh, self.host, script] if self.host else ["sh", "-c", script]
        return self._call(argv, what)

    def _call(self, argv: list[str], what: str, data: str | None = None) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                  input=data, stdin=None if data is not None else subprocess.DEVNULL)
        except FileNotFoundError:
            raise HailongError(_("command '{command}' not found: install {command} "
                                 "(sudo apt-get install rsync openssh-client)", command=argv[0])) from None
        except subprocess.TimeoutExpired:
            raise HailongError(_("{where}: could not {what} within {seconds} seconds; the live site "
                                 "is unchanged, check the network and run again", where=self.where,
                                 what=what, seconds=TIMEOUT)) from None
        if done.returncode != 0:
            raise HailongError(_("{where}: could not {what} ({reason}); the live site is unchanged",
                                 where=self.where, what=what, reason=_reason(done.stderr)))
        return done.stdout

    def _remote(self, *parts: str) -> str:
        path = str(PurePosixPath(self.path, *parts)) + "/"
        return f"{self.host}:{path}" if self.host else path

    def state(self) -> tuple[str | None, list[str]]:
        path = shlex.quote(self.path)
        script = (f"mkdir -p {path}/releases; cd {path}; "
                  "if [ -L current ]; then printf 'current %s\\n' \"$(readlink current)\"; "
                  "elif [ -e current ]; then echo 'notlink'; fi; ls -1A releases")
        argv = [*self.ssh, self.host, script] if self.host else ["sh", "-c", script]
        lines = self._call(argv, _("read the destination folder")).splitlines()
        if lines and lines[0] == "notlink":
            raise HailongError(_("{where}/current is a real folder, not a link: rename it (e.g. to "
                                 "current.old), then run again", where=self.where))
        current = None
        if lines and lines[0].startswith("current "):
            current = PurePosixPath(lines.pop(0)[len("current "):]).name
        return current, [line for line in lines if line]

    def read(self, rel: str) -> bytes | None:
        # "y" then the file, or "n": an empty file and no file are told apart
        file = shlex.quote(f"{self.path}/current/{rel}")
        script = f"if [ -f {file} ]; then printf y; cat {file}; else printf n; fi"
        argv = [*self.ssh, self.host, script] if self.host else ["sh", "-c", script]
        got = self._call(argv, _("read the live release"))
        return got[1:].encode("utf-8") if got.startswith("y") else None

    def same(self, site: Site, release: str) -> bool:
        # the SHA-256 of every file the release holds in the part this deploy replaces
        listing = self._run(f"cd releases/{shlex.quote(release)} && find . -type f -exec "
                            "sha256sum {} +", _("compare with the live release"))
        have = {}
        for line in listing.splitlines():
            sha, _sep, path = line.partition("  ")
            rel = path.removeprefix("./")
            if site.ours(rel):
                have[rel] = sha
        return have == site.sums

    def send(self, site: Site, temp: str, previous: str | None) -> None:
        # exactly the listed files (--files-from), none of what else lies under the site;
        # --link-dest: files equal to the previous release's become hard links to them
        argv = ["rsync", "-lpc", "--chmod=D755,F644", "--files-from=-", *self.options]
        argv += [f"--link-dest=../{previous}"] if previous else []
        if self.host:
            argv += ["-e", shlex.join(self.ssh)]
        self._call([*argv, f"{site.root}/", self._remote("releases", temp)], _("send the site"),
                   data="".join(f"{rel}\n" for rel in site.files))
        if previous:  # other surveys' folders stay as they are live (hard links, no copy)
            keep = shlex.quote(" " + " ".join((*site.surveys, "static")) + " ")
            self._run(f"cd releases && for d in {shlex.quote(previous)}/*/; do "
                      'd=${d%/}; n=${d##*/}; if [ -d "$d" ] && [ ! -L "$d" ]; then '
                      f'case {keep} in *" $n "*) ;; *) cp -al "$d" {shlex.quote(temp)}/"$n" ;; '
                      "esac; fi; done", _("keep the other surveys' pages"))

    def finish(self, temp: str, name: str) -> None:
        self._run(f"mv -- releases/{shlex.quote(temp)} releases/{shlex.quote(name)}",
                  _("name the new release"))

    def switch(self, name: str) -> None:
        self._run(f"ln -sfn releases/{shlex.quote(name)} .current-new; mv -Tf .current-new current",
                  _("switch the site to the new release"))

    def remove(self, names: list[str]) -> None:
        self._run("cd releases; rm -rf -- " + " ".join(shlex.quote(n) for n in names),
                  _("remove old releases"))


def deploy(target: Target, site: Site, surveys: list[str]) -> str:
    return release(ShellPlace(target), site, target["keep"],
                   undo=f"hailong deploy --rollback --target {target.name}")


def undo(target: Target) -> str:
    return rollback(ShellPlace(target))


def read(target: Target, rels: list[str]) -> dict[str, bytes | None]:
    place = ShellPlace(target)
    return {rel: place.read(rel) for rel in rels}
