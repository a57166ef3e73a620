"""Whole built sites for the page tests: the district-scale demo and the national example.

`demo_site(out)` runs `hailong demo` (surveys/sipas-xa-2020 with generated answers and an
earlier year, so the ranking shows changes). `national_site(out)` builds, scores and publishes
surveys/sipas-toan-quoc-2026 (3,321 units in 34 provinces) on generated answers, and writes
its staff progress pages. Each returns (survey, out); the tests make them once a session.
"""

from __future__ import annotations

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
