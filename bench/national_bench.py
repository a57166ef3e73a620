"""Benchmark: a national example survey over the real communes and wards (34 provinces, 3,321
units in force since 1 July 2025, from PyPI `vietnam-provinces`), each province collecting
through its own Apps Script web app (units.csv collector_url) and spreadsheet.

Times, each as the real command does it: `build` (the survey pages), `qr --no-posters` (the
QR kit), `capacity`, `score` on a million generated answers over a year, and `publish`; and
checks that every unit page posts to its province's web app and that no published page is
over 1 MB.

    .venv/bin/python bench/national_bench.py [--responses N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import score_bench  # noqa: E402

BASE_URL = "https://khaosat.example.gov.vn"


def national_units() -> tuple[str, list[str], list[str]]:
    """(units.csv text, unit codes, spreadsheet ids): one web app and sheet per province."""
    import vietnam_provinces as vp

    provinces = {int(p.code): p for p in vp.Province.iter_all()}
    text = io.StringIO()
    lines = csv.writer(text, lineterminator="\n")
    lines.writerow(["code", "name", "parent", "collector_url"])
    codes = []
    for ward in vp.Ward.iter_all():
        province = provinces[int(ward.province_code)]
        slug = province.codename.replace("_", "-")
        code = f"{int(ward.code):05d}"
        codes.append(code)
        lines.writerow([code, ward.name, province.name,
                        f"https://script.google.com/macros/s/AKfyc-{slug}/exec"])
    sheets = [f"sheet-{p.codename.replace('_', '-')}" for p in provinces.values()]
    return text.getvalue(), codes, sheets


def write_national(folder: Path, questions: int) -> tuple[list[str], list[str]]:
    score_bench.write_survey(folder, 1, questions)  # the toml; units.csv replaced below
    units, codes, sheets = national_units()
    toml = (folder / "survey.toml").read_text("utf-8").replace('id = "bench"', 'id = "quoc-gia"')
    toml = toml.replace('title = "Khảo sát đo tốc độ"',
                        'title = "Khảo sát mức độ hài lòng toàn quốc"')
    toml += ('[collector]\nkind = "apps_script"\nurl = ""\n[sheets]\nspreadsheet_id = ['
             + ", ".join(f'"{s}"' for s in sheets) + "]\n")
    (folder / "survey.toml").write_text(toml, encoding="utf-8")
    (folder / "units.csv").write_text(units, encoding="utf-8")
    return codes, sheets


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
    ap.add_argument("--questions", type=int, default=15)
    ap.add_argument("--keep", type=Path, help="keep the survey and output here")
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
        folder, out = tmp / "quoc-gia", tmp / "out"
        codes, sheets = write_national(folder, args.questions)
        survey = load_survey(folder)
        provinces = len({u.parent for u in survey.units})
        print(f"national survey: {len(survey.units):,} communes and wards in {provinces} provinces, "
              f"{len(sheets)} web apps and spreadsheets")
        timed("build (survey pages)", build, [survey], out, base_url=BASE_URL)
        page = (out / "site" / survey.id / "u" / survey.units[0].code / "index.html").read_text("utf-8")
        action = re.search(r'<form[^>]* action="([^"]+)"', page).group(1)
        assert action == survey.units[0].collector_url, action
        timed("qr --no-posters (SVG + PNG)", make_qr_kit, survey, out, BASE_URL, posters=False)
        print("  capacity: " + capacity(survey, args.responses, 365).splitlines()[-1])
        raw = tmp / "raw.csv"
        t = time.perf_counter()
        score_bench.write_responses(raw, args.responses, len(codes), args.questions, 1, codes=codes,
                                    survey_id=survey.id)
        print(f"  generated {args.responses:,} answers over 365 days "
              f"({time.perf_counter() - t:.0f} s, not timed)")
        summary = timed("score", score, survey, out, responses=raw)
        print("    " + summary.splitlines()[0])
        assert " 0 accepted" not in summary, summary
        timed("publish", publish, survey, out)
        results = Layout(out, survey.id).results
        biggest = max(results.rglob("*.html"), key=lambda p: p.stat().st_size)
        print(f"  largest results page: {biggest.stat().st_size / 1e6:.2f} MB "
              f"({biggest.relative_to(results)}); peak memory "
              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
