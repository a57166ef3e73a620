"""A Windows-like process model for the tests, in every Python process they start.

Put this folder first on PYTHONPATH with HAILONG_WINDOWS_LIKE=1 (`make test-windows-like`):
Python imports `sitecustomize` at start-up, so the pytest process, the CLI subprocesses the
tests run and the spawned pool workers all lose what Windows lacks: os.fork, os.forkpty,
os.killpg (and os.fchmod, absent before Python 3.13; mmap's madvise constants), and spawn is
the only start method. Code that still needs fork then fails here as it would on Windows.
This is not Windows (paths, locking, consoles are Linux's): it catches fork-only code only.
"""

import os

if os.environ.get("HAILONG_WINDOWS_LIKE") == "1":
    import mmap
    import multiprocessing

    for name in ("fork", "forkpty", "killpg", "fchmod", "register_at_fork"):
        if hasattr(os, name):
            delattr(os, name)
    for name in [n for n in dir(mmap) if n.startswith("MADV_")]:
        delattr(mmap, name)
    multiprocessing.set_start_method("spawn", force=True)
    _methods = multiprocessing.get_all_start_methods

    def get_all_start_methods():
        return ["spawn"]

    multiprocessing.get_all_start_methods = get_all_start_methods
    multiprocessing.context._default_context.get_all_start_methods = get_all_start_methods
