"""Atomic writes: published files are replaced whole or not at all."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from hailong.cells import csv_text
from hailong.errors import HailongError
from hailong.i18n import _


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
_DIR_MODE = 0o777 & ~_umask()


def atomic_write_bytes(path: Path, data: bytes, *, fsync: bool = True) -> None:
    """Write beside and rename: readers see the old file or the new one, never half of one.
    `fsync=False` for many small files whose run records its progress elsewhere (QR images)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes 0600: a web server must be able to read it (Windows before Python 3.13
        # has no fchmod, and no such modes to set)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)
        else:
            os.chmod(tmp, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def move_into_place(tmp: Path, path: Path) -> None:
    """Publish a file written whole elsewhere on the same file system (e.g. a chunk at a time):
    readable by a web server, on disk, then renamed over `path` in one step."""
    os.chmod(tmp, _FILE_MODE)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    replace(tmp, path)


LOCK_RETRIES = (0.1, 0.3, 1.0)  # seconds: an antivirus or a backup lets go within a second


def replace(tmp: str | Path, path: Path) -> None:
    """os.replace, and when the file is held open by another program (Windows: Excel locks the
    CSV it shows, and a rename over it fails) a few tries, then one line saying to close it."""
    for wait in (*LOCK_RETRIES, None):
        try:
            os.replace(tmp, path)
            return
        except PermissionError as exc:
            if wait is None:
                raise HailongError(_(
                    "{path}: cannot write it, another program holds it open or it is read-only "
                    "({strerror}); close it in Excel (or the program showing it) and run again",
                    path=path, strerror=exc.strerror or exc)) from None
            time.sleep(wait)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_csv(path: Path, frame: pd.DataFrame, **kwargs) -> None:
    """Write a frame as UTF-8 CSV (BOM, no index, formula-safe text: hailong.cells), atomically."""
    atomic_write_text(path, csv_text(frame, **kwargs))


@contextlib.contextmanager
def replacing_dir(final: Path, discard: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a fresh temporary folder beside `final`; on success it replaces `final` whole.

    On Linux the two folders are exchanged in one step (renameat2 RENAME_EXCHANGE), so `final`
    never stops existing; elsewhere the old folder is renamed aside first. Either way a reader
    sees the old tree or the new one, and a failure leaves the old one untouched.
    `discard(old tree)` disposes of the old tree once the new one is in (default: removed).
    """
    discard = discard or _remove_tree
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.new-"))
    os.chmod(tmp, _DIR_MODE)  # mkdtemp makes 0700
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if final.exists() and _exchange(tmp, final):
        discard(tmp)  # tmp now holds the old tree
        return
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        discard(old)


def _remove_tree(tree: Path) -> None:
    shutil.rmtree(tree, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0
