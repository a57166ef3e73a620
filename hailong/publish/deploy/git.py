"""`kind = "git"`: the site as the whole tree of `branch` of `repo`, one commit per deploy that
changed something, pushed with the git client's own credentials (hailong stores none).

The commit is made in a throwaway bare repository that reads <out>/site/ as its work tree, on
top of the branch's last commit fetched at depth 1: the branch's history is kept, nothing of
<out> other than the site is ever added, and a failed push leaves the branch as it was.
A rollback is one more commit, so the host keeps serving from a branch that only moves forward.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.publish.deploy.common import Site
from hailong.publish.deploy.settings import Target, is_remote

TIMEOUT = 1800
FALLBACK_IDENT = ("hailong", "hailong@localhost")
ROLLBACK_TRAILER = "Hailong-Rollback-To"


def _reason(stderr: str) -> str:
    """git's own reason: its first fatal/error line (the lines after it are general advice)."""
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    told = [x for x in lines if x.startswith(("fatal:", "error:", "remote:"))]
    return (told or lines or [_("git reported an unknown error")])[0]


class Git:
    def __init__(self, git_dir: Path, repo: str):
        self.git_dir, self.repo = git_dir, repo
        self.env = {**os.environ, "GIT_DIR": str(git_dir)}
        if not sys.stdin or not sys.stdin.isatty():
            self.env["GIT_TERMINAL_PROMPT"] = "0"  # cron: fail at once rather than wait for a password

    def __call__(self, *args: str, what: str, ok=(0,), env=None, data: str | None = None,
                 text: bool = True):
        argv = ["git", "-c", "core.autocrlf=false", "-c", "core.excludesFile=/dev/null", *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=text, timeout=TIMEOUT,
                                  env={**self.env, **(env or {})}, input=data,
                                  stdin=None if data is not None else subprocess.DEVNULL)
        except FileNotFoundError:
            raise HailongError(_("git command not found: install git (sudo apt-get install "
                                 "git)")) from None
        except subprocess.TimeoutExpired:
            raise HailongError(_("{repo}: could not {what} within {seconds} seconds; the public site "
                                 "is unchanged, check the network and run again", repo=self.repo,
                                 what=what, seconds=TIMEOUT)) from None
        if done.returncode not in ok:
            err = done.stderr if text else done.stderr.decode("utf-8", "replace")
            raise HailongError(_("{repo}: could not {what} ({reason}); the public site is unchanged",
                                 repo=self.repo, what=what, reason=_reason(err)))
        return done


def _identity(git: Git) -> dict[str, str]:
    """Git's own user.name/email where set; a neutral one on a server that has none."""
    what = _("read the git configuration")
    name = git("config", "--get", "user.name", what=what, ok=(0, 1)).stdout.strip()
    email = git("config", "--get", "user.email", what=what, ok=(0, 1)).stdout.strip()
    name, email = name or FALLBACK_IDENT[0], email or FALLBACK_IDENT[1]
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def message(surveys: list[str], now: dt.datetime) -> str:
    local = now.astimezone(dt.timezone(dt.timedelta(hours=7)))
    return f"Cập nhật trang khảo sát: {', '.join(surveys)} ({local:%d/%m/%Y %H:%M} giờ Việt Nam)"


@contextlib.contextmanager
def _branch(target: Target, depth: int) -> Iterator[tuple[Git, str, str | None]]:
    """A throwaway bare repository holding the branch's last `depth` commits; yields it, the
    ref and the branch's last commit (None before the first deploy)."""
    repo, branch = target["repo"], target["branch"]
    if not is_remote(repo):
        repo = str(target.local_path(repo))
    ref = f"refs/heads/{branch}"
    with tempfile.TemporaryDirectory(prefix="hailong-deploy-") as tmp:
        git = Git(Path(tmp) / "repo.git", repo)
        git("init", "-q", "--bare", str(git.git_dir), what=_("create the temporary repository"))
        tip = None
        if git("ls-remote", "--heads", repo, ref, what=_("read the repository")).stdout.split():
            git("fetch", "-q", f"--depth={depth}", "--no-tags", repo, ref,
                what=_("fetch branch {branch}", branch=branch))
            tip = git("rev-parse", "FETCH_HEAD", what=_("read the branch")).stdout.strip()
        yield git, ref, tip


