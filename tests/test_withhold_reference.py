"""The fast withholding check decides exactly what the slow one of before issue 10 decided
(tests/withhold_reference.py): the same cells, blocks and unit indices withheld for every
unit, on generated units of a real survey and on the attacker test's random surveys."""

from __future__ import annotations

import random

import numpy as np
import withhold_reference
from test_withhold_attack import random_answers, random_survey
from withhold_data import many_units, ranking_rows

from hailong.publish import withhold
from hailong.score.scoring import question_table


def as_tuples(plans: dict) -> dict:
    return {code: (sorted(p.questions), sorted(p.blocks), p.index, sorted(p.primary))
            for code, p in plans.items()}


def assert_same_plans(survey, rows, table) -> int:
    fast = as_tuples(withhold.plan(survey, rows, table))
    slow = as_tuples(withhold_reference.plan(survey, rows, table))
    assert list(fast) == list(slow)
    differ = [(code, fast[code], slow[code]) for code in fast if fast[code] != slow[code]]
    assert not differ, differ[:3]
    return sum(1 for q, b, i, _ in fast.values() if q or b or i)


def test_same_plans_on_generated_units(tmp_path):
    survey, accepted = many_units(tmp_path / "survey", 300, np.random.default_rng(11))
    rows = ranking_rows(survey, accepted, tmp_path)
    withholding = assert_same_plans(survey, rows, question_table(accepted, survey))
    assert withholding > 100  # the comparison covers many searches, not only easy units


def test_same_plans_in_a_pool_of_workers(tmp_path, monkeypatch):
    """Above PARALLEL_MIN units plan runs on every core: the plans are the same."""
    monkeypatch.setattr(withhold, "PARALLEL_MIN", 50)
    monkeypatch.setattr(withhold, "_cores", lambda: 2)
    survey, accepted = many_units(tmp_path / "survey", 120, np.random.default_rng(12))
    rows = ranking_rows(survey, accepted, tmp_path)
    assert assert_same_plans(survey, rows, question_table(accepted, survey)) > 30


def test_same_plans_on_the_attackers_random_surveys(tmp_path):
    rng = random.Random(9)
    withholding = 0
    for i in range(60):
        survey = random_survey(rng, tmp_path / f"s{i}")
        accepted = random_answers(rng, survey)
        rows = ranking_rows(survey, accepted, tmp_path / f"s{i}")
        withholding += assert_same_plans(survey, rows, question_table(accepted, survey))
    assert withholding > 50
