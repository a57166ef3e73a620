"""The SQL reader of the collectors' date-times (queries.fixed_time) agrees with pandas' parsing."""

import numpy as np
import pandas as pd
import pyarrow as pa
from conftest import edited_texts
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.score.queries import MISSING
from hailong.score.queries import fixed_times as read_fixed
from hailong.score.validate import _parse, _parse_forms

TZ = "Asia/Ho_Chi_Minh"
FORMS = ["2024-06-12T08:15:00+07:00", "2024-06-12T01:15:00Z", "2024-06-12T01:15:00.123Z",
         "1999-12-31T23:59:59-05:30", "2024-02-29T00:00:00+00:00"]


def both(texts: list[str]):
    series = pd.Series(texts, dtype="str")
    fast, fast_aware = _parse(series, TZ)
    slow, slow_aware = _parse_forms(series, TZ)
    return fast, slow, fast_aware, slow_aware


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FORMS),
                          st.lists(st.tuples(st.integers(0, 24), st.sampled_from("0123456789+-:TZ.x ")),
                                   max_size=3)), min_size=1, max_size=20))
def test_same_instant_as_pandas_for_any_nearby_text(edits):
    """Texts one to three characters away from the collectors' forms: month 13, 30 February,
    hour 24, a sign in the wrong place... each read the same way by both, or by pandas alone."""
    texts = edited_texts(edits)
    fast, slow, fast_aware, slow_aware = both(texts)
    pd.testing.assert_series_equal(fast, slow)
    assert (fast_aware == slow_aware).all()


def test_what_it_reads_and_leaves():
    texts = ["2024-06-12T08:15:00+07:00", "2024-06-12T01:15:00.123Z", "2024-13-12T08:15:00+07:00",
             "2023-02-29T08:15:00+07:00", "2024-06-12T24:00:00+07:00", "2024-06-12T08:15:00+15:00",
             "2024-06-12 08:15:00", ""]
    micros, read = read_fixed(pa.array(texts, type=pa.large_string()))
    assert read.tolist() == [True, True, False, False, False, False, False, False]
    assert micros[0] == pd.Timestamp("2024-06-12T01:15:00Z").value // 1000
    assert micros[1] == pd.Timestamp("2024-06-12T01:15:00.123Z").value // 1000
    assert (micros[2:] == MISSING).all()
    fast, slow, *_ = both(texts)
    pd.testing.assert_series_equal(fast, slow)
    assert fast.isna().tolist() == [False, False, True, True, True, False, False, True]


def test_a_column_of_one_form_is_read_without_gathering():
    texts = [f"2025-{m:02d}-{d:02d}T{h:02d}:00:00+07:00" for m in (1, 6, 12) for d in (1, 28, 31)
             for h in (0, 23)]
    micros, read = read_fixed(pa.array(texts, type=pa.large_string()))
    valid = np.array([not (t.startswith("2025-06-31")) for t in texts])
    assert (read == valid).all()
    fast, slow, *_ = both(texts)
    pd.testing.assert_series_equal(fast, slow)
