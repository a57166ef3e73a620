"""The per-chunk pieces `score` joins: the same as one pass over all rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.score.dedupe import dedupe
from hailong.score.scoring import (
    TypeCounts,
    score_arrays,
    score_tables,
    tally_arrays,
    type_table,
)

_ROWS = st.lists(st.tuples(st.sampled_from(["X01", "x02 ", "X03", "Z9"]),
                           st.sampled_from(["", "individual", "organization"]),
                           st.sampled_from(["", "0", "1", "3", "4", "5"]),
                           st.sampled_from(["", "2", "5"])), max_size=30)


def _frame(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "unit_code": pd.Series([r[0] for r in rows], dtype="str"),
        "respondent_type": pd.Series([r[1] for r in rows], dtype="str"),
        "q1": pd.Series([r[2] for r in rows], dtype="str"),
        "q2": pd.Series([r[3] for r in rows], dtype="str"),
        "q3": pd.Series(["4"] * len(rows), dtype="str"),
    })


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS, size=st.integers(1, 7))
def test_chunked_tallies_and_types_are_the_whole(survey, rows, size):
    frame = _frame(rows)
    chunks = [frame.iloc[at:at + size] for at in range(0, len(frame), size)] or [frame]
    parts = [tally_arrays(c, survey) for c in chunks]
    joined = score_arrays(np.concatenate([p[0] for p in parts]),
                          [np.concatenate([p[1][j] for p in parts])
                           for j in range(len(survey.scale_questions))], survey)
    for got, want in zip(joined, score_tables(frame, survey), strict=True):
        pd.testing.assert_frame_equal(got, want)
    counts = TypeCounts(survey)
    for c in chunks:
        counts.add(c)
    pd.testing.assert_frame_equal(counts.table(), type_table(frame, survey))


def test_dedupe_keys_compare_stripped_texts_and_unit_key_pairs(survey):
    valid = pd.DataFrame({
        "response_id": pd.Series([" a", "a ", "b", "c", "d"], dtype="str"),
        "unit_code": pd.Series(["X01", "X01", "X01", "X02", "X01"], dtype="str"),
        "ticket": pd.Series([""] * 5, dtype="str"),
        "respondent_key": pd.Series(["", "", "k", "k", " k"], dtype="str"),
        "device_id": pd.Series([""] * 5, dtype="str"),
        "submitted_at": pd.Series([f"2024-06-12T08:0{i}:00+07:00" for i in range(5)],
                                  dtype="str"),
    })
    valid.index = pd.Index([2, 3, 4, 5, 6], name="row")
    kept, dropped = dedupe(valid, survey)
    assert list(kept.index) == [2, 4, 5]  # the same key at another unit is another respondent
    assert list(zip(dropped.index, dropped["rule"], dropped["kept_response_id"],
                    strict=True)) == [(3, "replay", "a"), (6, "respondent", "b")]
