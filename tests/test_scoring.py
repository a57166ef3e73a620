"""Scoring, exactly as contract section 5: hand-computed examples for every rule.

The test survey (conftest) has blocks tiep-can (weight 1: q1, q2) and ket-qua (weight 2: q3,
plus a choice and a text question that are never scored); scale 1..5, satisfied from 4.
"""

from __future__ import annotations

import statistics

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from hailong.score.scoring import competition_rank, question_table, rank_units, round2
from hailong.survey.load import load_survey

FOUR_UNITS = "code,name\nA,Xã A\nB,Xã B\nC,Xã C\nD,Xã D\n"


def responses(*rows) -> pd.DataFrame:
    """Accepted responses from (unit, q1, q2, q3) tuples; "" or 0 is no opinion."""
    cols = {"unit_code": [], "q1": [], "q2": [], "q3": [], "kenh": [], "gop_y": []}
    for unit, q1, q2, q3 in rows:
        for name, value in zip(("unit_code", "q1", "q2", "q3"), (unit, q1, q2, q3), strict=True):
            cols[name].append(str(value))
        cols["kenh"].append("Khác")
        cols["gop_y"].append("tốt")
    return pd.DataFrame({k: pd.Series(v, dtype="str") for k, v in cols.items()})


def make(tmp_path, extra: str = "", units: str | None = None):
    kwargs = {"units": units} if units else {}
    return load_survey(write_survey(tmp_path / "s", SMALL_TOML + extra, **kwargs))


def row(ranking: pd.DataFrame, code: str) -> pd.Series:
    return ranking.set_index("unit_code").loc[code]


def test_percent_satisfied_blocks_weights_missing_answers_and_interval(survey):
    data = responses(("X01", 5, 4, 5), ("X01", 3, 0, 4), ("X01", "", 2, 1))
    ranking = rank_units(data, survey)
    x = row(ranking, "X01")
    # q1: 5,3 -> 1 of 2 satisfied = 50; q2: 4,2 (0 = no opinion) -> 50; q3: 5,4,1 -> 66.67
    assert x["block:tiep-can"] == pytest.approx(50.0)
    assert x["block:ket-qua"] == pytest.approx(200 / 3)
    index = (50.0 * 1 + 200 / 3 * 2) / 3
    assert x["index"] == pytest.approx(index)  # 61.11
    # respondent scores: r1 all satisfied 100; r2 q1 0 / q3 100 -> (0 + 2*100)/3; r3 -> 0
    scores = [100.0, 200 / 3, 0.0]
    # the survey's only informative unit: D = its own d, so deff = d
    low, high = plain_kg(index, scores, d_of(index, scores), 3)
    assert (x["ci_low"], x["ci_high"]) == (pytest.approx(low, abs=1e-9), pytest.approx(high))
    # k = 3: s = 50.92, d = 0.5092² / (0.6111 × 0.3889) = 1.09, t = 4.30, n = 3 / 1.09 ×
    # (1.96 / 4.30)² = 0.57: three respondents who disagree say almost nothing
    assert (round(x["ci_low"], 2), round(x["ci_high"], 2)) == (0.0, 100.0)
    assert x["n"] == 3


def test_question_table(survey):
    data = responses(("X01", 5, 4, 5), ("X01", 3, 0, 4), ("X01", "", 2, 1))
    table = question_table(data, survey)
    assert len(table) == 3 * 3  # units x scale questions
    x = table[table["unit_code"] == "X01"].set_index("question_id")
    assert x.loc["q1", "answers"] == 2 and x.loc["q1", "satisfied"] == 1
    assert x.loc["q2", "answers"] == 2 and x.loc["q2", "index"] == pytest.approx(50)
    assert x.loc["q3", "answers"] == 3 and x.loc["q3", "satisfied"] == 2
    empty = table[table["unit_code"] == "X02"]
    assert (empty["answers"] == 0).all() and empty["index"].isna().all()


