"""Benchmark: the QR kit as staff run it, `hailong qr SURVEY --base-url URL --out DIR`, on a
fresh output folder (issue 26: QR, PNG and PDF through libraries).

- province kit: 200 units of the shipped national survey (sipas-toan-quoc-2026), posters
  included (SVG + PNG per unit, posters.pdf and one poster PDF per unit); target < 20 s;
- national kit: all 3,321 units of that survey, `--no-posters`; target < 60 s.

Each is one run of the real command in a new process (start-up included), wall time against
its target, with the CPU it used; the load average before each run is printed, since the
machine may be shared (CPU seconds then say more than wall time).

    .venv/bin/python bench/kit_bench.py [--only province|national] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SURVEY = ROOT / "surveys" / "sipas-toan-quoc-2026"
BASE_URL = "https://khaosat.example.gov.vn"
PROVINCE_UNITS = 200
TARGETS = {"province": 20.0, "national": 60.0}


def survey_copy(folder: Path, units: int | None = None) -> Path:
    """The national survey, its first `units` units only (all when None), with its window moved
    to start today: `qr` with a public address refuses to print for a window that is over."""
    folder.mkdir(parents=True)
    today = dt.date.today()
    toml = (SURVEY / "survey.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^start = "[0-9-]+"', f'start = "{today}"', toml, count=1)
    toml = re.sub(r'(?m)^end = "[0-9-]+"', f'end = "{today + dt.timedelta(days=60)}"', toml, count=1)
    (folder / "survey.toml").write_text(toml, encoding="utf-8")
    lines = (SURVEY / "units.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "units.csv").write_text("".join(lines[:None if units is None else units + 1]),
                                      encoding="utf-8")
    return folder


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run_kit(survey_dir: Path, out: Path, posters: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one `hailong qr`; the CPU is the command's and that of every
    process it waited for (its pool's workers, the Chromiums printing the posters)."""
    command = [sys.executable, "-m", "hailong", "qr", str(survey_dir), "--base-url", BASE_URL,
               "--out", str(out)] + ([] if posters else ["--no-posters"])
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HAILONG_LANG": "en"}
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"hailong qr failed: {done.stderr.strip()}")
    for line in done.stdout.strip().splitlines():
        print(f"    {line}")
    return wall, cpu


def report(name: str, what: str, wall: float, cpu: float) -> bool:
    target = TARGETS[name]
    verdict = "OK" if wall < target else "OVER"
    print(f"{what:<48} {wall:6.1f} s wall, {cpu:6.1f} s CPU   (target < {target:.0f} s) {verdict}")
    return wall < target


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TARGETS))
    parser.add_argument("--keep", type=Path, help="keep the output here")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="hailong-kit-"))
    ok = True
    try:
        if args.only in (None, "province"):
            survey_dir = survey_copy(work / "province", PROVINCE_UNITS)
            print(f"province kit: {PROVINCE_UNITS} units with posters, load average "
                  f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
            wall, cpu = run_kit(survey_dir, work / "out-province", posters=True)
            posters = list((work / "out-province").rglob("posters/*.pdf"))
            assert len(posters) == PROVINCE_UNITS, len(posters)
            ok &= report("province", f"TOTAL qr, {PROVINCE_UNITS} units + posters, cold", wall, cpu)
        if args.only in (None, "national"):
            survey_dir = survey_copy(work / "national")
            units = sum(1 for _ in (survey_dir / "units.csv").open(encoding="utf-8")) - 1
            print(f"national kit: {units:,} units without posters, load average "
                  f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
            wall, cpu = run_kit(survey_dir, work / "out-national", posters=False)
            pngs = list((work / "out-national").rglob("qr/*.png"))
            assert len(pngs) == units, len(pngs)
            ok &= report("national", f"TOTAL qr --no-posters, {units:,} units, cold", wall, cpu)
        if args.keep:
            shutil.copytree(work, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
