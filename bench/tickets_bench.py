"""Benchmark of tickets: signing (`hailong tickets`) and checking them in `score`'s validate.

Makes N tickets over M units and the window's days (timed: signing), then validates N response
rows of a tickets survey that carry them (timed: the ticket check is a Python loop over rows,
one HMAC-SHA256 each), and prints rows per second. Ticket surveys are one-stop offices: a
province's busiest week is some 100,000 answers.

    .venv/bin/python bench/tickets_bench.py [--responses N] [--units M]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.score.validate import validate  # noqa: E402
from hailong.survey import tickets  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

KEY = "bN4-qX8vRt2YwZ6pLk0sJh3mGc9fDe7a"  # a strong key: weak ones are refused
START = dt.date(2024, 6, 10)
DAYS = 5


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ["HAILONG_SIGNING_KEY"] = KEY
    n, m = args.responses, args.units
    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as work:
        folder = Path(work) / "ve"
        folder.mkdir()
        (folder / "survey.toml").write_text(
            'id = "ve"\ntitle = "Khảo sát đo tốc độ"\naccess = "tickets"\n[window]\n'
            f'start = "{START}"\nend = "{START + dt.timedelta(days=DAYS - 1)}"\n'
            '[[blocks]]\nid = "a"\ntitle = "Khối"\n[[questions]]\nid = "q1"\nblock = "a"\n'
            'text = "Câu hỏi"\n', encoding="utf-8")
        (folder / "units.csv").write_text("code,name\n" + "".join(f"U{i:04d},Xã {i}\n" for i in range(m)),
                                          encoding="utf-8")
        survey = load_survey(folder)
        started = time.perf_counter()
        rows = []
        for i in range(n):
            unit, day = f"U{i % m:04d}", START + dt.timedelta(days=(i // m) % DAYS)
            serial = i // (m * DAYS) + 1
            rows.append((unit, day, tickets.sign(survey.id, unit, day, serial, KEY.encode())))
        signing = time.perf_counter() - started
        frame = pd.DataFrame({
            "submitted_at": [f"{d}T09:00:00+07:00" for _, d, _ in rows],
            "response_id": [f"r{i}" for i in range(n)], "survey_id": "ve",
            "unit_code": [u for u, _, _ in rows], "respondent_type": "", "respondent_key": "",
            "device_id": "", "ticket": [t for _, _, t in rows], "started_at": "", "q1": "4",
            "comment": ""}, dtype="str")
        started = time.perf_counter()
        valid, quarantine = validate(frame, survey)
        checking = time.perf_counter() - started
    assert len(valid) == n and quarantine.empty
    print(f"tickets: signed {n:,} in {signing:.2f} s ({n / signing:,.0f}/s); validated {n:,} rows "
          f"of a tickets survey ({m} units, {DAYS} days) in {checking:.2f} s ({n / checking:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
