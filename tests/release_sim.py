"""A release as publish makes it, without rendering pages: the accepted answers scored with
the real scoring, read back from ranking.csv, published through the step rule (publish/steps)
against the last release, and written as ranking.json (downloads.ranking_json).

Shared by the step-rule tests and the differencing attacker: each reads only the documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from hailong.publish import downloads, results, steps
from hailong.publish.release import Release
from hailong.score.pipeline import ranking_for_file
from hailong.score.queries import csv_bytes
from hailong.score.scoring import question_table, rank_units


def ranking_doc(survey, units, cells, part=None, responses=None) -> dict:
    """ranking.json of published unit lines and question cells (no history, no run facts)."""
    if part is None:
        part = results.participation(survey, units, None)
    total = sum(u.current for u in units) if responses is None else responses
    model = {"units": units, "cells": cells, "participation": part, "series": [], "weekly": [],
             "avg": results.averages(survey, units, cells),
             "meta": {"release": Release("sim", "2024-06-14", "2024-06-14T17:00:00+07:00", total, None),
                      "updated": "2024-06-14T17:00+07:00", "responses": total, "demo": False,
                      "run": {}}}
    return json.loads(downloads.ranking_json(survey, units, model["meta"], cells, part, [],
                                             model["avg"]))


def release(survey, accepted: pd.DataFrame, last: dict | None, folder: Path) -> dict:
    """The ranking.json of a release of `accepted` published after `last` (None: the first)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ranking.csv"
    path.write_bytes(csv_bytes(ranking_for_file(rank_units(accepted, survey))))
    rows = results.read_ranking(path)
    units, cells = steps.published(survey, rows, question_table(accepted, survey), last)
    kinds = accepted["respondent_type"].replace("", survey.respondent_types[0])
    by_type = {(str(u), str(t)): int(c) for (u, t), c in
               accepted.assign(kind=kinds).groupby(["unit_code", "kind"]).size().items()}
    part = results.participation(survey, units, None, by_type)
    steps.hold_types(units, part, last)
    return ranking_doc(survey, units, cells, part)
