"""The differencing attacker of issue 21 over longer sequences than the suite runs.

tests/test_steps_attack.py runs six releases of 24 random surveys for three seeds; this runs
any number of seeds, releases and surveys, answers removed as well as added (or, with
--added-only, only added), and prints per seed the cells the attacker tried, what it pinned
(each failure listed) and the seconds it took.

    .venv/bin/python bench/steps_attack_bench.py [--seeds 22 23 24] [--releases 6]
        [--surveys 30] [--added-only]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the attacker, the random surveys and the release simulation

from test_steps_attack import attack_sequences  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[22, 23, 24])
    ap.add_argument("--releases", type=int, default=6)
    ap.add_argument("--surveys", type=int, default=30)
    ap.add_argument("--added-only", action="store_true")
    args = ap.parse_args()
    total = 0
    for seed in args.seeds:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            checked, failures, moved = attack_sequences(Path(tmp), seed, args.surveys,
                                                        releases=args.releases,
                                                        removals=not args.added_only)
        total += len(failures)
        print(f"seed {seed}: {args.surveys} surveys x {args.releases} releases, "
              f"{'added only' if args.added_only else 'removals too'}: {checked} cells tried, "
              f"{len(failures)} pinned, {moved} index moves, {time.perf_counter() - start:.0f} s",
              flush=True)
        for f in failures:
            print("   ", f)
    sys.exit(1 if total else 0)


if __name__ == "__main__":
    main()
