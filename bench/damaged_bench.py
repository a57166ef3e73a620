"""Benchmark: peak memory and time of `score` on damaged input (issue 13, item 4).

Two files, each scored in a fresh process whose peak resident memory is read from the OS:
- a responses file of about --size-mb MB with 10% damaged lines (a quote that never closes,
  a missing or extra cell, bytes that are not UTF-8) and 1% rows with a huge comment
  (100 KB to 1 MB of Vietnamese text);
- a small file with a single --cell-mb MB cell.
Target: peak memory within about twice the file size on any input (a cell far over the
collectors' 2,000 characters quarantines its row as malformed instead of being carried along).

    .venv/bin/python bench/damaged_bench.py [--size-mb 300] [--cell-mb 64] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = 10
HEADER = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
          "respondent_key", "device_id", "ticket", "started_at",
          *(f"q{i + 1}" for i in range(QUESTIONS)), "comment"]
WORDS = "Cán bộ tiếp dân nhiệt tình, thủ tục nhanh gọn; chỗ ngồi chờ còn chật".split()


def write_survey(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['id = "hong"', 'title = "Khảo sát dữ liệu hỏng"', "year = 2024",
             "[window]", 'start = "2024-06-01"', 'end = "2024-06-30"',
             "[[blocks]]", 'id = "b"', 'title = "Khối"']
    for q in range(QUESTIONS):
        lines += ["[[questions]]", f'id = "q{q + 1}"', 'block = "b"', f'text = "Câu {q + 1}"']
    (folder / "survey.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    units = "\n".join(f"U{i:03d},Xã số {i}" for i in range(200))
    (folder / "units.csv").write_text("code,name\n" + units + "\n", encoding="utf-8")


def _row(rng: random.Random, i: int, comment: str) -> str:
    cells = [f"2024-06-{1 + i % 28:02d}T08:{i % 60:02d}:00+07:00", f"r{i}", "hong",
             f"U{i % 200:03d}", "individual", "", f"d{i}", "", ""]
    cells += [str(rng.randint(1, 5)) for _ in range(QUESTIONS)]
    cells.append('"' + comment.replace('"', '""') + '"' if comment else "")
    return ",".join(cells)


def _huge(rng: random.Random, size: int) -> str:
    piece = (" ".join(rng.choice(WORDS) for _ in range(64)) + "\n").encode("utf-8")
    return (piece * (size // len(piece) + 1))[:size].decode("utf-8", "ignore")


def write_damaged(path: Path, size_mb: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    target = size_mb << 20
    counts = {"rows": 0, "damaged": 0, "huge": 0}
    with open(path, "wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        written = 0
        i = 0
        while written < target:
            i += 1
            roll = rng.random()
            comment = rng.choice(WORDS) if rng.random() < 0.3 else ""
            if roll < 0.01:
                comment = _huge(rng, rng.randint(100_000, 1_000_000))
                counts["huge"] += 1
            line = _row(rng, i, comment)
            if 0.01 <= roll < 0.11:
                counts["damaged"] += 1
                kind = rng.randrange(3)
                if kind == 0:
                    line = line.replace(",individual,", ',"individual,', 1)  # never closes
                elif kind == 1:
                    line = line.rsplit(",", 1)[0]  # a cell short
            data = line.encode("utf-8") + b"\n"
            if 0.01 <= roll < 0.11 and kind == 2:
                data = data.replace(b"individual", b"indiv\xffdual", 1)  # not UTF-8
            fh.write(data)
            written += len(data)
            counts["rows"] += 1
    return counts


def write_one_cell(path: Path, cell_mb: int) -> None:
    rng = random.Random(0)
    with open(path, "wb") as fh:
        fh.write((",".join(HEADER) + "\n").encode())
        fh.write((_row(rng, 1, "") + "\n").encode())
        fh.write((_row(rng, 2, _huge(rng, cell_mb << 20)) + "\n").encode())
        fh.write((_row(rng, 3, "bình thường") + "\n").encode())


RUN = """
import sys, time
sys.path.insert(0, {root!r})
from hailong.score.pipeline import score
from hailong.survey.load import load_survey
t = time.perf_counter()
print(score(load_survey({survey!r}), {out!r}, responses={path!r}).splitlines()[0])
print(f"{{time.perf_counter() - t:.1f}}")
"""


def measure(survey: Path, path: Path, out: Path) -> tuple[str, float, float]:
    """(score's summary, seconds, peak MiB) of one score run in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = RUN.format(root=str(ROOT), survey=str(survey), out=str(out), path=str(path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=3600)
    if done.returncode:
        raise SystemExit(done.stderr)
    summary, seconds = done.stdout.strip().splitlines()[-2:]
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        print("  (peak below an earlier run's; run this case alone for its figure)")
    return summary, float(seconds), peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--cell-mb", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        survey = tmp / "survey"
        write_survey(survey)
        cases = []
        if args.cell_mb:
            one = tmp / "one-cell.csv"
            write_one_cell(one, args.cell_mb)
            cases.append((f"one {args.cell_mb} MB cell", one))
        if args.size_mb:
            damaged = tmp / "damaged.csv"
            t = time.perf_counter()
            counts = write_damaged(damaged, args.size_mb, args.seed)
            print(f"generated {damaged.stat().st_size / 2**20:.0f} MiB: {counts['rows']:,} rows, "
                  f"{counts['damaged']:,} damaged, {counts['huge']:,} with a huge cell "
                  f"({time.perf_counter() - t:.1f} s, not timed)")
            cases.append(("10% damaged, 1% huge cells", damaged))
        for name, path in cases:  # the smaller case first: ru_maxrss only ever grows
            size = path.stat().st_size / 2**20
            summary, seconds, peak = measure(survey, path, tmp / "out")
            print(f"{name}: {size:.0f} MiB file -> {seconds:.1f} s, peak {peak:.0f} MiB "
                  f"({peak / size:.1f}x the file); {summary}")


if __name__ == "__main__":
    main()
