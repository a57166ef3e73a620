"""`kind = "rsync"` over ssh: an OpenSSH server started here on 127.0.0.1 with a throwaway host
key and user key, and real rsync. The "remote" folder is on this machine, so the test can look."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from site_fixture import SID, make_site, record_all, tree

from hailong.errors import HailongError
from hailong.publish.deploy.run import deploy

ROOT = Path(__file__).resolve().parent.parent
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"

pytestmark = [
    pytest.mark.skipif(not Path(SSHD).exists() or not shutil.which("rsync"),
                       reason="needs Debian's openssh-server and rsync (.ci/run installs them)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="sshd runs as root to log in as this user"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ssh(tmp_path_factory) -> str:
    """Start sshd on a free port; yield the ssh command that logs in with the user key."""
    tmp = tmp_path_factory.mktemp("sshd")
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / key)],
                       check=True, timeout=30)
    (tmp / "authorized_keys").write_text((tmp / "user_key.pub").read_text())
    port = _free_port()
    (tmp / "sshd_config").write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {tmp / "host_key"}
PidFile {tmp / "sshd.pid"}
AuthorizedKeysFile {tmp / "authorized_keys"}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel ERROR
""")
    Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation folder
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
                            stderr=open(tmp / "sshd.log", "w"))  # noqa: SIM115
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, (tmp / "sshd.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "sshd did not start"
                time.sleep(0.05)
        yield (f"ssh -F /dev/null -p {port} -i {tmp / 'user_key'} -o IdentitiesOnly=yes "
               f"-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile={tmp / 'known'}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def config(tmp_path: Path, ssh: str, dest: Path) -> Path:
    user = os.environ.get("USER") or "root"
    path = tmp_path / "hailong.toml"
    path.write_text(f"""\
[deploy.tinh]
kind = "rsync"
dest = "{user}@127.0.0.1:{dest}"
keep = 3
ssh = "{ssh}"

[deploy.cham]   # the same server over a slow line
kind = "rsync"
dest = "{user}@127.0.0.1:{dest}"
ssh = "{ssh}"
options = ["--bwlimit=100"]
""", encoding="utf-8")
    return path


def test_over_ssh_release_no_change_and_rollback(tmp_path, ssh, vietnamese):
    out, srv = tmp_path / "out", tmp_path / "srv"
    cfg = config(tmp_path, ssh, srv)
    make_site(out, "1")
    first = deploy([SID], out, target="tinh", config=cfg)
    assert "đã đưa lên bản 0001-" in first
    assert tree(srv / "current") == tree(out / "site")
    assert os.readlink(srv / "current").startswith("releases/0001-")
    sent = tree(srv)
    assert not any(b"0912345678" in d or b"secret" in d for d in sent.values())  # planted beside
    assert "không có gì thay đổi" in deploy([SID], out, target="tinh", config=cfg)

    make_site(out, "2")
    deploy([SID], out, target="tinh", config=cfg)
    assert tree(srv / "current") == tree(out / "site")
    releases = sorted(os.listdir(srv / "releases"))
    css = [srv / "releases" / r / "static" / "hailong.css" for r in releases]
    assert css[0].stat().st_ino == css[1].stat().st_ino  # --link-dest shared the unchanged file

    assert "đã quay về bản 0001-" in deploy([SID], out, target="tinh", config=cfg, rollback=True)
    assert os.readlink(srv / "current") == f"releases/{releases[0]}"
    assert b"1" in (srv / "current" / "index.html").read_bytes()


def test_a_deploy_killed_midway_leaves_current_on_the_old_release(tmp_path, ssh):
    out, srv = tmp_path / "out", tmp_path / "srv"
    cfg = config(tmp_path, ssh, srv)
    make_site(out, "1")
    deploy([SID], out, target="tinh", config=cfg)
    old_link, old = os.readlink(srv / "current"), tree(srv / "current")
    make_site(out, "2")
    (out / "site" / "static" / "ban-do.png").write_bytes(os.urandom(3_000_000))  # 30 s at 100 kB/s
    record_all(out)
    code = ("import sys\nfrom hailong.publish.deploy.run import deploy\n"
            f"deploy([{SID!r}], sys.argv[1], target='cham', config=sys.argv[2])\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(out), str(cfg)], start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not any(e.startswith(".tmp-") for e in os.listdir(srv / "releases")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)  # rsync is now sending the large file
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the deploy, rsync and ssh: a power cut, as it were
        proc.wait(timeout=30)
    assert os.readlink(srv / "current") == old_link
    assert tree(srv / "current") == old
    assert any(e.startswith(".tmp-") for e in os.listdir(srv / "releases"))

    deploy([SID], out, target="tinh", config=cfg)  # the next run sends it whole
    assert tree(srv / "current") == tree(out / "site")
    assert not any(e.startswith(".tmp-") for e in os.listdir(srv / "releases"))
    deploy([SID], out, target="tinh", config=cfg, rollback=True)
    assert tree(srv / "current") == old


def test_a_failing_connection_is_one_line_and_changes_nothing(tmp_path, ssh, vietnamese):
    out, srv = tmp_path / "out", tmp_path / "srv"
    cfg = config(tmp_path, ssh, srv)
    make_site(out)
    deploy([SID], out, target="tinh", config=cfg)
    bad = cfg.read_text().replace("-i ", "-i /nonexistent-key -o IdentityFile=", 1)
    bad = bad.replace(" -o BatchMode", " -o PubkeyAuthentication=no -o BatchMode", 1)
    cfg.write_text(bad)
    make_site(out, "2")
    with pytest.raises(HailongError) as err:
        deploy([SID], out, target="tinh", config=cfg)
    assert "thất bại (" in str(err.value) and "trang đang chạy không đổi" in str(err.value)
    assert "Permission denied" in str(err.value)  # ssh's own reason, not rsync's closing line
    assert "\n" not in str(err.value)
    assert b"1" in (srv / "current" / "index.html").read_bytes()


def test_rsync_to_a_local_folder_needs_no_ssh(tmp_path, vietnamese):
    out = tmp_path / "out"
    cfg = tmp_path / "hailong.toml"
    cfg.write_text('[deploy.may]\nkind = "rsync"\ndest = "www"\nssh = "false"\n', encoding="utf-8")
    make_site(out)
    assert "0001-" in deploy([SID], out, config=cfg)
    assert tree(tmp_path / "www" / "current") == tree(out / "site")
    assert "không có gì thay đổi" in deploy([SID], out, config=cfg)


def test_rsync_rsh_gives_the_ssh_command_when_the_target_does_not(tmp_path, ssh, monkeypatch):
    out, srv = tmp_path / "out", tmp_path / "srv"
    user = os.environ.get("USER") or "root"
    cfg = tmp_path / "hailong.toml"
    cfg.write_text(f'[deploy.tinh]\nkind = "rsync"\ndest = "{user}@127.0.0.1:{srv}"\n', encoding="utf-8")
    make_site(out)
    monkeypatch.setenv("RSYNC_RSH", ssh)
    assert "0001-" in deploy([SID], out, config=cfg)
    assert tree(srv / "current") == tree(out / "site")
