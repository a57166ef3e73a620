"""Pools that work under spawn as under fork, whose workers die with their parent (issue 20:
a publish killed by SIGKILL left two ~86 MB workers behind for good)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from results_fixture import write_responses

from hailong import procpool
from hailong.collect.pdf import chromium_candidates

REPO = Path(__file__).resolve().parent.parent
TIMEOUT = 20  # seconds a worker may take to notice its parent is gone and exit


def _tagged(token: str) -> list[int]:
    """Live processes (not zombies) whose environment carries `token`: the command started
    by a test and everything it started, whoever their parent is now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f"HAILONG_TEST_TOKEN={token}".encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _env() -> dict:
    """This environment, with the repository on the path (after the Windows-like folder when
    the tests run that way)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), str(REPO)) if p)}


def _kill_and_wait(args: list[str], delay: float, env_extra: dict | None = None,
                   cwd: Path | None = None, after_workers: bool = False
                   ) -> tuple[list[int], list[int]]:
    """Run `args`, SIGKILL it after `delay` seconds (with `after_workers`: `delay` seconds
    after its first worker process appears, so the kill lands while a pool runs however fast
    the machine is); (processes it had, processes left after TIMEOUT seconds)."""
    token = uuid.uuid4().hex
    env = {**_env(), "HAILONG_TEST_TOKEN": token, **(env_extra or {})}
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if after_workers:
        deadline = time.monotonic() + 120
        while (proc.poll() is None and time.monotonic() < deadline
               and not [pid for pid in _tagged(token) if pid != proc.pid]):
            time.sleep(0.02)
    time.sleep(delay)
    had = [pid for pid in _tagged(token) if pid != proc.pid]
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + TIMEOUT
    left = _tagged(token)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _tagged(token)
    for pid in left:  # do not leave them to the next test
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return had, left


POOL_SCRIPT = textwrap.dedent("""
    import time
    from hailong import procpool

    def nap(x):
        time.sleep(60)
        return x

    if __name__ == "__main__":
        with procpool.executor(2) as pool:
            list(pool.map(nap, range(4)))
""")


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("windows_like", ["0", "1"])
def test_pool_workers_exit_when_the_parent_is_killed(tmp_path, windows_like):
    script = tmp_path / "pool.py"
    script.write_text(POOL_SCRIPT, encoding="utf-8")
    had, left = _kill_and_wait([sys.executable, str(script)], 3.0,
                               {"HAILONG_WINDOWS_LIKE": windows_like})
    assert len(had) >= 2, "the pool had not started its workers"
    assert left == []


def _national(tmp_path: Path, units: int) -> Path:
    lines = ["code,name,parent"] + [f"U{i:04d},Xã Số {i},{('Hà Tĩnh', 'Nghệ An')[i % 2]}"
                                    for i in range(units)]
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML, units="\n".join(lines) + "\n")
    rows = [{"submitted_at": f"2024-06-12T09:{k:02d}:00+07:00", "response_id": f"r{i}-{k}",
             "unit_code": f"U{i:04d}", "q1": "5", "q2": "4", "q3": str(1 + (i + k) % 5)}
            for i in range(units) for k in range(10)]
    write_responses(tmp_path / "raw.csv", rows)
    return folder


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc (Linux)")
def test_publish_qr_and_build_killed_at_random_leave_no_worker(tmp_path):
    """publish (unit pages and withholding in pools), qr (drawing pool) and build (page pool),
    each SIGKILLed at random moments while they work: no process of theirs survives."""
    folder = _national(tmp_path, 2100)  # above every pool's threshold (withhold: 2,000)
    out = tmp_path / "out"
    hailong = [sys.executable, "-m", "hailong"]
    subprocess.run([*hailong, "score", str(folder), "--responses", str(tmp_path / "raw.csv"),
                    "--out", str(out)], check=True, capture_output=True, cwd=REPO,
                   env=_env())
    chance = random.Random(os.environ.get("HAILONG_TEST_SEED", time.time_ns()))
    commands = [
        [*hailong, "publish", str(folder), "--out", str(out)],
        [*hailong, "qr", str(folder), "--base-url", "http://127.0.0.1:1", "--allow-http",
         "--no-posters", "--out", str(tmp_path / "qr-out")],
        [*hailong, "build", str(folder), "--out", str(tmp_path / "site-out")],
    ]
    killed_with_workers = 0
    for command in commands:
        for _ in range(2):
            had, left = _kill_and_wait(command, chance.uniform(0.0, 0.4), cwd=REPO,
                                       after_workers=True)
            assert left == [], f"{command[3]}: processes {left} outlived their parent"
            killed_with_workers += bool(had)
    assert killed_with_workers >= 2, "no kill happened while a pool ran: make the work bigger"


def test_start_method_is_spawn_when_windows_like(monkeypatch):
    monkeypatch.setenv("HAILONG_WINDOWS_LIKE", "1")
    assert procpool.start_method() == "spawn"


def test_kill_tree_without_killpg_stops_the_child(monkeypatch):
    """Windows has no os.killpg: the fallback still stops the child at once."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                            **procpool.new_session())
    monkeypatch.delattr(os, "killpg", raising=False)
    procpool.kill_tree(proc)
    assert proc.wait(timeout=10) != 0


def test_chrome_and_edge_are_looked_for_where_windows_and_macos_install_them():
    env = {"PROGRAMFILES": r"C:\Program Files", "PROGRAMFILES(X86)": r"C:\Program Files (x86)",
           "LOCALAPPDATA": r"C:\Users\canbo\AppData\Local", "HAILONG_CHROMIUM": r"D:\chrome.exe"}
    windows = chromium_candidates(env, "win32")
    assert windows[0] == r"D:\chrome.exe"
    assert r"C:\Program Files\Google\Chrome\Application\chrome.exe" in windows
    assert r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" in windows
    assert r"C:\Users\canbo\AppData\Local\Google\Chrome\Application\chrome.exe" in windows
    mac = chromium_candidates({"HOME": "/Users/canbo"}, "darwin")
    assert "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" in mac
    assert "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge" in mac
    assert "/Users/canbo/Applications/Chromium.app/Contents/MacOS/Chromium" in mac
