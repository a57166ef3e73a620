"""Benchmark of the rank ranges (contract v2 step 8) for a national ranking.

Times `hailong.stats.rank_ranges` on M ranked units with two-decimal indices and intervals as
ranking.csv prints them (index 40–95, widths 2–60 points, as units of 3 to 200 respondents
give), and checks the counts against the all-pairs reading of the rule on a sample of units.

    .venv/bin/python bench/rank_range_bench.py [--units M] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.stats import hundredths, rank_ranges  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    m = args.units
    index = np.round(rng.uniform(40, 95, m), 2)
    width = np.round(rng.uniform(2, 60, m), 2)
    low = np.round(np.clip(index - width * rng.uniform(0.3, 0.7, m), 0, 100), 2)
    high = np.round(np.clip(low + width, index, 100), 2)
    best = cpu = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        rank_low, rank_high = rank_ranges(index, low, high)
        best = min(best, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    # the plain rule on 200 units against all others
    idx, w = hundredths(index), hundredths(high) - hundredths(low)
    for i in rng.choice(m, size=min(200, m), replace=False):
        d = idx - idx[i]
        clear = 4 * d * d > w[i] ** 2 + w ** 2
        assert rank_low[i] == 1 + np.sum(clear & (d > 0))
        assert rank_high[i] == m - np.sum(clear & (d < 0))
    spread = rank_high - rank_low
    print(f"rank ranges of {m} units: {best:.3f} s wall, {cpu:.3f} s CPU (best of 3); median range {np.median(spread):.0f} "
          f"ranks, {int(np.sum(rank_low == 1))} units may be first")


if __name__ == "__main__":
    main()
