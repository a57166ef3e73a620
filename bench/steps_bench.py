"""Benchmark of releases that cannot be subtracted (issue 21) at national scale.

The questions and blocks of the shipped survey sipas-xa-2020 (22 scale questions in 5
blocks), M generated units (default 10,600) and R weekly releases (default 10): in week 1 each
unit has 0 to 9 answers, and each week after that it gains a Poisson(3) number of answers
(5% of units lose one instead); 15% of a unit's questions are left empty by most of its
respondents, so that many cells sit below min_cell. Each week is scored (not timed), then
published twice from the same ranking rows:

- alone: results.published, as before issue 21 (each release as if it were the first);
- steps: publish/steps.published against the last release's ranking.json (the step rule and
  the exact check across releases), then that ranking.json written (downloads.ranking_json).

and prints per week the seconds of each, how many units were held, how many question cells
each withheld, and the size of ranking.json.

    .venv/bin/python bench/steps_bench.py [--units M] [--releases R]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the survey generator and the release simulation

from release_sim import ranking_doc  # noqa: E402
from withhold_data import many_units, ranking_rows  # noqa: E402

from hailong.publish import results, steps  # noqa: E402
from hailong.score.scoring import question_table  # noqa: E402

POOL = 60  # answers drawn per unit up front; a week's answers are the first c of them


def cpu() -> float:
    """CPU seconds of this process and its finished workers (plan runs on every core): the
    host is shared, so wall time says more about the neighbours than about the code."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--releases", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(21)
    with tempfile.TemporaryDirectory() as tmp:
        # every unit with POOL answers; the week's accepted rows are each unit's first c
        survey, pool = many_units(Path(tmp) / "survey", args.units, rng)
        pool = pool.groupby("unit_code", sort=False).head(POOL)
        pool["order"] = pool.groupby("unit_code", sort=False).cumcount()
        codes = [u.code for u in survey.units]
        count = dict(zip(codes, rng.integers(0, 10, len(codes)).tolist(), strict=True))
        last = None
        total = {"alone": 0.0, "steps": 0.0}
        print(f"{args.units} units, {len(survey.scale_questions)} scale questions, "
              f"min_cell {survey.scoring.min_cell}, withhold_margin {survey.scoring.withhold_margin}")
        print("CPU seconds (wall in brackets)")
        print("week  answers  alone_s        steps_s        held  moved  withheld_alone  withheld_steps  json_MB")
        for week in range(1, args.releases + 1):
            if week > 1:
                for code in codes:
                    count[code] = (max(0, count[code] - 1) if rng.random() < 0.05
                                   else count[code] + int(rng.poisson(3)))
            limit = pool["unit_code"].map(count)
            accepted = pool[pool["order"] < limit].drop(columns="order")
            accepted = pd.DataFrame(accepted).reset_index(drop=True)
            rows = ranking_rows(survey, accepted, Path(tmp))
            table = question_table(accepted, survey)

            start, wall = cpu(), time.perf_counter()
            _units, alone_cells = results.published(survey, rows, table)
            alone, alone_wall = cpu() - start, time.perf_counter() - wall

            start, wall = cpu(), time.perf_counter()
            units, cells = steps.published(survey, rows, table, last)
            doc = ranking_doc(survey, units, cells)
            stepped, stepped_wall = cpu() - start, time.perf_counter() - wall
            size = len(str(doc).encode("utf-8")) / 1e6

            held = sum(1 for u in units if u.responses is not None)
            moved = sum(1 for u in units if u.responses is None and last is not None)
            withheld_alone = sum(1 for v, a in alone_cells.values() if v is None and a > 0)
            withheld_steps = sum(1 for v, a in cells.values() if v is None and a > 0)
            total["alone"] += alone
            total["steps"] += stepped
            print(f"{week:>4}  {len(accepted):>7}  {alone:>6.1f} ({alone_wall:>5.0f})  "
                  f"{stepped:>6.1f} ({stepped_wall:>5.0f})  {held:>4}  {moved:>5}  "
                          f"{withheld_alone:>14}  {withheld_steps:>14}  {size:>7.1f}", flush=True)
            last = doc
        print(f"total CPU: alone {total['alone']:.1f} s, steps {total['steps']:.1f} s "
              f"(steps includes writing ranking.json)")


if __name__ == "__main__":
    main()
