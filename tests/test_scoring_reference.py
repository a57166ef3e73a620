"""The vectorised scoring against a plain reading of contract section 5, on random data.

`reference` below is written straight from the contract's words, with loops and no numpy
tricks, so that a mistake in the fast code would have to be made twice, in two styles, to pass.
"""

from __future__ import annotations

import math
import statistics

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from hailong.score.scoring import rank_units
from hailong.survey.load import load_survey

SCALED = {"q1": "tiep-can", "q2": "tiep-can", "q3": "ket-qua"}
WEIGHTS = {"tiep-can": 1.0, "ket-qua": 2.0}
UNITS = ["X01", "X02", "X03"]


def reference(rows, method: str, min_responses: int):
    """{unit: (n, index, low, high, rank, rank_low, rank_high)} by the contract's steps 1-8."""

    def question_index(answers):
        given_ = [a for a in answers if a]
        if not given_:
            return None
        if method == "percent_satisfied":
            return 100 * sum(a >= 4 for a in given_) / len(given_)
        return 100 * (statistics.fmean(given_) - 1) / (5 - 1)

    def unit_index(rows_):
        blocks = {}
        for q, block in SCALED.items():
            value = question_index([r[q] for r in rows_])
            if value is not None:
                blocks.setdefault(block, []).append(value)
        if not blocks:
            return None, {}
        means = {b: statistics.fmean(v) for b, v in blocks.items()}
        total = sum(WEIGHTS[b] for b in means)
        return sum(WEIGHTS[b] * m for b, m in means.items()) / total, means

    out = {}
    found = {}
    for unit in UNITS:
        mine = [r for r in rows if r["unit_code"] == unit]
        index, blocks = unit_index(mine)
        scores = [s for s in (unit_index([r])[0] for r in mine) if s is not None]
        found[unit] = (mine, index, blocks, scores)

    def informative_d(index, scores):  # step 5: d of an informative unit, else None
        if index is None or len(scores) < 2:
            return None
        p, s = index / 100, statistics.stdev(scores) / 100
        return s * s / (p * (1 - p)) if 0 < p < 1 and s > 0 else None

    ds = [d for _, index, _, scores in found.values()
          if (d := informative_d(index, scores)) is not None]
    design = statistics.median(ds) if ds else 1.0
    for unit in UNITS:
        mine, index, blocks, scores = found[unit]
        if index is None:
            low = high = None
        elif len(scores) < 2:
            low = high = index
        else:  # step 5 (v3), Korn-Graubard: Clopper-Pearson on the effective size
            k, p, d = len(scores), index / 100, informative_d(index, scores)
            deff = max((d + design) / 2 if d is not None else design, 1 / len(SCALED))
            n = k / deff * (1.959964 / scipy_stats.t.ppf(0.975, k - 1)) ** 2
            x = p * n
            low = 0.0 if x == 0 else 100 * scipy_stats.beta.ppf(0.025, x, n - x + 1)
            high = 100.0 if x == n else 100 * scipy_stats.beta.ppf(0.975, x + 1, n - x)
        ranked = len(mine) >= min_responses and index is not None
        out[unit] = {"n": len(mine), "index": index, "low": low, "high": high, "blocks": blocks,
                     "ranked": ranked}
    ranked = {u: round(v["index"], 2) for u, v in out.items() if v["ranked"]}
    se = {u: (round(out[u]["high"], 2) - round(out[u]["low"], 2)) / 3.92 for u in ranked}

    def above(j, i):  # step 8, word for word (floats: the random data are never at the edge)
        return ranked[j] - ranked[i] > 1.96 * math.sqrt(se[i] ** 2 + se[j] ** 2) + 1e-9

    for unit, v in out.items():
        v["rank"] = (1 + sum(x > ranked[unit] for x in ranked.values())) if v["ranked"] else None
        v["rank_low"] = 1 + sum(above(j, unit) for j in ranked) if v["ranked"] else None
        v["rank_high"] = len(ranked) - sum(above(unit, j) for j in ranked) if v["ranked"] else None
    return out


answer = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 5])
row = st.fixed_dictionaries({"unit_code": st.sampled_from(UNITS), "q1": answer, "q2": answer,
                             "q3": answer})


@pytest.mark.parametrize("method", ["percent_satisfied", "mean_score"])
@settings(max_examples=150, deadline=None)
@given(rows=st.lists(row, max_size=40), min_responses=st.integers(1, 6))
def test_rank_units_matches_the_contract_read_plainly(tmp_path_factory, method, rows, min_responses):
    toml = SMALL_TOML + f'\n[scoring]\nmethod = "{method}"\nmin_responses = {min_responses}\n'
    survey = load_survey(write_survey(tmp_path_factory.mktemp("s") / "s", toml))
    frame = pd.DataFrame(
        {"unit_code": [r["unit_code"] for r in rows],
         **{q: ["" if r[q] == 0 and i % 2 else str(r[q]) for i, r in enumerate(rows)] for q in SCALED},
         "kenh": "Khác", "gop_y": "x"},
        columns=["unit_code", *SCALED, "kenh", "gop_y"],
    ).astype(str)
    got = rank_units(frame, survey).set_index("unit_code")
    want = reference(rows, method, min_responses)
    for unit in UNITS:
        g, w = got.loc[unit], want[unit]
        assert int(g["n"]) == w["n"]
        assert bool(g["ranked"]) == w["ranked"]
        for column, key in (("index", "index"), ("ci_low", "low"), ("ci_high", "high")):
            if w[key] is None:
                assert pd.isna(g[column]), (unit, column)
            else:
                assert float(g[column]) == pytest.approx(w[key], abs=1e-9), (unit, column)
        for block in WEIGHTS:
            value = w["blocks"].get(block)
            cell = g[f"block:{block}"]
            assert (pd.isna(cell) if value is None else float(cell) == pytest.approx(value)), block
        for column in ("rank", "rank_low", "rank_high"):
            if w[column] is None:
                assert pd.isna(g[column]) or g[column] in ("", None)
            else:
                assert int(g[column]) == w[column], column
