"""The fast withholding check decides exactly what the slow one of before issue 10 decided
(tests/withhold_reference.py): the same cells, blocks and unit indices withheld for every
unit, on generated units of a real survey and on the attacker test's random surveys."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import withhold_reference
from test_withhold_attack import random_answers, random_survey

from hailong.demo.generate import generate_units, units_csv
from hailong.ingest.responses import csv_bytes
from hailong.publish import results, withhold
from hailong.score.pipeline import ranking_for_file
from hailong.score.scoring import question_table, rank_units
from hailong.survey.load import load_survey

ROOT = Path(__file__).resolve().parent.parent


def many_units(folder: Path, count: int, seed: int) -> tuple:
    """The shipped sipas-xa-2020 survey's 22 questions in 5 blocks, `count` units of 3 to 40
    answers, and 15% of each unit's questions left empty by most respondents (as
    bench/withhold_bench.py): many cells below min_cell, many searches."""
    folder.mkdir()
    shutil.copy(ROOT / "surveys" / "sipas-xa-2020" / "survey.toml", folder / "survey.toml")
    (folder / "units.csv").write_text(units_csv(generate_units(count)), encoding="utf-8")
    survey = load_survey(folder)
    rng = np.random.default_rng(seed)
    qids = [q.id for q in survey.scale_questions]
    parts = []
    for u in survey.units:
        n = int(rng.integers(3, 41))
        silence = np.where(rng.random(len(qids)) < 0.15, rng.uniform(0.5, 0.9, len(qids)), 0.03)
        answers = np.where(rng.random((n, len(qids))) < rng.uniform(0.5, 0.95),
                           rng.integers(4, 6, (n, len(qids))), rng.integers(1, 4, (n, len(qids))))
        answers[rng.random((n, len(qids))) < silence] = 0
        frame = pd.DataFrame(answers.astype(str), columns=qids).replace("0", "")
        frame.insert(0, "unit_code", u.code)
        parts.append(frame)
    return survey, pd.concat(parts, ignore_index=True)


def ranking_rows(survey, accepted, folder: Path) -> list[dict]:
    path = folder / "ranking.csv"
    path.write_bytes(csv_bytes(ranking_for_file(rank_units(accepted, survey))))
    return results.read_ranking(path)


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
    survey, accepted = many_units(tmp_path / "survey", 300, seed=11)
    rows = ranking_rows(survey, accepted, tmp_path)
    withholding = assert_same_plans(survey, rows, question_table(accepted, survey))
    assert withholding > 100  # the comparison covers many searches, not only easy units


def test_same_plans_in_a_pool_of_workers(tmp_path, monkeypatch):
    """Above PARALLEL_MIN units plan runs on every core: the plans are the same."""
    monkeypatch.setattr(withhold, "PARALLEL_MIN", 50)
    monkeypatch.setattr(withhold, "_cores", lambda: 2)
    survey, accepted = many_units(tmp_path / "survey", 120, seed=12)
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
