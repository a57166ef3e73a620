"""Benchmark: the shipped national example survey `surveys/sipas-toan-quoc-2026`: every commune
and ward (34 provinces, 3,321 units in force since 1 July 2025), each province collecting
through its own Apps Script web app (units.csv collector_url) and spreadsheet.

Times, each as the real command does it: `build` (the survey pages), `qr` (the QR kit: SVG and
PNG, and the A4 posters unless --no-posters), `capacity`, `score` on a million generated answers
over the survey's window, and `publish`; and checks that every unit page posts to its
province's web app and that no published page is over 1 MB.

    .venv/bin/python bench/national_bench.py [--responses N] [--no-posters] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import score_bench  # noqa: E402

BASE_URL = "https://khaosat.example.gov.vn"
SURVEY = ROOT / "surveys" / "sipas-toan-quoc-2026"


def _cpu() -> float:
    """CPU seconds of this process and its finished worker processes (build, qr, publish)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(what: str, fn, *args, **kwargs):
    w, c = time.perf_counter(), _cpu()
    result = fn(*args, **kwargs)
    print(f"  {what:<44} {time.perf_counter() - w:7.1f} s wall {_cpu() - c:7.1f} s CPU")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=1_000_000)
    ap.add_argument("--no-posters", action="store_true", help="the QR kit without the posters")
    ap.add_argument("--keep", type=Path, help="keep the output here")
    args = ap.parse_args()
    from hailong.collect.capacity import capacity
    from hailong.collect.kit import make_qr_kit
    from hailong.jobs import build
    from hailong.layout import Layout
    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    tmp = Path(tempfile.mkdtemp(prefix="hailong-national-"))
    try:
        out = tmp / "out"
        survey = load_survey(SURVEY)
        provinces = len({u.parent for u in survey.units})
        apps = len({u.collector_url for u in survey.units})
        print(f"national survey {survey.id}: {len(survey.units):,} communes and wards in "
              f"{provinces} provinces, {apps} web apps, "
              f"{len(survey.sheets.spreadsheet_ids)} spreadsheets")
        timed("build (survey pages)", build, [survey], out, base_url=BASE_URL)
        site = out / "site" / survey.id / "u"
        for unit in survey.units:
            page = (site / unit.code / "index.html").read_text("utf-8")
            action = re.search(r'<form[^>]* action="([^"]+)"', page).group(1)
            assert action == unit.collector_url, (unit.code, action)
        print(f"  every unit page posts to its province's web app ({len(survey.units):,} checked)")
        what = "qr --no-posters (SVG + PNG)" if args.no_posters else "qr (SVG + PNG + A4 posters)"
        timed(what, make_qr_kit, survey, out, BASE_URL, posters=not args.no_posters)
        days = len(survey.days())
        print("  capacity: " + capacity(survey, args.responses, days).splitlines()[-1])
        raw = tmp / "raw.csv"
        t = time.perf_counter()
        start = dt.datetime.combine(survey.start, dt.time(), survey.tz).timestamp()
        score_bench.write_responses(raw, args.responses, len(survey.units), 0, 1,
                                    codes=[u.code for u in survey.units], survey_id=survey.id,
                                    form=score_bench.Form.of(survey), start=int(start), days=days)
        print(f"  generated {args.responses:,} answers over the {days} days of the window "
              f"({time.perf_counter() - t:.0f} s, not timed)")
        summary = timed("score", score, survey, out, responses=raw)
        print("    " + summary.splitlines()[0])
        assert " 0 accepted" not in summary, summary
        timed("publish", publish, survey, out)
        results = Layout(out, survey.id).results
        biggest = max(results.rglob("*.html"), key=lambda p: p.stat().st_size)
        print(f"  largest results page: {biggest.stat().st_size / 1e6:.2f} MB "
              f"({biggest.relative_to(results)}); peak memory of this process (the answers' "
              f"generator included) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
