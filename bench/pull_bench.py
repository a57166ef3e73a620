"""Benchmark: pull 500,000 rows x 25 columns from the fake Sheets server.

Prints the requests made, the time and the peak memory of the pulling process, then pulls again
with nothing new. Targets (issue 4): under 30 s, at most 30 requests, peak memory under 1.5 GiB;
a pull with nothing new: 1 request. The fake server runs in its own process, so its memory and
CPU for building answers are not counted as the pull's memory.

    .venv/bin/python bench/pull_bench.py [--rows N]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hailong.ingest.rawstore import RawStore  # noqa: E402
from hailong.ingest.sheets import pull_sheets  # noqa: E402
from hailong.layout import Layout  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

QUESTIONS = 15  # 9 meta columns + 15 answers + comment = 25 columns


def write_survey(folder: Path, spreadsheet_id: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    questions = "".join(
        f'\n[[questions]]\nid = "q{i}"\nblock = "b"\ntext = "Câu hỏi {i}"\n' for i in range(1, QUESTIONS + 1)
    )
    (folder / "survey.toml").write_text(
        'id = "bench"\ntitle = "Khảo sát đo tốc độ"\n'
        '[window]\nstart = "2024-06-12"\nend = "2024-06-14"\n'
        f'[sheets]\nspreadsheet_id = "{spreadsheet_id}"\n'
        '[[blocks]]\nid = "b"\ntitle = "Khối"\n' + questions, "utf-8")
    (folder / "units.csv").write_text("code,name\nX01,Xã 1\nX02,Xã 2\nX03,Xã 3\n", "utf-8")
    return folder


def ask(server: subprocess.Popen, line: str) -> str:
    server.stdin.write(line + "\n")
    server.stdin.flush()
    return server.stdout.readline().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "fake_sheets.py"), "--rows", str(args.rows),
         "--questions", str(QUESTIONS), "--spreadsheet-id", "bench-sheet"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        os.environ["SHEETS_API_ENDPOINT"] = url
        os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
        with tempfile.TemporaryDirectory() as tmp:
            survey = load_survey(write_survey(Path(tmp) / "bench", "bench-sheet"))
            out = Path(tmp) / "out"
            layout = Layout(out, survey.id)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            t0 = time.perf_counter()
            summary = pull_sheets(survey, out, RawStore(layout, survey.response_columns))
            elapsed = time.perf_counter() - t0
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            requests = int(ask(server, "count"))
            with open(layout.raw_csv, encoding="utf-8") as fh:
                lines = sum(1 for _ in fh) - 1
            ask(server, "reset")
            t1 = time.perf_counter()
            pull_sheets(survey, out, RawStore(layout, survey.response_columns))
            again = time.perf_counter() - t1
            requests_again = int(ask(server, "count"))
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    print(summary.splitlines()[0])
    print(f"rows in raw.csv:               {lines:,} (sheet: {args.rows:,} x 25 columns)")
    print(f"full pull:                     {elapsed:.1f} s, {requests} requests "
          f"(target < 30 s, <= 30 requests)")
    print(f"peak memory of the pull:       {peak_kib / 1024:.0f} MiB "
          f"(before the pull {before / 1024:.0f} MiB; target < 1536 MiB)")
    print(f"pull with nothing new:         {again:.2f} s, {requests_again} request(s) (target 1)")


if __name__ == "__main__":
    main()
