"""Benchmark of `hailong publish`: the results pages for many units.

Generates a survey of M units (hailong.demo.generate.generate_units) and answers for it, scores them
(not timed), then times `publish` and prints its wall and CPU time (with its page workers), the
wall and CPU time of the withholding check inside it (withhold.plan), peak memory, the number of
pages, the size of the ranking page (what a phone on 3G has to load), the machine's load, and
whether issue 10's target is met.

    .venv/bin/python bench/publish_bench.py [--units M] [--per-unit K] [--keep DIR] [--profile]

--keep DIR keeps the generated, scored survey in DIR and reuses it on the next run (scoring
10,600 units takes longer than publishing them); --profile prints where publish's own process
spends its time (cProfile; the page workers are not in it).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.demo.generate import generate_units, units_csv  # noqa: E402
from hailong.layout import Layout  # noqa: E402
from hailong.publish import results  # noqa: E402
from hailong.publish.pages import publish  # noqa: E402
from hailong.score.pipeline import score  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

TOML = """\
id = "bench-publish"
title = "Khảo sát đo tốc độ trang kết quả"
year = 2024
[window]
start = "2024-06-12"
end = "2024-06-14"
[[blocks]]
id = "tiep-can"
title = "Tiếp cận dịch vụ"
[[blocks]]
id = "ket-qua"
title = "Kết quả giải quyết"
"""
TARGET_S = 15
MAX_PAGE = 1e6


def prepare(root: Path, units: int, per_unit: int):
    """The survey folder and its scored output under `root` (made once: kept when it exists)."""
    folder, out = root / "survey", root / "out"
    stamp = root / f"scored-{units}-{per_unit}"
    if stamp.exists():
        return load_survey(folder), out, int(stamp.read_text())
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    questions = "".join(
        f'[[questions]]\nid = "q{i}"\nblock = "{"tiep-can" if i <= 5 else "ket-qua"}"\n'
        f'text = "Câu hỏi số {i}"\n' for i in range(1, 11))
    (folder / "survey.toml").write_text(TOML + questions, encoding="utf-8")
    (folder / "units.csv").write_text(units_csv(generate_units(units)), encoding="utf-8")
    survey = load_survey(folder)
    path = root / "responses.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["submitted_at", "response_id", "unit_code", *(f"q{i}" for i in range(1, 11))])
        k = 0
        for u, p in zip(survey.units, rng.uniform(0.4, 0.95, len(survey.units)), strict=True):
            for _ in range(int(rng.integers(3, 2 * per_unit))):
                k += 1
                answers = np.where(rng.random(10) < p, rng.integers(4, 6, 10), rng.integers(1, 4, 10))
                w.writerow(["2024-06-12T09:00:00+07:00", f"r{k}", u.code, *answers])
    score(survey, out, responses=path)
    stamp.write_text(str(k))
    return survey, out, k


def timed_plan():
    """Wrap withhold.plan (as results.published calls it) to add up its wall and CPU time."""
    spent = {"wall": 0.0, "cpu": 0.0}
    original = results.withhold.plan

    def plan(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            return original(*args, **kwargs)
        finally:
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            spent["wall"] += time.perf_counter() - start
            spent["cpu"] += (time.process_time() - cpu + (after.ru_utime + after.ru_stime)
                             - (before.ru_utime + before.ru_stime))

    results.withhold.plan = plan
    return spent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--per-unit", type=int, default=12)
    ap.add_argument("--keep", type=Path, help="keep the scored survey here and reuse it")
    ap.add_argument("--profile", action="store_true", help="print where publish spends its time")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        survey, out, k = prepare(root, args.units, args.per_unit)
        spent = timed_plan()
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        cpu = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        if args.profile:
            import cProfile
            import pstats
            with cProfile.Profile() as prof:
                message = publish(survey, out)
            pstats.Stats(prof).sort_stats("cumtime").print_stats(40)
        else:
            message = publish(survey, out)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        print(message)
        results_dir = Layout(out, survey.id).results
        pages = sum(1 for _ in results_dir.rglob("index.html"))
        size = (results_dir / "index.html").stat().st_size
        biggest = max(results_dir.rglob("*.html"), key=lambda p: p.stat().st_size)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"units {len(survey.units)}, responses {k}: publish {wall:.1f} s wall, {cpu:.1f} s CPU "
              f"(with its page workers); of which the withholding check {spent['wall']:.1f} s wall, "
              f"{spent['cpu']:.1f} s CPU; peak memory {peak:.0f} MiB (whole process), {pages} pages, "
              f"ranking page {size / 1e6:.2f} MB, largest page {biggest.stat().st_size / 1e6:.2f} MB "
              f"({biggest.relative_to(results_dir)})")
        print(f"machine: {os.cpu_count()} cores, load average {load_before:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after (other work on the machine slows the wall time)")
        ok = wall < TARGET_S and biggest.stat().st_size < MAX_PAGE
        print(f"target (issue 10: publish under {TARGET_S} s, no page over 1 MB): "
              f"{'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