def _push(git: Git, target: Target, ref: str, tree: str, parent: str | None, text: str) -> str:
    args = ["commit-tree", tree, "-m", text] + (["-p", parent] if parent else [])
    commit = git(*args, what=_("create the commit"), env=_identity(git)).stdout.strip()
    git("push", "-q", git.repo, f"{commit}:{ref}",
        what=_("push to branch {branch}", branch=target["branch"]))
    return commit


def read(target: Target, rels: list[str]) -> dict[str, bytes | None]:
    """Files of the branch's last commit (None: not there, or no branch yet)."""
    found: dict[str, bytes | None] = dict.fromkeys(rels)
    with _branch(target, depth=1) as (git, _ref, tip):
        if tip is None:
            return found
        for rel in rels:
            done = git("cat-file", "blob", f"{tip}:{rel}", what=_("read the live release"),
                       ok=(0, 128), text=False)
            found[rel] = done.stdout if done.returncode == 0 else None
    return found


def deploy(target: Target, site: Site, surveys: list[str], now: dt.datetime | None = None) -> str:
    """One commit whose tree is the branch's tree with the named surveys' folders, the shared
    folders and the root files replaced by exactly the site's listed files; other surveys'
    folders stay as they are."""
    where = f"{target['repo']} ({target['branch']})"
    with _branch(target, depth=1) as (git, ref, tip):
        index = {"GIT_INDEX_FILE": str(git.git_dir.parent / "index")}
        kept = []
        if tip:
            listed = git("ls-tree", "-r", "--full-tree", tip, what=_("read the branch")).stdout
            for line in listed.splitlines():
                meta, _tab, path = line.partition("\t")
                mode, _kind, sha = meta.split()
                if not site.ours(path) and path != ".nojekyll":
                    kept.append(f"{mode} {sha}\t{path}")
        paths = [str(site.root / rel) for rel in site.files]
        blobs = git("hash-object", "-w", "--no-filters", "--stdin-paths", what=_("write the site"),
                    data="".join(p + "\n" for p in paths)).stdout.split()
        entries = [*kept, *(f"100644 {sha}\t{rel}" for sha, rel in zip(blobs, site.files, strict=True))]
        if target["nojekyll"]:
            blob = git("hash-object", "-w", "--stdin", what=_("write .nojekyll"), data="").stdout.strip()
            entries.append(f"100644 {blob}\t.nojekyll")
        git("update-index", "--add", "--index-info", what=_("write the site"), env=index,
            data="".join(e + "\n" for e in entries))
        tree = git("write-tree", what=_("write the tree"), env=index).stdout.strip()
        if tip and git("rev-parse", f"{tip}^{{tree}}", what=_("read the branch")).stdout.strip() == tree:
            return _("{where}: nothing changed, no commit made", where=where)
        text = message(surveys, now or dt.datetime.now(dt.UTC))
        commit = _push(git, target, ref, tree, tip, text)
    return _("{where}: pushed commit {commit} with {files} files of the site", where=where,
             commit=commit[:10], files=len(site.files))


def undo(target: Target, depth: int = 100) -> str:
    """A new commit with the tree that was live before the current one. The branch's history
    is never rewritten; a rollback commit names the commit it restored, so a second rollback
    goes one further back instead of undoing the first."""
    where = f"{target['repo']} ({target['branch']})"
    with _branch(target, depth=depth) as (git, ref, tip):
        if tip is None:
            raise HailongError(_("{where}: the branch has no release yet, nothing to go back to",
                                 where=where))
        lines = git("log", "--first-parent", "--format=%H %(trailers:key=" + ROLLBACK_TRAILER
                    + ",valueonly,separator=)", tip, what=_("read the branch history")).stdout.splitlines()
        commits = [line.split(" ", 1)[0] for line in lines]
        restored = lines[0].split(" ", 1)[1].strip() if " " in lines[0] else ""
        live = commits.index(restored) if restored in commits else 0
        if live + 1 >= len(commits):
            raise HailongError(_("{where}: the live release is the oldest one that can be read, "
                                 "there is none before it to go back to", where=where))
        before = commits[live + 1]
        tree = git("rev-parse", f"{before}^{{tree}}", what=_("read the branch")).stdout.strip()
        text = f"Quay về bản {before[:10]}\n\n{ROLLBACK_TRAILER}: {before}"
        commit = _push(git, target, ref, tree, tip, text)
    return _("{where}: back to release {release} with commit {commit} (the history is kept as it "
             "was)", where=where, release=before[:10], commit=commit[:10])