def test_mean_score(tmp_path):
    survey = make(tmp_path, '\n[scoring]\nmethod = "mean_score"\n')
    x = row(rank_units(responses(("X01", 5, 4, 5), ("X01", 3, 0, 4), ("X01", "", 2, 1)), survey), "X01")
    q1 = 100 * (4 - 1) / 4            # mean 4 -> 75
    q2 = 100 * (3 - 1) / 4            # mean 3 -> 50
    q3 = 100 * (10 / 3 - 1) / 4       # mean 3.33 -> 58.33
    assert x["block:tiep-can"] == pytest.approx((q1 + q2) / 2)
    assert x["index"] == pytest.approx(((q1 + q2) / 2 + 2 * q3) / 3)
    scores = [((100 + 75) / 2 + 2 * 100) / 3, (50 + 2 * 75) / 3, (25 + 2 * 0) / 3]
    # the same rule for mean_score, p = index / 100
    low, high = plain_kg(x["index"], scores, d_of(x["index"], scores), 3)
    assert (x["ci_low"], x["ci_high"]) == (pytest.approx(low), pytest.approx(high))


def test_a_block_without_answers_drops_out_of_the_weighted_mean(survey):
    x = row(rank_units(responses(("X01", 5, 0, ""), ("X01", 2, "", 0)), survey), "X01")
    assert x["block:tiep-can"] == pytest.approx(50.0)
    assert np.isnan(x["block:ket-qua"])
    assert x["index"] == pytest.approx(50.0)  # not (50 + 0*2)/3


def d_of(index: float, scores: list[float]) -> float:
    p, s = index / 100, statistics.stdev(scores) / 100
    return s * s / (p * (1 - p))


def plain_kg(index: float, scores: list[float], design: float, questions: int
             ) -> tuple[float, float]:
    """Contract v3 step 5 word for word, through scipy.stats (the code uses scipy.special)."""
    k, p, s = len(scores), index / 100, statistics.stdev(scores) / 100
    informative = 0 < p < 1 and s > 0
    deff = (s * s / (p * (1 - p)) + design) / 2 if informative else design
    deff = max(deff, 1 / questions)
    n = k / deff * (1.959964 / scipy_stats.t.ppf(0.975, k - 1)) ** 2
    x = p * n
    low = 0.0 if x == 0 else scipy_stats.beta.ppf(0.025, x, n - x + 1)
    high = 1.0 if x == n else scipy_stats.beta.ppf(0.975, x + 1, n - x)
    return 100 * low, 100 * high


def test_interval_of_one_against_three(survey):
    data = responses(*[("X01", 1, 1, 1)] * 3, ("X01", 5, 5, 5))
    x = row(rank_units(data, survey), "X01")
    assert x["index"] == pytest.approx(25.0)
    # s = sd(0, 0, 0, 100) = 50, p = 0.25: d = 0.25 / 0.1875 = 4/3 = D = deff; t(3) = 3.182,
    # n = 4 × 3/4 × (1.96 / 3.182)² = 1.14, x = 0.28: 0 to 98.98
    assert (round(x["ci_low"], 2), round(x["ci_high"], 2)) == (0.0, 98.98)
    assert (x["ci_low"], x["ci_high"]) == tuple(pytest.approx(v) for v in plain_kg(25.0, [0, 0, 0, 100], 4 / 3, 3))


@pytest.mark.parametrize(("answers", "want"), [
    # p = 1, s = 0, k = 10, no informative unit: D = 1 = deff; t(9) = 2.2622,
    # n = 10 × (1.959964 / 2.2622)² = 7.5067; low = 0.025^(1/n) = e^(−3.6889 / 7.5067) = 61.18
    ([5] * 10, (100.0, 61.18, 100.0)),
    # p = 0: the mirror image
    ([1] * 10, (0.0, 0.0, 38.82)),
    # k = 2, one 100 and one 0: p = 0.5, s = 70.71, d = D = 2, t(1) = 12.71, n = 0.024: all of 0–100
    ([5, 1], (50.0, 0.0, 100.0)),
])
def test_interval_hand_worked(survey, answers, want):
    x = row(rank_units(responses(*[("X01", a, a, a) for a in answers]), survey), "X01")
    assert (round(x["index"], 2), round(x["ci_low"], 2), round(x["ci_high"], 2)) == want


