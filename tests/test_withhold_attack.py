"""The enumerating attacker of issue 9 part 5 against the published numbers of many random
surveys: every withheld figure keeps two consistent values a clear margin apart.

Each survey is random (blocks, weights, questions, scale, method, min_cell, answers with many
"no opinion"), scored with the real scoring and read back from ranking.csv as publish reads
it; the attacker sees only ranking.json (unit and block figures) and the question cells the
unit pages show (value or withheld, and the answer count).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pandas as pd
import pytest
from attacker import Published, TooLarge, spreads, spreads_ilp, structure
from conftest import write_survey
from release_sim import ranking_doc

from hailong.publish import results
from hailong.score.pipeline import ranking_for_file
from hailong.score.queries import csv_bytes
from hailong.score.scoring import question_table, rank_units
from hailong.survey.load import load_survey

SURVEYS = 120


def random_survey(rng: random.Random, folder):
    lo, hi = rng.choice([(1, 5), (1, 5), (1, 4), (1, 3)])
    method = rng.choice(["percent_satisfied", "percent_satisfied", "mean_score"])
    min_cell = rng.choice([3, 4, 5])
    lines = ['id = "ngau-nhien"', 'title = "Khảo sát ngẫu nhiên"',
             '[window]', 'start = "2024-06-12"', 'end = "2024-06-14"',
             '[scale]', f"min = {lo}", f"max = {hi}", f"satisfied_min = {hi - 1}",
             '[scoring]', f'method = "{method}"', f"min_responses = {rng.choice([5, 8, 10])}",
             f"min_cell = {min_cell}"]
    for b in range(rng.randint(1, 3)):
        lines += ["[[blocks]]", f'id = "b{b}"', f'title = "Nhóm {b}"', f"weight = {rng.randint(1, 3)}"]
        for q in range(rng.randint(1, 3)):
            lines += ["[[questions]]", f'id = "q{b}{q}"', f'block = "b{b}"', f'text = "Câu {b}{q}"']
    units = "code,name\n" + "".join(f"X{i},Xã {i}\n" for i in range(8))
    return load_survey(write_survey(folder, "\n".join(lines) + "\n", units))


def random_answers(rng: random.Random, survey) -> pd.DataFrame:
    silence = {q.id: rng.choice([0.0, 0.1, 0.4, 0.7]) for q in survey.scale_questions}
    rows = []
    for unit in survey.units:
        mood = rng.random()
        for i in range(rng.choice([0, 2, 4, 6, 9, 12, 14])):
            row = dict.fromkeys(survey.response_columns, "")
            row.update(unit_code=unit.code, response_id=f"{unit.code}-{i}",
                       submitted_at="2024-06-12T09:00:00+07:00")
            for q in survey.scale_questions:
                if rng.random() >= silence[q.id]:
                    top = rng.random() < mood
                    row[q.id] = str(rng.randint(survey.scale.max - 1, survey.scale.max) if top
                                    else rng.randint(survey.scale.min, survey.scale.max))
            rows.append(row)
    return pd.DataFrame(rows, columns=survey.response_columns, dtype="str")


def publish_figures(survey, accepted, tmp_path, old_rule=False):
    """What the attacker reads: ranking.json's units and the pages' question cells."""
    path = tmp_path / "ranking.csv"
    path.write_bytes(csv_bytes(ranking_for_file(rank_units(accepted, survey))))
    rows = results.read_ranking(path)
    table = question_table(accepted, survey)
    if old_rule:  # the rules before the exact check, kept to show the attacker has teeth
        cells = results.question_cells(survey, table)
        units = results.unit_results(survey, rows, results.block_answers(survey, cells))
        cells = results.withhold_block_questions(survey, units, cells)
    else:
        units, cells = results.published(survey, rows, table)
    doc = ranking_doc(survey, units, cells)
    return [Published(u["index"], u["blocks"],
                      {q.id: cells.get((u["unit_code"], q.id), (None, 0)) for q in survey.scale_questions})
            for u in doc["units"]]


def attack(survey, pub: Published) -> dict:
    s = structure(survey)
    try:
        return spreads(s, pub)
    except TooLarge:  # too many assignments to list one by one: integer programming
        return spreads_ilp(s, pub)


def test_the_attacker_recovers_nothing(tmp_path):
    rng = random.Random(9)
    withheld = recovered = old_recovered = old_withheld = 0
    failures = []
    for i in range(SURVEYS):
        survey = random_survey(rng, tmp_path / f"s{i}")
        accepted = random_answers(rng, survey)
        margin = Fraction(str(survey.scoring.withhold_margin))
        for pub in publish_figures(survey, accepted, tmp_path / f"s{i}"):
            for key, spread in attack(survey, pub).items():
                withheld += 1
                if spread < margin:
                    recovered += 1
                    failures.append((i, key, spread))
        for pub in publish_figures(survey, accepted, tmp_path / f"s{i}", old_rule=True):
            for spread in attack(survey, pub).values():
                old_withheld += 1
                old_recovered += spread < margin
    assert withheld > 300  # the surveys do withhold a good deal
    assert recovered == 0, failures[:10]
    assert old_recovered > 0.2 * old_withheld  # the same attacker breaks the rules of old


@pytest.mark.parametrize("seed", range(3))
def test_brute_force_and_integer_programming_agree(tmp_path, seed):
    """The two attackers are written apart; on units small enough to list they agree."""
    rng = random.Random(100 + seed)
    compared = 0
    for i in range(15):
        survey = random_survey(rng, tmp_path / f"s{i}")
        for pub in publish_figures(survey, random_answers(rng, survey), tmp_path / f"s{i}",
                                   old_rule=True):
            try:
                brute = spreads(structure(survey), pub)
            except TooLarge:
                continue
            ilp = spreads_ilp(structure(survey), pub)
            assert brute.keys() == ilp.keys()
            for key in brute:
                # the integer program narrows the intervals by 1e-6: never wider than listing
                assert ilp[key] <= brute[key]
                compared += ilp[key] == brute[key]
    assert compared > 10


def test_the_demo_pages_give_nothing_back(tmp_path):
    """End to end: the attacker reads the demo's published unit pages (HTML) alone."""
    from test_privacy import published_cells

    from hailong.demo.run import DEFAULT_SURVEY, run_demo
    from hailong.layout import Layout

    out = tmp_path / "demo"
    run_demo(out, seed=2020)
    survey = load_survey(DEFAULT_SURVEY)
    margin = Fraction(str(survey.scoring.withhold_margin))
    results_dir = Layout(out, survey.id).results
    withheld = 0
    for unit in survey.units:
        cells, answers = published_cells(results_dir, survey, unit.code)
        pub = Published(cells["index"], {b.id: cells[f"b:{b.id}"] for b in survey.blocks},
                        {q: (cells[f"q:{q}"], a) for q, a in answers.items()})
        got = attack(survey, pub)
        withheld += len(got)
        assert all(v >= margin for v in got.values()), (unit.code, got)
    assert withheld >= 10  # NX06, with 5 answers, withholds most of its figures
