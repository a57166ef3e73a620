"""`kind = "git"`: the site as the whole tree of `branch` of `repo`, one commit per deploy that
changed something, pushed with the git client's own credentials (hailong stores none).

The commit is made in a throwaway bare repository that reads <out>/site/ as its work tree, on
top of the branch's last commit fetched at depth 1: the branch's history is kept, nothing of
<out> other than the site is ever added, and a failed push leaves the branch as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hailong.errors import HailongError
from hailong.publish.deploy.common import Site
from hailong.publish.deploy.settings import Target, is_remote

TIMEOUT = 1800
FALLBACK_IDENT = ("hailong", "hailong@localhost")


class Git:
    def __init__(self, git_dir: Path, repo: str):
        self.git_dir, self.repo = git_dir, repo
        self.env = {**os.environ, "GIT_DIR": str(git_dir)}
        if not sys.stdin or not sys.stdin.isatty():
            self.env["GIT_TERMINAL_PROMPT"] = "0"  # cron: fail at once rather than wait for a password

    def __call__(self, *args: str, what: str, ok=(0,), env=None, data: str | None = None):
        argv = ["git", "-c", "core.autocrlf=false", "-c", "core.excludesFile=/dev/null", *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                  env={**self.env, **(env or {})}, input=data,
                                  stdin=None if data is not None else subprocess.DEVNULL)
        except FileNotFoundError:
            raise HailongError("không tìm thấy lệnh git: cài git (sudo apt-get install git)") from None
        except subprocess.TimeoutExpired:
            raise HailongError(f"{self.repo}: {what} quá {TIMEOUT} giây; trang công khai không đổi, "
                               "kiểm tra mạng rồi chạy lại") from None
        if done.returncode not in ok:
            lines = [x.strip() for x in done.stderr.splitlines() if x.strip()]
            raise HailongError(f"{self.repo}: {what} thất bại ({lines[-1] if lines else 'git lỗi'}); "
                               "trang công khai không đổi")
        return done


def _identity(git: Git) -> dict[str, str]:
    """Git's own user.name/email where set; a neutral one on a server that has none."""
    name = git("config", "--get", "user.name", what="đọc cấu hình git", ok=(0, 1)).stdout.strip()
    email = git("config", "--get", "user.email", what="đọc cấu hình git", ok=(0, 1)).stdout.strip()
    name, email = name or FALLBACK_IDENT[0], email or FALLBACK_IDENT[1]
    return {"GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": email}


def message(surveys: list[str], now: dt.datetime) -> str:
    local = now.astimezone(dt.timezone(dt.timedelta(hours=7)))
    return f"Cập nhật trang khảo sát: {', '.join(surveys)} ({local:%d/%m/%Y %H:%M} giờ Việt Nam)"


def deploy(target: Target, site: Site, surveys: list[str], now: dt.datetime | None = None) -> str:
    repo, branch = target["repo"], target["branch"]
    if not is_remote(repo):
        repo = str(target.local_path(repo))
    ref = f"refs/heads/{branch}"
    with tempfile.TemporaryDirectory(prefix="hailong-deploy-") as tmp:
        git = Git(Path(tmp) / "repo.git", repo)
        git("init", "-q", "--bare", str(git.git_dir), what="tạo kho tạm")
        heads = git("ls-remote", "--heads", repo, ref, what="đọc kho").stdout.split()
        parent = None
        if heads:
            git("fetch", "-q", "--depth=1", "--no-tags", repo, ref, what=f"tải nhánh {branch}")
            parent = git("rev-parse", "FETCH_HEAD", what="đọc nhánh").stdout.strip()
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git("-C", str(site.root), "--work-tree", str(site.root), "add", "-A", "--force", ".",
            what="ghi trang", env=index)
        if target["nojekyll"]:
            blob = git("hash-object", "-w", "--stdin", what="ghi .nojekyll", data="").stdout.strip()
            git("update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll",
                what="ghi .nojekyll", env=index)
        tree = git("write-tree", what="ghi cây", env=index).stdout.strip()
        if parent and git("rev-parse", f"{parent}^{{tree}}", what="đọc nhánh").stdout.strip() == tree:
            return f"{target['repo']} ({branch}): không có gì thay đổi, không tạo commit"
        args = ["commit-tree", tree, "-m", message(surveys, now or dt.datetime.now(dt.UTC))]
        if parent:
            args += ["-p", parent]
        commit = git(*args, what="tạo commit", env=_identity(git)).stdout.strip()
        git("push", "-q", repo, f"{commit}:{ref}", what=f"đẩy lên nhánh {branch}")
    return (f"{target['repo']} ({branch}): đã đẩy commit {commit[:10]} với {len(site.files)} tệp "
            "của trang")