def test_interval_near_one_with_one_informative_unit(survey):
    """Nine all satisfied and one satisfied on q1 and q2 only (score 33.33): X01 is the only
    informative unit (X02 is unanimous), so D = d(X01) = 0.714 and X02's deff is D."""
    data = responses(*[("X01", 5, 5, 5)] * 9, ("X01", 5, 5, 1), *[("X02", 5, 5, 5)] * 10)
    ranking = rank_units(data, survey)
    x1, x2 = row(ranking, "X01"), row(ranking, "X02")
    scores = [100.0] * 9 + [100 / 3]
    assert x1["index"] == pytest.approx((100 + 2 * 90) / 3)  # 93.33
    design = d_of(x1["index"], scores)
    assert design == pytest.approx(0.0211 / 0.0296, abs=0.01)  # s² / (p(1 − p)) = 0.714
    assert ranking.attrs["design_effect"] == pytest.approx(design)
    assert (x1["ci_low"], x1["ci_high"]) == tuple(
        pytest.approx(v) for v in plain_kg(x1["index"], scores, design, 3))
    assert (round(x1["ci_low"], 2), round(x1["ci_high"], 2)) == (60.81, 99.96)
    assert (x2["ci_low"], x2["ci_high"]) == tuple(
        pytest.approx(v) for v in plain_kg(100.0, [100.0] * 10, design, 3))
    assert x2["ci_low"] > 61.18  # D < 1: ten who agree count for more than with no information


def test_design_effect_is_the_median_over_informative_units(tmp_path):
    survey = make(tmp_path, "\n[scoring]\nmin_responses = 2\n", units=FOUR_UNITS)
    data = responses(("A", 5, 5, 5), ("A", 1, 1, 1), ("A", 5, 5, 5),   # scores 100, 0, 100
                     ("B", 5, 5, 1), ("B", 5, 5, 5), ("B", 1, 1, 5),   # 33.3, 100, 66.7
                     ("C", 5, 1, 5), ("C", 1, 5, 1), ("C", 5, 5, 5),   # 83.3, 16.7, 100
                     ("D", 5, 5, 5), ("D", 5, 5, 5))                   # not informative
    ranking = rank_units(data, survey)
    sets = {"A": [100.0, 0.0, 100.0], "B": [100 / 3, 100.0, 200 / 3], "C": [250 / 3, 50 / 3, 100.0]}
    ds = {u: d_of(row(ranking, u)["index"], v) for u, v in sets.items()}
    design = statistics.median(ds.values())
    assert ranking.attrs["design_effect"] == pytest.approx(design)
    for u, v in sets.items():
        got = row(ranking, u)
        assert (got["ci_low"], got["ci_high"]) == tuple(
            pytest.approx(w, abs=1e-9) for w in plain_kg(got["index"], v, design, 3))


def test_design_effect_is_one_without_informative_units(survey):
    ranking = rank_units(responses(*[("X01", 5, 5, 5)] * 4, *[("X02", 1, 1, 1)] * 3), survey)
    assert ranking.attrs["design_effect"] == 1.0


def test_effective_size_is_at_most_the_answers_themselves(tmp_path):
    """mean_score, scores alternating 50 and 75: d = 0.017 (respondents agree closely), but
    deff stops at 1/Q = 1/3: k respondents never count as more than their k × 3 answers."""
    survey = make(tmp_path, '\n[scoring]\nmethod = "mean_score"\n')
    data = responses(*[("X01", 3, 3, 3), ("X01", 4, 4, 4)] * 5)
    x = row(rank_units(data, survey), "X01")
    scores = [50.0, 75.0] * 5
    assert d_of(x["index"], scores) < 1 / 3
    assert (x["ci_low"], x["ci_high"]) == tuple(
        pytest.approx(v) for v in plain_kg(x["index"], scores, d_of(x["index"], scores), 3))
    # the same as deff = 1/3 exactly
    k, p = 10, x["index"] / 100
    n = k * 3 * (1.959964 / scipy_stats.t.ppf(0.975, k - 1)) ** 2
    assert x["ci_low"] == pytest.approx(100 * scipy_stats.beta.ppf(0.025, p * n, n - p * n + 1))


