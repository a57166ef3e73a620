"""A survey that makes the withholding check work hard, for tests/test_withhold_reference.py and
bench/withhold_bench.py: the shipped sipas-xa-2020 survey's 22 questions in 5 blocks, units of 3
to 40 answers, and a share of each unit's questions left empty by most respondents (many cells
below min_cell, many searches)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from hailong.demo.generate import generate_units, units_csv
from hailong.publish import results
from hailong.score.pipeline import ranking_for_file
from hailong.score.queries import csv_bytes
from hailong.score.scoring import rank_units
from hailong.survey.load import load_survey

ROOT = Path(__file__).resolve().parent.parent


def many_units(folder: Path, count: int, rng: np.random.Generator,
               often_silent: float = 0.15) -> tuple:
    """(survey, accepted rows) of `count` units; `often_silent`: the share of a unit's questions
    that most of its respondents leave empty."""
    folder.mkdir()
    shutil.copy(ROOT / "surveys" / "sipas-xa-2020" / "survey.toml", folder / "survey.toml")
    (folder / "units.csv").write_text(units_csv(generate_units(count)), encoding="utf-8")
    survey = load_survey(folder)
    qids = [q.id for q in survey.scale_questions]
    parts = []
    for u in survey.units:
        n = int(rng.integers(3, 41))
        silence = np.where(rng.random(len(qids)) < often_silent,
                           rng.uniform(0.5, 0.9, len(qids)), 0.03)
        answers = np.where(rng.random((n, len(qids))) < rng.uniform(0.5, 0.95),
                           rng.integers(4, 6, (n, len(qids))), rng.integers(1, 4, (n, len(qids))))
        answers[rng.random((n, len(qids))) < silence] = 0
        frame = pd.DataFrame(answers.astype(str), columns=qids).replace("0", "")
        frame.insert(0, "unit_code", u.code)
        parts.append(frame)
    return survey, pd.concat(parts, ignore_index=True)


def ranking_rows(survey, accepted, folder: Path) -> list[dict]:
    """The rows of the ranking.csv `score` would write for `accepted`, as publish reads them."""
    path = folder / "ranking.csv"
    path.write_bytes(csv_bytes(ranking_for_file(rank_units(accepted, survey))))
    return results.read_ranking(path)
