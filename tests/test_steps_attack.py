"""The differencing attacker of issue 21 against sequences of releases of many random surveys.

Each survey is random (blocks, weights, questions, scale, method, min_cell, two respondent
types, answers with many "no opinion"); between releases each unit gains 1, 2, 3, min_cell − 1,
min_cell or more answers, or loses some, and units cross min_responses. Every release goes
through the real scoring and the step rule (publish/steps) against the release before it, and
the attacker reads only the ranking.json of each release (attacker.differencing).
"""

from __future__ import annotations

import random
from fractions import Fraction

import pandas as pd
import pytest
from attacker import differencing, structure
from conftest import write_survey
from release_sim import release

from hailong.survey.load import load_survey

SURVEYS = 36
RELEASES = 6  # longer sequences: bench/steps_attack_bench.py


def random_survey(rng: random.Random, folder):
    lo, hi = rng.choice([(1, 5), (1, 5), (1, 4), (1, 3)])
    method = rng.choice(["percent_satisfied", "percent_satisfied", "mean_score"])
    min_cell = rng.choice([3, 4, 5])
    lines = ['id = "ngau-nhien"', 'title = "Khảo sát ngẫu nhiên"',
             'respondent_types = ["individual", "organization"]',
             '[window]', 'start = "2024-06-12"', 'end = "2024-06-14"',
             '[scale]', f"min = {lo}", f"max = {hi}", f"satisfied_min = {hi - 1}",
             '[scoring]', f'method = "{method}"', f"min_responses = {rng.choice([5, 8])}",
             f"min_cell = {min_cell}"]
    for b in range(rng.randint(1, 3)):
        lines += ["[[blocks]]", f'id = "b{b}"', f'title = "Nhóm {b}"', f"weight = {rng.randint(1, 3)}"]
        for q in range(rng.randint(1, 3)):
            lines += ["[[questions]]", f'id = "q{b}{q}"', f'block = "b{b}"', f'text = "Câu {b}{q}"']
    units = "code,name\n" + "".join(f"X{i},Xã {i}\n" for i in range(6))
    return load_survey(write_survey(folder, "\n".join(lines) + "\n", units))


class Answers:
    """The accepted answers of one survey, changed between releases as the field would."""

    def __init__(self, rng: random.Random, survey):
        self.rng, self.survey = rng, survey
        self.silence = {q.id: rng.choice([0.0, 0.1, 0.4, 0.7]) for q in survey.scale_questions}
        self.mood = {u.code: rng.random() for u in survey.units}
        self.rows: list[dict] = []
        self.serial = 0
        for unit in survey.units:
            for _ in range(rng.choice([0, 2, 4, 6, 9, 12])):
                self.add(unit.code)

    def add(self, code: str) -> None:
        s, rng = self.survey, self.rng
        row = dict.fromkeys(s.response_columns, "")
        self.serial += 1
        row.update(unit_code=code, response_id=f"{code}-{self.serial}",
                   submitted_at="2024-06-12T09:00:00+07:00",
                   respondent_type=rng.choice(s.respondent_types))
        answered = False
        for q in s.scale_questions:
            if rng.random() >= self.silence[q.id] or not answered and q is s.scale_questions[-1]:
                top = rng.random() < self.mood[code]
                row[q.id] = str(rng.randint(s.scale.max - 1, s.scale.max) if top
                                else rng.randint(s.scale.min, s.scale.max))
                answered = True
        self.rows.append(row)

    def step(self, removals: bool = True) -> None:
        """Between two releases: per unit, a few answers in, sometimes some out (`removals`)."""
        min_cell = self.survey.scoring.min_cell
        for unit in self.survey.units:
            change = self.rng.choice([0, 1, 2, 3, min_cell - 1, min_cell, min_cell + 3,
                                      *((-1, -2) if removals else ())])
            mine = [r for r in self.rows if r["unit_code"] == unit.code]
            if change < 0:
                for r in self.rng.sample(mine, min(len(mine), -change)):
                    self.rows.remove(r)
                if self.rng.random() < 0.5:
                    self.add(unit.code)  # one out, one in: the count alone moves less
            for _ in range(max(0, change)):
                self.add(unit.code)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=self.survey.response_columns, dtype="str")


def attack_sequences(tmp_path, seed: int, surveys: int, alone: bool = False,
                     releases: int = RELEASES, removals: bool = True):
    """(cells checked, failures, units whose index moved) over `surveys` random surveys of
    `releases` releases each; `alone`: every release published as if it were the first (the
    rules before issue 21, to show the attacker has teeth); `removals`: answers also removed
    between releases, else only added."""
    rng = random.Random(seed)
    checked = moved = 0
    failures = []
    for i in range(surveys):
        survey = random_survey(rng, tmp_path / f"s{i}")
        answers = Answers(rng, survey)
        docs, last = [], None
        for r in range(releases):
            if r:
                answers.step(removals)
            last = release(survey, answers.frame(), None if alone else last,
                           tmp_path / f"s{i}" / f"r{r}")
            docs.append(last)
        margin = Fraction(str(survey.scoring.withhold_margin))
        got, failed = differencing(structure(survey), docs, survey.scoring.min_cell, margin)
        checked += got
        failures += [(i, *f) for f in failed]
        moved += sum(a["index"] != b["index"] for x, y in zip(docs, docs[1:], strict=False)
                     for a, b in zip(x["units"], y["units"], strict=False))
    return checked, failures, moved


@pytest.mark.parametrize(("seed", "removals"), [(21, True), (22, True), (23, False)])
def test_the_differencing_attacker_recovers_nothing(tmp_path, seed, removals):
    """Six releases of each of 24 random surveys, answers removed as well as added (or only
    added): from the ranking.json of every release together, the attacker pins no difference
    cell, no withheld cell, and sees no figures move on fewer than min_cell answers."""
    checked, failures, moved = attack_sequences(tmp_path, seed, 24, removals=removals)
    assert checked > 1000  # the attacker had many withheld and difference cells to try
    assert moved > 100  # and the figures did move between releases
    assert failures == [], failures[:10]


def test_the_attacker_breaks_releases_published_alone(tmp_path):
    """The same attacker against the same sequences published without the step rule and
    without the check across releases: it gets answers back."""
    checked, failures, _moved = attack_sequences(tmp_path, 21, SURVEYS // 3, alone=True, releases=4)
    differences = [f for f in failures if f[2] == "difference"]
    assert len(differences) > 20 and any(f[2] == "moved" for f in failures)