def test_interval_with_every_respondent_on_the_same_middle_score(tmp_path):
    """s = 0 with p = 0.5 (mean_score, everyone answers 3 of 1–5): not informative, D = 1,
    n = 4 × (1.96 / 3.18)² = 1.52, so 0.42–99.58: four identical answers are no certainty."""
    survey = make(tmp_path, '\n[scoring]\nmethod = "mean_score"\n')
    x = row(rank_units(responses(*[("X01", 3, 3, 3)] * 4), survey), "X01")
    assert (round(x["index"], 2), round(x["ci_low"], 2), round(x["ci_high"], 2)) == (50.0, 0.42, 99.58)


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 100), st.floats(0, 100), st.integers(2, 2000), st.floats(0.01, 20),
       st.integers(1, 40))
def test_the_interval_always_holds_the_index(index, sd, k, design, questions):
    from hailong.stats import korn_graubard

    low, high = korn_graubard(np.array([index]), np.array([sd]), np.array([k]), design, questions)
    assert 0.0 <= low[0] <= index + 1e-7 and index - 1e-7 <= high[0] <= 100.0


def test_interval_is_the_index_with_fewer_than_two_scored_respondents(survey):
    data = responses(("X01", 4, 2, 5), ("X01", 0, "", ""), ("X01", "", "", 0))
    x = row(rank_units(data, survey), "X01")
    assert x["index"] == pytest.approx((50 + 2 * 100) / 3)
    assert x["ci_low"] == x["index"] == x["ci_high"]
    assert x["n"] == 3  # every accepted response counts in n, answered or not


def test_unit_without_answers_has_empty_cells_and_is_not_ranked(tmp_path):
    survey = make(tmp_path, "\n[scoring]\nmin_responses = 1\n")
    ranking = rank_units(responses(("X01", 5, 5, 5), ("X02", 0, "", 0)), survey)
    x2 = row(ranking, "X02")
    assert x2["n"] == 1 and not x2["ranked"] and pd.isna(x2["rank"])
    assert all(np.isnan(x2[c]) for c in ["index", "ci_low", "ci_high", "block:tiep-can", "block:ket-qua"])
    assert x2["band"] == "Chưa đủ phiếu"
    x3 = row(ranking, "X03")  # no responses at all
    assert x3["n"] == 0 and np.isnan(x3["index"]) and not x3["ranked"]


def test_unranked_below_min_responses_keeps_its_index(survey):
    data = responses(*[("X01", 5, 5, 5)] * 10, *[("X02", 5, 5, 5)] * 9)
    ranking = rank_units(data, survey)
    assert row(ranking, "X01")["ranked"] and row(ranking, "X01")["rank"] == 1
    x2 = row(ranking, "X02")
    assert not x2["ranked"] and pd.isna(x2["rank"]) and x2["index"] == 100.0
    assert x2["band"] == "Chưa đủ phiếu"
    assert ranking["unit_code"].tolist() == ["X01", "X02", "X03"]


def test_ties_share_a_rank_and_the_next_skips(tmp_path):
    survey = make(tmp_path, '\n[scoring]\nmin_responses = 2\nunranked_label = "Chưa xếp hạng"\n',
                  units=FOUR_UNITS)
    data = responses(("D", 5, 5, 5), ("D", 5, 5, 5),     # 100
                     ("B", 5, 5, 5), ("B", 1, 1, 1),     # 50
                     ("A", 5, 5, 5), ("A", 1, 1, 1),     # 50
                     ("C", 1, 1, 1), ("C", 1, 1, 1))     # 0
    ranking = rank_units(data, survey)
    assert ranking["unit_code"].tolist() == ["D", "A", "B", "C"]  # rank, then code
    assert ranking["rank"].tolist() == [1, 2, 2, 4]
    assert ranking["band"].tolist() == ["Xuất sắc", "Trung bình", "Trung bình", "Yếu"]


