"""withhold.plan: what a unit withholds, decided by the exact whole-number check."""

from __future__ import annotations

from fractions import Fraction

import pytest
from attacker import Published, spreads, structure
from conftest import write_survey

from hailong.numbers import two_decimals
from hailong.publish.withhold import cents, plan_unit
from hailong.survey.load import load_survey

TOML = """\
id = "giu-lai"
title = "Khảo sát thử"
[window]
start = "2024-06-12"
end = "2024-06-14"
[scoring]
min_responses = 10
min_cell = 5
[[blocks]]
id = "a"
title = "Nhóm A"
[[blocks]]
id = "b"
title = "Nhóm B"
[[questions]]
id = "a1"
block = "a"
text = "A1"
[[questions]]
id = "a2"
block = "a"
text = "A2"
[[questions]]
id = "b1"
block = "b"
text = "B1"
[[questions]]
id = "b2"
block = "b"
text = "B2"
"""


@pytest.fixture
def survey(tmp_path):
    return load_survey(write_survey(tmp_path / "s", TOML, "code,name\nX,Xã X\n"))


def figures(survey, cells: dict[str, tuple[int, int]], n: int, ranked=True):
    """A ranking row and question cells from whole numbers: qid -> (satisfied, answers)."""
    value = {q: (a, 100 * k / a) for q, (k, a) in cells.items()}
    blocks = {}
    for b in survey.blocks:
        vs = [value[q.id][1] for q in survey.scale_questions if q.block == b.id and q.id in value]
        blocks[b.id] = round(sum(vs) / len(vs), 2) if vs else None
    valued = [b for b in survey.blocks if blocks[b.id] is not None]
    index = sum(b.weight * blocks[b.id] for b in valued) / sum(b.weight for b in valued)
    row = {"code": "X", "n": n, "index": round(index, 2), "ranked": ranked,
           "blocks": blocks}
    return row, value


def published(survey, row, value, p) -> Published:
    return Published(None if p.index else row["index"],
                     {b: (None if b in p.blocks else v) for b, v in row["blocks"].items()},
                     {q: (None if q in p.questions else round(v, 2), a) for q, (a, v) in value.items()})


def test_nothing_to_protect_withholds_nothing(survey):
    row, value = figures(survey, {"a1": (10, 20), "a2": (5, 20), "b1": (15, 20), "b2": (1, 20)}, 20)
    assert not plan_unit(survey, row, value).withholds


def test_few_responses_withhold_every_figure(survey):
    row, value = figures(survey, {"a1": (1, 4), "a2": (2, 4), "b1": (3, 4), "b2": (0, 4)}, 4)
    p = plan_unit(survey, row, value)
    assert p.questions == {"a1", "a2", "b1", "b2"} and p.blocks == {"a", "b"} and p.index


def test_two_unknowns_of_a_block_are_not_enough_on_the_lattice(survey):
    # a1 has 3 answers, a2 40: the block index 100·(k1/3 + k2/40)/2 pins 40·k1 + 3·k2, so the
    # "only their sum can be derived" rule of old leaves k1 = 1 as the only whole number
    row, value = figures(survey, {"a1": (1, 3), "a2": (20, 40), "b1": (30, 40), "b2": (25, 40)}, 40)
    s = structure(survey)
    old = Published(row["index"], row["blocks"], {"a1": (None, 3), "a2": (None, 40),
                                                  "b1": (75.0, 40), "b2": (62.5, 40)})
    assert spreads(s, old)[("q", "a1")] == 0  # the attacker gets k1 back
    p = plan_unit(survey, row, value)
    assert "a1" in p.questions and p.primary == {"a1"}
    got = spreads(s, published(survey, row, value, p))
    assert got and all(v >= 10 for v in got.values()), got


def test_unranked_unit_gives_up_its_index_first(survey):
    row, value = figures(survey, {"a1": (1, 3), "a2": (4, 8), "b1": (6, 8), "b2": (5, 8)}, 8,
                         ranked=False)
    p = plan_unit(survey, row, value)
    assert p.index
    got = spreads(structure(survey), published(survey, row, value, p))
    assert all(v >= 10 for v in got.values()), got


def test_index_resting_on_one_block_is_withheld(survey):
    row, value = figures(survey, {"a1": (1, 3), "a2": (2, 4)}, 12)  # block b has no answers
    p = plan_unit(survey, row, value)
    assert p.index and p.blocks == {"a"} and p.questions == {"a1", "a2"}


def test_margin_is_a_setting(tmp_path):
    strict = TOML.replace("min_cell = 5", "min_cell = 5\nwithhold_margin = 60")
    survey = load_survey(write_survey(tmp_path / "t", strict, "code,name\nX,Xã X\n"))
    row, value = figures(survey, {"a1": (1, 3), "a2": (20, 40), "b1": (30, 40), "b2": (25, 40)}, 40)
    p = plan_unit(survey, row, value)
    got = spreads(structure(survey), published(survey, row, value, p))
    assert all(v >= 60 for v in got.values()), got


def test_cents_round_as_the_files_do():
    assert cents(66.665) == 6667 and cents(15.625) == 1563 and cents(0.0) == 0
    assert Fraction(cents(42.5), 100) == Fraction(85, 2)


@pytest.mark.parametrize("budget", [3, 30])
def test_a_sampled_search_only_withholds_more(survey, monkeypatch, budget):
    """Past BUDGET combinations a sample is listed: the plan may withhold more, never less
    than what keeps every withheld figure a margin wide."""
    import hailong.publish.withhold as withhold

    row, value = figures(survey, {"a1": (1, 3), "a2": (20, 40), "b1": (2, 4), "b2": (25, 40)}, 40)
    full = plan_unit(survey, row, value)
    monkeypatch.setattr(withhold, "BUDGET", budget)
    sampled = plan_unit(survey, row, value)
    got = spreads(structure(survey), published(survey, row, value, sampled))
    assert got and all(v >= 10 for v in got.values()), got
    assert full.questions <= sampled.questions or sampled.index


def test_bounds_come_only_from_a_complete_search(survey, monkeypatch):
    """`bounds` tell readers what stays consistent of each withheld question: from a complete
    search they are the attacker's own ranges; from a sampled one (narrower than the truth,
    so they would tell more than the figures do) none are published."""
    import hailong.publish.withhold as withhold

    row, value = figures(survey, {"a1": (3, 20), "a2": (16, 20), "b1": (32, 40), "b2": (2, 4)}, 41)
    full = plan_unit(survey, row, value)
    found: dict = {}
    spreads(structure(survey), published(survey, row, value, full), found=found)
    assert full.bounds
    for q, (low, high) in full.bounds.items():
        d = value[q][0]
        assert (low, high) == (float(two_decimals(100 * found[q][0] / d)),
                               float(two_decimals(100 * found[q][1] / d)))
    monkeypatch.setattr(withhold, "BUDGET", 3)
    assert plan_unit(survey, row, value).bounds == {}
