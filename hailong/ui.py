"""Progress bars for the long commands, on a terminal only.

`with steps("Vẽ mã QR", total) as advance: … advance(n)`. On a terminal (stderr is a tty) this
draws a rich progress bar on stderr that disappears when done, so the command's summary is the
only thing left on screen; anywhere else (cron, a pipe, tests) it does nothing at all, so the
summary stays the only output. HAILONG_NO_PROGRESS=1 turns the bars off on a terminal too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def _on_terminal() -> bool:
    if os.environ.get("HAILONG_NO_PROGRESS"):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def _nothing(n: int = 1) -> None:
    pass


@contextmanager
def steps(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bar of `total` steps labelled `label`; yields `advance(n=1)`."""
    if total <= 0 or not _on_terminal():
        yield _nothing
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)