def test_ranks_and_bands_use_the_index_rounded_to_two_decimals():
    assert round2(np.array([89.996, 89.994, np.nan])).tolist()[:2] == [90.0, 89.99]
    values = round2(np.array([70.004, 69.996, 70.0, 65.0]))
    assert competition_rank(values).tolist() == [1, 1, 1, 4]


def test_band_is_taken_from_the_rounded_index(tmp_path):
    # q1 answered 8333 times: 8332 satisfied -> 99.988; q3 85 % satisfied, weight 2
    # unit index = (99.988 + 2 * 85) / 3 = 89.996 -> 90.00 -> "Xuất sắc", not "Tốt"
    survey = make(tmp_path, "\n[scoring]\nmin_responses = 1\n")
    n = 8333
    q1 = [5] * (n - 1) + [1]
    q3 = [5] * 85 + [1] * 15 + [""] * (n - 100)
    data = responses(*[("X01", a, "", b) for a, b in zip(q1, q3, strict=True)])
    x = row(rank_units(data, survey), "X01")
    assert x["index"] == pytest.approx((100 * (n - 1) / n + 170) / 3)
    assert 89.995 < x["index"] < 90
    assert x["band"] == "Xuất sắc"


unit_rows = st.tuples(st.sampled_from(["X01", "X02", "X03"]),
                      *[st.sampled_from(["", "0", "1", "2", "3", "4", "5"])] * 3)


@settings(max_examples=40, deadline=None)
@given(st.lists(unit_rows, max_size=40), st.randoms(use_true_random=False))
def test_ranking_does_not_depend_on_row_order(rows, rnd):
    survey = _survey()
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    a = rank_units(responses(*rows), survey)
    b = rank_units(responses(*shuffled), survey)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)


_SURVEY = {}


def _survey():
    if "s" not in _SURVEY:
        import tempfile
        from pathlib import Path

        folder = Path(tempfile.mkdtemp(prefix="hailong-test-"))
        _SURVEY["s"] = load_survey(write_survey(folder / "s", SMALL_TOML + "\n[scoring]\nmin_responses = 2\n"))
    return _SURVEY["s"]


def test_halves_round_up_as_a_person_rounds():
    from hailong.score.scoring import two_decimals

    assert two_decimals(15.625) == "15.63"  # 100 × 5/32, exact in binary: half-even would give 15.62
    assert two_decimals(66.665) == "66.67"
    assert two_decimals(200 / 3) == "66.67"
    assert two_decimals(0.0) == "0.00" and two_decimals(100) == "100.00"
    assert round2(np.array([15.625, np.nan]))[0] == 15.63


def test_type_table_counts_responses_per_unit_and_type(survey):
    from hailong.score.scoring import type_table

    frame = pd.DataFrame({"unit_code": ["X01", "x01 ", "X02", "ZZ", "X01"],
                          "respondent_type": ["", "individual", "organization", "", "organization"]})
    got = type_table(frame, survey)
    # an empty type is the first one; codes match trimmed and case-insensitively; unknown units drop
    assert got.values.tolist() == [["X01", "individual", 2], ["X01", "organization", 1],
                                   ["X02", "organization", 1]]
    assert type_table(frame.iloc[:0], survey).empty


def test_block_answer_table_is_the_most_answers_of_a_question_in_the_block(survey):
    from hailong.score.scoring import block_answer_table

    got = block_answer_table(responses(("X01", 5, 4, 5), ("X01", 3, 0, 4), ("X01", "", 2, "")), survey)
    x = got[got["unit_code"] == "X01"].set_index("block_id")["answers"].to_dict()
    assert x == {"tiep-can": 2, "ket-qua": 2}  # q1 2, q2 2 answers; q3 2 answers
    assert (got[got["unit_code"] == "X02"]["answers"] == 0).all()
