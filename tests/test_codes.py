"""factorize gives each row's text back through its code, for one-character columns (read from
their bytes) and any other (pandas)."""

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.score.codes import factorize, rows_where


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["", " ", "0", "1", "5", "\x00", "\x7f"]),
                          st.text(max_size=3)), max_size=30))
def test_each_row_reads_back_through_its_code(texts):
    codes, distinct = factorize(pd.Series(texts, dtype="str"))
    assert [distinct[c] for c in codes] == texts
    assert len(set(distinct)) == len(distinct)  # each text once
    assert sorted(distinct) == sorted(set(texts))


def test_missing_cells_have_no_code():
    codes, distinct = factorize(pd.Series(["1", None, "2"], dtype="str"))
    assert codes[1] == -1 and [distinct[c] for c in codes[[0, 2]]] == ["1", "2"]


def test_rows_where_keeps_dtypes_index_and_attrs():
    frame = pd.DataFrame({"a": pd.Series(["x", "y", "z"], dtype="str"),
                          "t": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)},
                         index=pd.Index([5, 7, 9], name="row"))
    frame.attrs["k"] = ["a"]
    out = rows_where(frame, [True, False, True])
    pd.testing.assert_frame_equal(out, frame.iloc[[0, 2]])
    assert out.attrs == {"k": ["a"]}
