"""Benchmark of `hailong publish`: the results pages for many units.

Generates a survey of M units (hailong.demo.generate.generate_units) and answers for it, scores them
(not timed), then times `publish` and prints wall time, peak memory, the number of pages and the
size of the ranking page (what a phone on 3G has to load).

    .venv/bin/python bench/publish_bench.py [--units M] [--per-unit K]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.demo.generate import generate_units, units_csv  # noqa: E402
from hailong.layout import Layout  # noqa: E402
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--per-unit", type=int, default=12)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "survey"
        folder.mkdir()
        questions = "".join(
            f'[[questions]]\nid = "q{i}"\nblock = "{"tiep-can" if i <= 5 else "ket-qua"}"\n'
            f'text = "Câu hỏi số {i}"\n' for i in range(1, 11))
        (folder / "survey.toml").write_text(TOML + questions, encoding="utf-8")
        (folder / "units.csv").write_text(units_csv(generate_units(args.units)), encoding="utf-8")
        survey = load_survey(folder)
        path = Path(tmp) / "responses.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["submitted_at", "response_id", "unit_code", *(f"q{i}" for i in range(1, 11))])
            k = 0
            for u, p in zip(survey.units, rng.uniform(0.4, 0.95, len(survey.units)), strict=True):
                for _ in range(int(rng.integers(3, 2 * args.per_unit))):
                    k += 1
                    answers = np.where(rng.random(10) < p, rng.integers(4, 6, 10), rng.integers(1, 4, 10))
                    w.writerow(["2024-06-12T09:00:00+07:00", f"r{k}", u.code, *answers])
        out = Path(tmp) / "out"
        score(survey, out, responses=path)
        start = time.perf_counter()
        cpu = time.process_time()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(publish(survey, out))
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        results = Layout(out, survey.id).results
        pages = sum(1 for _ in results.rglob("index.html"))
        size = (results / "index.html").stat().st_size
        biggest = max(results.rglob("*.html"), key=lambda p: p.stat().st_size)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"units {len(survey.units)}, responses {k}: publish {wall:.1f} s wall, {cpu:.1f} s CPU (with its page workers), "
              f"peak memory {peak:.0f} MiB (whole process), {pages} pages, "
              f"ranking page {size / 1e6:.2f} MB, largest page {biggest.stat().st_size / 1e6:.2f} MB "
              f"({biggest.relative_to(results)})")
        ok = wall < 15 and biggest.stat().st_size < 1e6
        print(f"target (issue 10: publish under 15 s, no page over 1 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
