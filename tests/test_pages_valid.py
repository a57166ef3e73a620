"""Every built page is valid HTML by the Nu HTML Checker (vnu-jar from npm, run on Java):
the whole demo site (district scale: survey, results and staff pages), and at national
scale (3,321 units, 10,000 pages) every page type, the summary, all 34 province pages of
the results and of the staff pages, and a spread of unit and survey pages. Not all 10,000:
the checker reads about 5 pages a second on a shared CI core, so all of them would take over
half an hour; the unit pages come from one template and differ only in their figures and
names, so the sample includes the longest name and an unranked unit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sites import demo_site, national_site, once, pages

ROOT = Path(__file__).resolve().parent.parent
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def nu_errors(files: list[Path]) -> list[str]:
    """The checker's errors, one line each: file, line and message."""
    java = shutil.which("java")
    if not java or not VNU.exists():
        message = "the Nu HTML Checker needs Java and node_modules/vnu-jar (npm install)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs both: missing there is a real failure
        pytest.skip(message)
    run = subprocess.run([java, "-Xss8m", "-jar", str(VNU), "--errors-only", "--format", "json",
                          *map(str, files)], capture_output=True, text=True, timeout=1800)
    report = json.loads(run.stderr)
    errors = [f"{m.get('url', '').rsplit('/site/', 1)[-1]}:{m.get('lastLine')}: {m['message']}"
              for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    assert run.returncode == (1 if errors else 0), run.stderr[-2000:]
    return errors


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tmp_path_factory.getbasetemp()


def test_the_whole_demo_site_is_valid(base):
    _, out = once(base, "site-demo", demo_site)
    files = sorted((out / "site").rglob("*.html"))
    assert len(files) > 40
    assert nu_errors(files) == []


def test_a_national_site_is_valid(base):
    survey, out = once(base, "site-national", national_site)
    site = out / "site" / survey.id
    results, staff = site / "ket-qua", site / "tien-do"
    files = set(pages(survey, out, "national").values())
    files |= set(results.glob("tinh/*/index.html")) | set(staff.glob("tinh/*/index.html"))
    files |= {site / "index.html", site / "cam-on" / "index.html", out / "site" / "index.html"}
    files |= set(list((site / "dia-ban").glob("*/index.html"))[:5])
    units = [u.code for u in survey.units]
    for code in units[:: max(1, len(units) // 25)]:  # 25 units spread over the provinces
        files |= {results / code / "index.html", site / "u" / code / "index.html"}
    assert len(files) > 100
    assert nu_errors(sorted(files)) == []


def test_a_tickets_survey_is_valid(tmp_path):
    """A tickets survey's pages carry the ticket field (its style once sat inside the form:
    50 errors, one per page)."""
    from hailong.collect.build import build_site
    from hailong.survey.load import load_survey

    survey = load_survey(ROOT / "surveys" / "pks02-2024-ve")
    assert survey.access == "tickets"
    build_site([survey], tmp_path / "out")
    site = tmp_path / "out" / "site"
    files = sorted((site / survey.id).rglob("index.html"))[:60] + [site / "index.html"]
    assert any("i-ticket" in f.read_text("utf-8") for f in files)
    assert nu_errors(files) == []
