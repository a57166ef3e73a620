"""Whole built sites for the page tests: the district-scale demo and the national example.

`demo_site(out)` runs `hailong demo` (surveys/sipas-xa-2020 with generated answers and an
earlier year, so the ranking shows changes). `national_site(out)` builds, scores and publishes
surveys/sipas-toan-quoc-2026 (3,321 units in 34 provinces) on generated answers, and writes
its staff progress pages. Each returns (survey, out); the tests make them once a session.
"""

from __future__ import annotations

import csv
import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIONAL = ROOT / "surveys" / "sipas-toan-quoc-2026"
NATIONAL_RESPONSES = 60_000  # about 18 a unit: most units ranked, some not, as in the field


def demo_site(out: Path):
    from hailong.demo.run import DEFAULT_SURVEY, run_demo
    from hailong.field.progress import progress_report
    from hailong.survey.load import load_survey

    run_demo(out)
    survey = load_survey(DEFAULT_SURVEY)
    progress_report(survey, out, day=survey.end, fmt="html", refresh=False)
    return survey, out


def national_site(out: Path, responses: int = NATIONAL_RESPONSES):
    sys.path.insert(0, str(ROOT / "bench"))
    import score_bench

    from hailong.field.progress import progress_report
    from hailong.jobs import build
    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    survey = load_survey(NATIONAL)
    build([survey], out, base_url="https://khaosat.example.gov.vn")
    raw = out / "raw-national.csv"
    start = dt.datetime.combine(survey.start, dt.time(), survey.tz).timestamp()
    score_bench.write_responses(raw, responses, len(survey.units), 0, 1,
                                codes=[u.code for u in survey.units], survey_id=survey.id,
                                form=score_bench.Form.of(survey), start=int(start),
                                days=len(survey.days()))
    score(survey, out, responses=raw)
    publish(survey, out)
    progress_report(survey, out, day=survey.end, fmt="html", refresh=False)
    return survey, out


def once(base: Path, name: str, make) -> tuple:
    """make(out) run once per test session (base: the session's temporary folder), however
    many test modules ask: a marker file says the site is complete."""
    from hailong.survey.load import load_survey

    out = base / name
    done = out / ".complete"
    if not done.exists():
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        survey, _ = make(out)
        done.write_text(str(survey.path), encoding="utf-8")
    return load_survey(Path(done.read_text(encoding="utf-8"))), out


def pages(survey, out: Path, scale: str) -> dict[str, Path]:
    """One page of every type, by name: what the fit and symbol tests measure at each scale."""
    from hailong.layout import Layout

    layout = Layout(out, survey.id)
    results, site = layout.results, out / "site"
    ranking = list(csv.DictReader(open(results / "ranking.csv", encoding="utf-8-sig")))
    ranked = [r for r in ranking if r["ranked"] == "true"]
    unranked = [r for r in ranking if r["ranked"] != "true"]
    # the area with the most units (its page is the largest), and the unit with the longest name
    biggest = max((results / "tinh").iterdir(), key=lambda p: (p / "index.html").stat().st_size)
    longest = max(ranking, key=lambda r: len(r["unit_name"]))
    found = {
        "ranking": results / "index.html",
        "area": biggest / "index.html",
        "unit": results / ranked[0]["unit_code"] / "index.html",
        "unit-longest-name": results / longest["unit_code"] / "index.html",
        "method": results / "phuong-phap" / "index.html",
        "staff": layout.staff / "index.html",
        "survey": site / survey.id / "u" / longest["unit_code"] / "index.html",
        "landing": site / survey.id / "index.html",
        "home": site / "index.html",
    }
    area_pages = sorted((site / survey.id / "dia-ban").glob("*/index.html"))
    if area_pages:  # a landing page split by area (a national survey)
        found["landing-area"] = area_pages[0]
    found["thanks"] = site / survey.id / "cam-on" / "index.html"
    if unranked:
        found["unit-unranked"] = results / unranked[0]["unit_code"] / "index.html"
    staff_areas = sorted((layout.staff / "tinh").glob("*/index.html"), key=lambda p: -p.stat().st_size)
    if staff_areas:
        found["staff-area"] = staff_areas[0]
    return {f"{scale}:{k}": v for k, v in found.items()}
