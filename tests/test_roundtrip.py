"""Whatever text arrives, sheet -> pull -> score gives back the same cells and the same count.

Contract v2, end of section 5. Both sheets: the embedded local sheet and a Google Sheet (the
real client against the fake server)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from fake_sheets import FakeSheets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.cells import restore
from hailong.collect.localsheet import append_row
from hailong.csvtext import clean
from hailong.ingest.pull import pull
from hailong.ingest.responses import read_responses
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

SPECIAL = st.sampled_from(["\r", "\n", "\r\n", "\n\n", '"', '""', ",", "\t", "\x00", "\x01",
                           "\x0b", "\x0c", "\x1e", "\x85", "\u2028", "\u2029", "\ufeff",
                           "\ud800", "\udfff", " ", "submitted_at", "dòng một\rdòng hai"])
TEXT = st.lists(st.characters() | SPECIAL, max_size=12).map("".join)
TEXT_COLUMNS = ("response_id", "gop_y", "comment", "device_id", "respondent_key", "started_at",
                "ticket")  # kept as read in every file (others are normalised when accepted)
ANSWERS = st.lists(st.tuples(*(TEXT for _ in TEXT_COLUMNS)), min_size=1, max_size=8)


def expected(text: str) -> str:
    return unicodedata.normalize("NFC", clean(text))


def rows_of(answers) -> list[dict[str, str]]:
    rows = []
    for i, cells in enumerate(answers):
        row = {"submitted_at": f"2024-06-12T08:{i:02d}:00+07:00", "survey_id": "thu-nghiem",
               "unit_code": "X01", "q1": "4", "q3": "5", **dict(zip(TEXT_COLUMNS, cells, strict=True))}
        row["response_id"] = f"r{i}-{row['response_id']}"  # distinct, so no row is a replay
        rows.append(row)
    return rows


def scored_cells(survey, out: Path) -> dict[str, tuple[str, ...]]:
    """Every row score wrote, accepted, quarantined or a duplicate, by response_id."""
    layout = Layout(out, survey.id)
    found: dict[str, tuple[str, ...]] = {}
    for name in ("responses.csv", "quarantine.csv", "duplicates.csv"):
        result = read_responses(layout.data_file(name), survey)
        assert len(result.malformed) == 0, name
        for row in result.frame[list(TEXT_COLUMNS)].itertuples(index=False):
            assert restore(row[0]) not in found, row[0]
                        # written formula-safe (hailong.cells); read back, it is the text sent
            row = tuple(restore(c) for c in row)
            found[row[0]] = row
    return found


def check(survey, out: Path, rows: list[dict[str, str]]) -> None:
    pull(survey, out)
    summary = score(survey, out)
    assert summary.startswith(f"read {len(rows)} rows"), summary
    want = {expected(r["response_id"]): tuple(expected(r[c]) for c in TEXT_COLUMNS) for r in rows}
    assert scored_cells(survey, out) == want, summary


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS)
def test_local_sheet_pull_score_round_trip(tmp_path_factory, answers):
    root = tmp_path_factory.mktemp("local")
    survey = load_survey(write_survey(root / "survey"))
    out = root / "out"
    rows = rows_of(answers)
    for row in rows:
        append_row(Layout(out, survey.id).sheet_csv, survey.response_columns, row)
    check(survey, out, rows)


@pytest.fixture(scope="module")
def fake():
    with FakeSheets() as server:
        yield server


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS)
def test_google_sheet_pull_score_round_trip(tmp_path_factory, monkeypatch, fake, answers):
    root = tmp_path_factory.mktemp("google")
    book = root.name
    toml = SMALL_TOML + f'\n[collector]\nkind = "apps_script"\nurl = "https://script.google.com/x/exec"\n' \
        f'\n[sheets]\nspreadsheet_id = {json.dumps(book)}\n'
    survey = load_survey(write_survey(root / "survey", toml=toml))
    rows = rows_of(answers)
    columns = survey.response_columns
    fake.add_spreadsheet(book, {"Responses": [columns, *([r.get(c, "") for c in columns] for r in rows)]})
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("SHEETS_API_ENDPOINT", fake.url)
    check(survey, root / "out", rows)
