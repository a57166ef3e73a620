"""The national survey end to end under the Windows-like process model (`make
test-windows-like`): build, the QR kit with its A4 posters, score and publish of the 3,321
communes and wards, with no fork anywhere (the pools spawn). Skipped in the ordinary run,
which covers the same code under fork."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
WINDOWS_LIKE = os.environ.get("HAILONG_WINDOWS_LIKE") == "1"
pytestmark = pytest.mark.windows_like  # conftest deselects these outside that run


def test_no_fork_here_nor_in_the_processes_started():
    assert not hasattr(os, "fork") and not hasattr(os, "killpg")
    assert multiprocessing.get_all_start_methods() == ["spawn"]
    code = ("import os, multiprocessing as m; from hailong import procpool; "
            "print(hasattr(os, 'fork'), m.get_start_method(), procpool.start_method())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "spawn", "spawn"]


def test_national_survey_build_qr_posters_score_publish(tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    import score_bench

    from hailong.collect.kit import make_qr_kit
    from hailong.jobs import build
    from hailong.layout import Layout
    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    survey = load_survey(ROOT / "surveys" / "sipas-toan-quoc-2026")
    assert len(survey.units) > 3000
    out = tmp_path / "out"
    base = "https://khaosat.example.gov.vn"
    build([survey], out, base_url=base)  # a pool of spawned workers: 3,321 pages
    layout = Layout(out, survey.id)
    assert all(layout.unit_page(u.code).is_file() for u in survey.units)
    make_qr_kit(survey, out, base, posters=True)  # spawned QR workers, a browser per batch
    assert len(list(layout.qr.glob("*.png"))) == len(survey.units)
    assert len(PdfReader(layout.qr / "posters.pdf").pages) == len(survey.units)
    raw = tmp_path / "raw.csv"
    days = len(survey.days())
    start = dt.datetime.combine(survey.start, dt.time(), survey.tz).timestamp()
    score_bench.write_responses(raw, 60_000, len(survey.units), 0, 1,
                                codes=[u.code for u in survey.units], survey_id=survey.id,
                                form=score_bench.Form.of(survey), start=int(start), days=days)
    assert " 0 accepted" not in score(survey, out, responses=raw)
    publish(survey, out)  # unit pages and withholding in spawned pools
    pages = list(layout.results.rglob("index.html"))
    assert len(pages) > len(survey.units)
