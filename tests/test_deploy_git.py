"""`kind = "git"`: a bare repository on disk is the remote; real git pushes, a fresh clone of
the branch is compared with <out>/site/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from site_fixture import SID, make_site, record_all, tree

from hailong.errors import HailongError
from hailong.publish.deploy.run import deploy


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          timeout=60).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "khaosat.git"
    git("init", "-q", "--bare", str(bare))
    return bare


def config(tmp_path: Path, remote: Path, extra: str = "") -> Path:
    path = tmp_path / "hailong.toml"
    path.write_text(f'[deploy.pages]\nkind = "git"\nrepo = "{remote.name}"\n{extra}', encoding="utf-8")
    return path


def clone(remote: Path, dest: Path, branch: str = "gh-pages") -> dict[str, bytes]:
    git("clone", "-q", "--branch", branch, str(remote), str(dest))
    return tree(dest)


def test_site_becomes_the_branch_and_no_change_makes_no_commit(tmp_path, remote, vietnamese):
    out, cfg = tmp_path / "out", config(tmp_path, remote)
    make_site(out, "1")
    first = deploy([SID], out, config=cfg)
    assert "đã đẩy commit" in first and "6 tệp" in first
    cloned = clone(remote, tmp_path / "c1")
    assert cloned.pop(".nojekyll") == b""
    assert cloned == tree(out / "site")
    assert not any(b"0912345678" in data for data in cloned.values())

    assert "không có gì thay đổi" in deploy([SID], out, config=cfg)
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "1"

    make_site(out, "2")
    (out / "site" / "static" / "hailong.css").unlink()  # a file gone from the site leaves the branch
    record_all(out)
    deploy([SID], out, config=cfg)
    log = git("log", "--format=%s", "gh-pages", cwd=remote).splitlines()
    assert len(log) == 2  # history kept: the new commit's parent is the old one
    assert all(f"Cập nhật trang khảo sát: {SID}" in line for line in log)
    cloned = clone(remote, tmp_path / "c2")
    cloned.pop(".nojekyll")
    assert cloned == tree(out / "site") and "static/hailong.css" not in cloned


def test_other_branches_are_left_alone_and_nojekyll_can_be_off(tmp_path, remote):
    work = tmp_path / "src"
    git("init", "-q", "-b", "main", str(work))
    (work / "README.md").write_text("nguồn")
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "-q", "--allow-empty", "-m", "x", cwd=work)
    git("push", "-q", str(remote), "main", cwd=work)
    out = tmp_path / "out"
    make_site(out)
    deploy([SID], out, config=config(tmp_path, remote, 'branch = "pages"\nnojekyll = false\n'))
    assert clone(remote, tmp_path / "c", "pages") == tree(out / "site")
    assert git("branch", "--list", cwd=remote).split() == ["main", "pages"]
    assert git("rev-list", "--count", "main", cwd=remote).strip() == "1"


def test_a_refused_push_leaves_the_branch_as_it_was(tmp_path, remote, vietnamese):
    out, cfg = tmp_path / "out", config(tmp_path, remote)
    make_site(out, "1")
    deploy([SID], out, config=cfg)
    before = git("rev-parse", "gh-pages", cwd=remote)
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    make_site(out, "2")
    with pytest.raises(HailongError) as err:
        deploy([SID], out, config=cfg)
    message = str(err.value)
    assert "đẩy lên nhánh gh-pages thất bại (remote: branch is protected)" in message
    assert "trang công khai không đổi" in message
    assert "\n" not in message
    assert git("rev-parse", "gh-pages", cwd=remote) == before


def test_an_unreachable_repository_is_one_line(tmp_path, vietnamese):
    out = tmp_path / "out"
    make_site(out)
    with pytest.raises(HailongError, match="đọc kho thất bại .fatal: .*no-such.git"):
        deploy([SID], out, config=config(tmp_path, tmp_path / "no-such.git"))


def test_rollback_restores_the_tree_before_without_rewriting_history(tmp_path, remote, vietnamese):
    out, cfg = tmp_path / "out", config(tmp_path, remote)
    with pytest.raises(HailongError, match="nhánh chưa có bản nào"):
        deploy([SID], out, config=cfg, rollback=True)
    sites = []
    for version in "123":
        make_site(out, version)
        deploy([SID], out, config=cfg)
        sites.append(tree(out / "site"))
    for i, expected in enumerate([sites[1], sites[0]]):
        assert "đã quay về bản" in deploy([SID], out, config=cfg, rollback=True)
        cloned = clone(remote, tmp_path / f"back{i}")
        cloned.pop(".nojekyll")
        assert cloned == expected
    with pytest.raises(HailongError, match="bản cũ nhất"):
        deploy([SID], out, config=cfg, rollback=True)
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "5"  # 3 + 2, none lost
    # a deploy after rollbacks puts the site back, and a rollback then returns to the restored one
    deploy([SID], out, config=cfg)
    deploy([SID], out, config=cfg, rollback=True)
    cloned = clone(remote, tmp_path / "again")
    cloned.pop(".nojekyll")
    assert cloned == sites[0]
