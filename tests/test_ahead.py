"""Reading one chunk ahead: order kept, errors passed on, the thread stopped when left early."""

import threading
import time

import pytest

from hailong.score.ahead import ahead


def test_items_come_in_order_and_at_most_one_ahead():
    made: list[int] = []

    def items():
        for i in range(6):
            made.append(i)
            yield i

    seen = []
    with ahead(items()) as chunks:
        for item in chunks:
            time.sleep(0.02)  # the producer has had time to run as far as it may
            assert len(made) <= item + 2  # the one held, and one more
            seen.append(item)
    assert seen == list(range(6))


def test_an_error_of_the_producer_is_raised_in_the_caller():
    class Damaged(Exception):
        pass

    def items():
        yield 1
        raise Damaged

    with pytest.raises(Damaged), ahead(items()) as chunks:
        assert list(chunks) == [1]


def test_leaving_early_stops_the_thread_and_closes_the_generator():
    closed = threading.Event()

    def items():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    before = threading.active_count()
    with pytest.raises(RuntimeError), ahead(items()) as chunks:
        for item in chunks:
            if item == 2:
                raise RuntimeError("the caller failed")
    assert closed.is_set()
    assert threading.active_count() == before
