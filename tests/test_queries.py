"""score's SQL (hailong.score.queries) against the frozen engine's kernels, on any text."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
from conftest import edited_texts
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_engine.ingest.responses import csv_pieces
from reference_engine.score.stamps import read_fixed

from hailong.score import queries

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
ODD = st.sampled_from(["", "=1", "-5", "+1.5e3", "-x", "@a", "\t", "\r", "'", "#", "a#b", '"',
                       "a,b", "a\nb", "a\r\nb", "NULL", "\\N", " ", "\ufeff", "\u2028", "5\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.one_of(ODD, TEXT), st.one_of(ODD, TEXT)), min_size=1, max_size=30))
def test_csv_cells_are_the_frozen_engines_bytes(tmp_path_factory, rows):
    frame = pd.DataFrame(rows, columns=["a", "b"], dtype="str")
    con = queries.writer()
    try:
        ours = queries.csv_body(con, frame, tmp_path_factory.getbasetemp())
    finally:
        con.close()
    assert ours == b"".join(bytes(p) for p in csv_pieces(frame))


FORMS = ["2024-06-12T08:15:00+07:00", "2024-06-12T01:15:00Z", "2024-06-12T01:15:00.123Z",
         "1999-12-31T23:59:59-05:30", "2024-02-29T00:00:00+00:00", "2200-12-31T23:59:59+14:59"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FORMS),
                          st.lists(st.tuples(st.integers(0, 24),
                                             st.sampled_from("0123456789+-:TZ.x ٤")),
                                   max_size=3)), min_size=1, max_size=20))
def test_fixed_times_read_what_the_digit_reader_read(edits):
    texts = edited_texts(edits)
    arr = pa.array(texts, type=pa.large_string())
    ours, read = queries.fixed_times(arr)
    theirs, was_read = read_fixed(arr)
    assert read.tolist() == was_read.tolist()
    assert np.array_equal(ours, theirs)


def test_a_large_frame_keeps_its_row_order(tmp_path):
    """DuckDB scans a large table in parallel: lines and times must still come in row order,
    on a writer's connection (one thread) and on the run's (two), from a table of chunks."""
    n = 300_000
    frame = pd.DataFrame({"a": pd.Series(np.arange(n).astype(str), dtype="str"),
                          "b": pd.Series(np.where(np.arange(n) % 7 == 0, "=x", "y"), dtype="str")})
    frame = pd.concat([frame.iloc[:1000], frame.iloc[1000:123_457], frame.iloc[123_457:]])
    expected = b"".join(bytes(p) for p in csv_pieces(frame))
    for con in (queries.writer(), queries.connect()):
        with con:
            assert queries.csv_body(con, frame, tmp_path) == expected
    texts = [f"2025-01-01T00:{m % 60:02d}:00+07:00" for m in range(n)]
    times, read = queries.fixed_times(pa.array(texts, type=pa.large_string()))
    assert read.all() and np.array_equal(times, read_fixed(pa.array(texts, pa.large_string()))[0])


def test_whitespace_is_every_character_str_strip_trims():
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert queries.WHITESPACE == every


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(min_value=-10**9, max_value=10**9), min_size=1, max_size=20))
def test_what_the_writers_leave_unguarded_is_never_changed_by_safe(numbers):
    """responses.csv skips `safe` on scale answers and channels, participation.csv on its
    numbers, dates and statuses (csv_blocks' `plain`): `safe` would leave them as they are."""
    texts = [str(n) for n in numbers] + ["", "0", "online", "paper", "assisted", "total",
                                         "2025-01-01", "no_visitor_count", "too_many"]
    with queries.writer() as con:
        got = con.execute("SELECT safe(x) FROM unnest(?) AS t(x)", [texts]).fetchall()
    assert [g[0] for g in got] == texts
