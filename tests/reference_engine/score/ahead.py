"""Read one chunk ahead: the next chunk is parsed on the second core while this one is scored.

pyarrow parses without the GIL but the stream hands a chunk over only when asked, so the
first pass waited for each chunk in turn (11 s of 80 at ten million rows). `ahead` runs the
chunk generator in a thread of its own, at most one chunk beyond the one the caller holds
(memory stays bounded by the chunk size), and passes on whatever it raises (Damaged too).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_END = object()


@contextmanager
def ahead(items: Iterator):
    """An iterator over `items`, produced in a thread one item ahead; leaving the block stops
    the thread (closing `items` there) and waits for it."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    room = threading.Semaphore(1)  # the producer may build one item beyond the one taken
    stop = threading.Event()

    def produce() -> None:
        try:
            while True:
                room.acquire()
                if stop.is_set():
                    return
                try:
                    item = next(items)
                except StopIteration:
                    ready.put((_END, None))
                    return
                ready.put((item, None))
        except BaseException as exc:  # noqa: BLE001 (raised again in the caller's thread)
            ready.put((_END, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()

    def consume() -> Iterator:
        while True:
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            room.release()
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        room.release()  # wake a producer waiting for room, so that it sees `stop`
        while thread.is_alive():
            try:
                ready.get(timeout=0.05)  # and one blocked handing over an item
            except queue.Empty:
                pass
        thread.join()
