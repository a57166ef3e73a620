"""`kind = "folder"`: releases beside the live one, one switch of `current`, rollback."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from site_fixture import SID, make_site, record_all, tree

from hailong.errors import HailongError
from hailong.publish.deploy.run import deploy

ROOT = Path(__file__).resolve().parent.parent


def config(tmp_path: Path, keep: int = 3) -> Path:
    path = tmp_path / "hailong.toml"
    path.write_text(f'[deploy.web]\nkind = "folder"\ndest = "www"\nkeep = {keep}\n', encoding="utf-8")
    return path


def test_deploy_switch_no_change_and_rollback(tmp_path, vietnamese):
    out, cfg = tmp_path / "out", config(tmp_path)
    make_site(out, "1")
    www = tmp_path / "www"
    first = deploy([SID], out, config=cfg)
    assert "đã đưa lên bản 0001-" in first and "--rollback" not in first
    assert tree(www / "current") == tree(out / "site")
    assert os.readlink(www / "current").startswith("releases/0001-")
    assert "không có gì thay đổi" in deploy([SID], out, config=cfg)
    assert len(os.listdir(www / "releases")) == 1

    make_site(out, "2")
    second = deploy([SID], out, config=cfg)
    assert "0002-" in second and "hailong deploy --rollback --target web" in second
    assert b"2" in (www / "current" / "index.html").read_bytes()
    # unchanged files are shared with the previous release, not copied again
    css = [www / "releases" / r / "static" / "hailong.css" for r in sorted(os.listdir(www / "releases"))]
    assert css[0].stat().st_ino == css[1].stat().st_ino
    assert oct((www / "current" / "index.html").stat().st_mode & 0o777) == "0o644"

    back = deploy([SID], out, config=cfg, rollback=True)
    assert "đã quay về bản 0001-" in back
    assert b"1" in (www / "current" / "index.html").read_bytes()
    with pytest.raises(HailongError, match="bản cũ nhất"):
        deploy([SID], out, config=cfg, rollback=True)
    # deploying again after a rollback makes a new release rather than reusing the bad one
    assert "0003-" in deploy([SID], out, config=cfg)


def test_only_the_last_releases_are_kept(tmp_path):
    out, cfg = tmp_path / "out", config(tmp_path, keep=2)
    for version in "1234":
        make_site(out, version)
        deploy([SID], out, config=cfg)
    names = sorted(os.listdir(tmp_path / "www" / "releases"))
    assert [n[:4] for n in names] == ["0003", "0004"]


def test_a_real_folder_named_current_is_not_replaced(tmp_path, vietnamese):
    out, cfg = tmp_path / "out", config(tmp_path)
    make_site(out)
    (tmp_path / "www" / "current").mkdir(parents=True)
    (tmp_path / "www" / "current" / "old.html").write_text("cũ")
    with pytest.raises(HailongError, match="thư mục thật"):
        deploy([SID], out, config=cfg)
    assert (tmp_path / "www" / "current" / "old.html").read_text() == "cũ"


def test_nothing_private_reaches_the_folder(tmp_path):
    out, cfg = tmp_path / "out", config(tmp_path)
    make_site(out)
    deploy([SID], out, config=cfg)
    sent = tree(tmp_path / "www")
    assert not any(b"0912345678" in data or b"secret" in data for data in sent.values())
    assert not any(part in ("data", "links", "tickets") for rel in sent for part in rel.split("/"))


KILL = """
import sys
from hailong.publish.deploy.run import deploy
deploy(["thu-nghiem"], sys.argv[1], config=sys.argv[2])
"""


def _second_version(out: Path, files: int) -> dict[str, bytes]:
    make_site(out, "2")
    for i in range(files):  # enough pages that sending them takes a moment
        page = out / "site" / SID / "u" / f"N{i:04d}" / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(os.urandom(4_000))
    record_all(out)
    return tree(out / "site")


def _start(out: Path, cfg: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", KILL, str(out), str(cfg)],
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_a_deploy_killed_while_copying_leaves_the_old_site_live(tmp_path):
    out, cfg = tmp_path / "out", config(tmp_path)
    www = tmp_path / "www"
    make_site(out, "1")
    deploy([SID], out, config=cfg)
    old = tree(www / "current")
    new = _second_version(out, 2000)
    proc = _start(out, cfg)
    deadline = time.monotonic() + 60
    while not [e for e in os.listdir(www / "releases") if e.startswith(".tmp-")]:
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    proc.kill()
    proc.wait(timeout=30)
    assert tree(www / "current") == old
    assert [e for e in os.listdir(www / "releases") if e.startswith(".tmp-")]  # killed midway
    deploy([SID], out, config=cfg)  # the next run finishes the job and clears what was left
    assert tree(www / "current") == new
    assert not [e for e in os.listdir(www / "releases") if e.startswith(".tmp-")]


@pytest.mark.slow
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delay=st.floats(0.2, 2.0))
def test_a_deploy_killed_at_any_moment_leaves_a_whole_site_live(tmp_path_factory, delay):
    tmp = tmp_path_factory.mktemp("kill")
    out, cfg = tmp / "out", config(tmp)
    make_site(out, "1")
    deploy([SID], out, config=cfg)
    old = tree(tmp / "www" / "current")
    new = _second_version(out, 1000)
    proc = _start(out, cfg)
    time.sleep(delay)
    proc.kill()
    proc.wait(timeout=30)
    assert tree(tmp / "www" / "current") in (old, new)
