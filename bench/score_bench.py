"""Benchmark of the score stages: read → validate → dedupe → score on a large responses file.

Generates N responses over M units (not timed), then times each stage and the whole of
`hailong.score.pipeline.score` (which also writes the four data files), and prints wall time, CPU
time and peak memory. Target (issue 2): 1,000,000 responses over 10,600 units under 10 s with
peak memory under 2 GiB on the 2-core build machine.

    .venv/bin/python bench/score_bench.py [--responses N] [--units M] [--questions Q] [--seed S]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.ingest.responses import csv_bytes, read_responses  # noqa: E402
from hailong.layout import Layout  # noqa: E402
from hailong.score.dedupe import dedupe  # noqa: E402
from hailong.score.pipeline import score  # noqa: E402
from hailong.score.scoring import rank_units  # noqa: E402
from hailong.score.signals.run import find_signals  # noqa: E402
from hailong.score.validate import validate  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

BLOCKS = ["tiep-can", "thu-tuc", "cong-chuc", "ket-qua", "phan-anh"]


def write_survey(folder: Path, units: int, questions: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        'id = "bench"', 'title = "Khảo sát đo tốc độ"', "year = 2024",
        'respondent_types = ["individual", "organization"]',
        "[window]", 'start = "2024-06-01"', 'end = "2024-06-30"',
    ]
    for i, b in enumerate(BLOCKS):
        lines += ["[[blocks]]", f'id = "{b}"', f'title = "Khối {i + 1}"', f"weight = {1 + i % 2}"]
    for q in range(questions):
        lines += ["[[questions]]", f'id = "q{q + 1}"', f'block = "{BLOCKS[q % len(BLOCKS)]}"',
                  f'text = "Câu hỏi {q + 1}"']
    lines += ["[[questions]]", 'id = "gop_y"', f'block = "{BLOCKS[0]}"', 'text = "Góp ý"',
              'type = "text"']
    (folder / "survey.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes = "\n".join(f"U{i:05d},Xã số {i}" for i in range(units))
    (folder / "units.csv").write_text("code,name\n" + codes + "\n", encoding="utf-8")


def write_responses(path: Path, n: int, units: int, questions: int, seed: int) -> None:
    """Realistic enough: 2% resubmissions (replays), 1% device repeats, 0.5% invalid rows."""
    rng = np.random.default_rng(seed)
    unit = rng.integers(0, units, n)
    codes = np.char.add("U", np.char.zfill(unit.astype(str), 5)).astype(object)
    # a few codes as people type them: lower case, padded
    odd = rng.random(n) < 0.01
    codes[odd] = np.char.lower(codes[odd].astype(str)).astype(object)
    seconds = np.sort(rng.integers(0, 30 * 86400, n)) + 1717174800  # 2024-06-01 00:00 +07:00
    stamps = (np.datetime64("1970-01-01T07:00:00") + seconds.astype("timedelta64[s]"))
    submitted = np.char.add(np.datetime_as_string(stamps, unit="s").astype(str), "+07:00")
    rid = np.char.add("r", np.arange(n).astype(str))
    replay = rng.random(n) < 0.02
    rid[replay] = np.char.add("r", np.maximum(np.arange(n)[replay] - 5, 0).astype(str))
    device = np.char.add("d", rng.integers(0, int(n * 0.99), n).astype(str))
    rtype = np.where(rng.random(n) < 0.6, "individual", "organization")
    columns = {
        "submitted_at": submitted, "response_id": rid, "survey_id": np.full(n, "bench"),
        "unit_code": codes.astype(str), "respondent_type": rtype,
        "respondent_key": np.full(n, ""), "device_id": device, "ticket": np.full(n, ""),
        "started_at": submitted,
    }
    quality = rng.random(units) * 0.5 + 0.4  # each unit's chance of a satisfied answer
    for q in range(questions):
        p = quality[unit]
        answer = np.where(rng.random(n) < p, rng.integers(4, 6, n), rng.integers(1, 4, n))
        answer[rng.random(n) < 0.05] = 0
        text = answer.astype(str)
        text[answer == 0] = ""
        columns[f"q{q + 1}"] = text
    bad = rng.random(n) < 0.005
    columns["q1"][bad] = "7"
    columns["gop_y"] = np.full(n, "")
    columns["comment"] = np.full(n, "")
    table = pa.table({k: pa.array(v.tolist() if v.dtype == object else v) for k, v in columns.items()})
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--questions", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate_only:
        write_responses(args.generate_only, args.responses, args.units, args.questions, args.seed)
        return

    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        folder = Path(tmp) / "bench"
        write_survey(folder, args.units, args.questions)
        raw = Path(tmp) / "raw.csv"
        t = time.perf_counter()
        # generated in a child process so its arrays do not count in this process's peak memory
        subprocess.run([sys.executable, __file__, "--generate-only", str(raw),
                        "--responses", str(args.responses), "--units", str(args.units),
                        "--questions", str(args.questions), "--seed", str(args.seed)], check=True)
        size = raw.stat().st_size / 2**20
        print(f"generated {args.responses:,} responses over {args.units:,} units, "
              f"{args.questions} scale questions: {size:.0f} MiB ({time.perf_counter() - t:.1f} s, not timed)")
        survey = load_survey(folder)
        base_mib = peak_mib()

        stages = []

        def timed(name, fn, *a):
            w, c = time.perf_counter(), time.process_time()
            result = fn(*a)
            stages.append((name, time.perf_counter() - w, time.process_time() - c))
            return result

        read = timed("read", read_responses, raw, survey)
        valid, quarantine = timed("validate", validate, read.frame, survey)
        kept, duplicates = timed("dedupe", dedupe, valid, survey)
        ranking = timed("score", rank_units, kept, survey)
        timed("signals", find_signals, kept[survey.response_columns], survey)
        total_wall = sum(s[1] for s in stages)
        total_cpu = sum(s[2] for s in stages)
        for name, wall, cpu in stages:
            print(f"  {name:<9} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
        print(f"  {'total':<9} {total_wall:6.2f} s wall  {total_cpu:6.2f} s CPU  "
              f"(read {read.rows_read:,}: {len(kept):,} accepted, {len(quarantine):,} quarantined, "
              f"{len(duplicates):,} duplicates; {int(ranking['ranked'].sum()):,} units ranked)")
        stages_mib = peak_mib()
        print(f"  peak memory of the four stages (ru_maxrss): {stages_mib:,.0f} MiB")

        # the other parts of pipeline.score, timed alone to show where its time goes
        out = Path(tmp) / "out"
        accepted = kept[survey.response_columns]
        w, c = time.perf_counter(), time.process_time()
        csv_bytes(accepted)
        print(f"  responses.csv text ({len(accepted):,} rows): {time.perf_counter() - w:.2f} s wall, "
              f"{time.process_time() - c:.2f} s CPU")
        try:
            from hailong.score.participation import write_reports
        except ImportError:
            write_reports = None
        if write_reports is not None:
            w, c = time.perf_counter(), time.process_time()
            write_reports(survey, Layout(Path(tmp) / "part", survey.id), accepted)
            print(f"  participation.write_reports: {time.perf_counter() - w:.2f} s wall, "
                  f"{time.process_time() - c:.2f} s CPU")
        del read, valid, quarantine, kept, duplicates, ranking, accepted

        w, c = time.perf_counter(), time.process_time()
        summary = score(survey, out, responses=raw)
        print(f"pipeline.score with file writing: {time.perf_counter() - w:.2f} s wall, "
              f"{time.process_time() - c:.2f} s CPU")
        print(f"  {summary}")
        print(f"peak memory (ru_maxrss) including pipeline.score: {peak_mib():,.0f} MiB "
              f"(before reading: {base_mib:,.0f} MiB)")
        target = total_wall < 10 and stages_mib < 2048
        print(f"target (read+validate+dedupe+score < 10 s wall, < 2 GiB): "
              f"{'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
