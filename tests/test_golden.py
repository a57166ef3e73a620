"""The demo's published ranking.json against a reviewed copy (tests/golden/demo-ranking.json).

Compared by meaning, not bytes: the same units in the same order with the same ranks, bands and
counts, and numbers equal to the two decimals the files print. Only `updated` and the
release's id, time and date may differ.
If a deliberate change to the demo, the scoring or the file moves these figures, check the new
ranking by hand and rewrite the golden file from `hailong demo`'s ket-qua/ranking.json.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden" / "demo-ranking.json"


def same(a, b, where="ranking.json") -> list[str]:
    """Differences between two JSON values; floats equal within half a hundredth."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}: key {k!r} only in one of them" for k in set(a) ^ set(b)]
        for k in sorted(set(a) & set(b)):
            out += same(a[k], b[k], f"{where}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where}: {len(a)} items, golden has {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in same(x, y, f"{where}[{i}]")]
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return [] if math.isclose(a, b, abs_tol=0.005) else [f"{where}: {a} != golden {b}"]
    return [] if a == b else [f"{where}: {a!r} != golden {b!r}"]


def test_demo_ranking_matches_golden(tmp_path):
    demo = pytest.importorskip("hailong.demo.run")
    from hailong.layout import Layout
    from hailong.survey.load import load_survey

    out = tmp_path / "demo"
    demo.run_demo(out, seed=2020)
    survey = load_survey(demo.DEFAULT_SURVEY)
    got = json.loads((Layout(out, survey.id).results / "ranking.json").read_text("utf-8"))
    assert got.pop("updated")
    for key in ("id", "time", "date"):  # which run and when: new on every run
        assert got["release"].pop(key)
    golden = json.loads(GOLDEN.read_text("utf-8"))
    assert same(got, golden) == []
    # and the golden file itself is a sensible ranking: ranks ascending, bands by index
    ranked = [u for u in golden["units"] if u["ranked"]]
    assert [u["rank"] for u in ranked] == sorted(u["rank"] for u in ranked)
    assert all(u["ci_low"] <= u["index"] <= u["ci_high"] for u in ranked)
    assert all(u["rank_low"] <= u["rank"] <= u["rank_high"] <= len(ranked) for u in ranked)
    assert sum(u["n"] for u in golden["units"]) == golden["responses"]


def test_comparison_notices_a_change():
    golden = json.loads(GOLDEN.read_text("utf-8"))
    changed = json.loads(GOLDEN.read_text("utf-8"))
    changed["units"][0]["index"] += 0.01
    assert same(changed, golden) and not same(json.loads(GOLDEN.read_text("utf-8")), golden)
