"""Process pools that work the same under fork (Linux) and spawn (Windows, macOS' default).

Every pool of hailong is made here, so that two rules hold everywhere:

- A worker gets its job through the pool's initializer, never through a module global set
  before the pool starts: a spawned worker imports the module fresh and would find it empty.
  Under fork the initializer's arguments are inherited (not pickled), so fork keeps its speed.
- A worker ends when its parent dies (a publish killed by SIGKILL, a closed console window):
  a thread of the worker waits on the parent's sentinel and exits the process. Without it,
  workers blocked on the pool's queue would live on (issue 20: two ~86 MB orphans per run).

`HAILONG_WINDOWS_LIKE=1` makes hailong behave as on Windows where it can (spawn, no process
groups, no pipe-driven browser): the Windows-like test runs set it.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

_STATE: dict[str, object] = {}


def cores() -> int:
    """The cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Windows, macOS
        return os.cpu_count() or 1


def windows_like() -> bool:
    """True on Windows, and where HAILONG_WINDOWS_LIKE=1 asks to behave as there."""
    return os.name == "nt" or os.environ.get("HAILONG_WINDOWS_LIKE", "") == "1"


def start_method() -> str:
    """fork where it exists (workers start in milliseconds with everything imported), else
    spawn (Windows; macOS has fork but spawn is its default because of system libraries that
    break after fork, and hailong follows Python's default there)."""
    methods = multiprocessing.get_all_start_methods()
    if windows_like() or not hasattr(os, "fork") or "fork" not in methods:
        return "spawn"
    return "fork" if multiprocessing.get_start_method(allow_none=True) in (None, "fork") \
        and sys.platform != "darwin" else "spawn"


def new_session() -> dict:
    """Popen arguments that put a child (a browser and its helpers) in its own group, so that
    kill_tree can stop them all: a session on POSIX, a process group on Windows."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_tree(proc: subprocess.Popen) -> None:
    """Stop a child started with new_session() and its helper processes, now."""
    if proc.poll() is not None:
        return
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(proc.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    if os.name == "nt":  # taskkill /T ends the helpers the browser started as well
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True,
                       check=False)
    if proc.poll() is None:
        proc.kill()


def _watch_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's sentinel closes: the parent is gone
        os._exit(1)

    threading.Thread(target=watch, name="hailong-parent-watch", daemon=True).start()


def _start(initializer: Callable | None, initargs: tuple) -> None:
    _watch_parent()
    if initializer is not None:
        initializer(*initargs)


def executor(workers: int, initializer: Callable | None = None,
             initargs: tuple = ()) -> concurrent.futures.ProcessPoolExecutor:
    """A ProcessPoolExecutor of `workers` processes whose workers die with their parent;
    `initializer(*initargs)` runs once in each (it must be a module-level function)."""
    context = multiprocessing.get_context(start_method())
    return concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context,
                                                  initializer=_start,
                                                  initargs=(initializer, initargs))


def set_job(name: str, value: object) -> None:
    """Initializer helper: keep a worker's job under `name` (see job())."""
    _STATE[name] = value


def job(name: str) -> object:
    """The job a worker was given by set_job (in the parent too, while it runs a pool inline)."""
    return _STATE[name]


def clear_job(name: str) -> None:
    _STATE.pop(name, None)
