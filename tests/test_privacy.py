"""The published results hold aggregates only: no respondent key, device id, token, response id,
timestamp of a single response, or free text of the input appears in any page or download."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from results_fixture import scored_survey

from hailong.layout import Layout
from hailong.publish import publish

SECRET_COLUMNS = ["response_id", "respondent_key", "device_id", "ticket", "submitted_at",
                  "started_at", "comment"]


def published_texts(site_dir: Path) -> dict[str, str]:
    """Every published file as text; an .xlsx is opened and each part inside it read."""
    texts = {}
    for path in sorted(site_dir.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    texts[f"{path}!{name}"] = z.read(name).decode("utf-8", "replace")
        else:
            texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    return texts


def secrets_of(rows: list[dict], text_columns: list[str]) -> set[str]:
    found = set()
    for row in rows:
        for column in [*SECRET_COLUMNS, *text_columns]:
            value = (row.get(column) or "").strip()
            if value:
                found.add(value)
    return found


def hits(texts: dict[str, str], secrets: set[str]) -> list[str]:
    return [f"{secret!r} in {name}" for name, text in texts.items() for secret in secrets
            if secret in text]


def test_nothing_individual_is_published(tmp_path):
    survey, out, rows = scored_survey(tmp_path)
    publish(survey, out)
    text_questions = [q.id for q in survey.questions if q.type == "text"]
    secrets = secrets_of(rows, text_questions)
    assert len(secrets) > 5 * len(rows)  # every row brought its own keys, ids, times and texts
    texts = published_texts(Layout(out, survey.id).results)
    assert any(name.endswith("ranking.xlsx!xl/worksheets/sheet1.xml") for name in texts)
    assert hits(texts, secrets) == []
    # the scan itself works: the accepted responses file does hold them
    accepted = Layout(out, survey.id).data_file("responses.csv").read_text("utf-8")
    assert sum(secret in accepted for secret in secrets) > len(rows)


def test_demo_site_publishes_nothing_individual(tmp_path):
    pytest.importorskip("hailong.demo")
    from hailong.demo import DEFAULT_SURVEY, run_demo
    from hailong.survey import load_survey

    out = tmp_path / "demo"
    run_demo(out)
    survey = load_survey(DEFAULT_SURVEY)
    layout = Layout(out, survey.id)
    with open(layout.raw_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    secrets = secrets_of(rows, [q.id for q in survey.questions if q.type == "text"])
    assert sum(1 for r in rows if r["comment"].strip()) > 0  # the demo does write comments
    assert len(secrets) > 3 * len(rows)
    assert hits(published_texts(layout.results), secrets) == []
