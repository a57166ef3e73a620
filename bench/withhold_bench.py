"""Benchmark of the exact withholding check (hailong.publish.withhold.plan) for many units.

The questions and blocks of the shipped survey sipas-xa-2020 (22 scale questions in 5
blocks), M generated units with 3 to 40 answers each, and on every question a chance of "no
opinion" drawn per unit: 15% of a unit's questions (--often-silent) are left empty by 50-90%
of its respondents, so that many units have questions below min_cell. Scores them (not
timed), then times `plan` alone and prints what it withheld.

    .venv/bin/python bench/withhold_bench.py [--units M] [--compare] [--profile]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the survey generator and the slow reference

from withhold_data import many_units, ranking_rows  # noqa: E402

from hailong.publish.withhold import plan  # noqa: E402
from hailong.score.scoring import question_table  # noqa: E402


def after_children() -> float:
    """CPU seconds of the finished worker processes (plan runs on every core)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--profile", action="store_true", help="print where plan spends its time")
    ap.add_argument("--compare", action="store_true",
                    help="also run the slow reference of before issue 10 (tests/withhold_reference.py) "
                         "and check that every unit's plan is the same")
    ap.add_argument("--often-silent", type=float, default=0.15,
                    help="share of a unit's questions that most of its respondents leave empty")
    args = ap.parse_args()
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory() as tmp:
        survey, accepted = many_units(Path(tmp) / "survey", args.units, rng, args.often_silent)
        rows = ranking_rows(survey, accepted, Path(tmp))
        table = question_table(accepted, survey)
        start, cpu = time.perf_counter(), time.process_time()
        children = after_children()
        if args.profile:
            import cProfile
            import pstats
            with cProfile.Profile() as prof:
                plans = plan(survey, rows, table)
            pstats.Stats(prof).sort_stats("tottime").print_stats(12)
        else:
            plans = plan(survey, rows, table)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        cpu += (after_children() - children)
        if args.compare:
            import withhold_reference
            start_ref, cpu_ref = time.perf_counter(), time.process_time()
            slow = withhold_reference.plan(survey, rows, table)
            ref_wall, ref_cpu = time.perf_counter() - start_ref, time.process_time() - cpu_ref
            differ = [c for c in plans if (plans[c].questions, plans[c].blocks, plans[c].index,
                                           plans[c].primary) != (slow[c].questions, slow[c].blocks,
                                                                 slow[c].index, slow[c].primary)]
            print(f"reference (before issue 10): {ref_wall:.1f} s wall, {ref_cpu:.1f} s CPU; "
                  f"plans of {len(plans)} units compared: {len(differ)} differ {differ[:5]}")
    ranked = {r["code"] for r in rows if r["ranked"]}
    busy = [c for c, p in plans.items() if p.withholds and c in ranked]
    extra = sum(len(plans[c].questions - plans[c].primary) for c in busy)
    lost = sum(plans[c].index for c in busy)
    print(f"withhold.plan ({args.often_silent:.0%} of questions often silent): {len(rows)} units, {len(accepted)} responses, {len(ranked)} ranked: "
          f"{wall:.1f} s wall, {cpu:.1f} s CPU (with its workers; load average {os.getloadavg()[0]:.2f}); {len(busy)} ranked units withhold something "
          f"({extra} question cells withheld only to protect others, {lost} lose their index)")


if __name__ == "__main__":
    main()
