"""Fail safe before publishing (issue 9, part 4): a run that would replace the published
ranking with a much worse informed one stops with one line and leaves the site byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from results_fixture import ANSWERS, response_rows, scored_survey, write_responses

from hailong import jobs
from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.publish.pages import publish
from hailong.score.pipeline import score
from hailong.survey import keycheck
from hailong.survey.load import load_survey

ROOT = Path(__file__).resolve().parents[1]
KEY = "a-test-key-that-is-long-enough-0123456789"


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def few() -> dict:
    return {"X05": ANSWERS["X05"], "X04": ANSWERS["X04"]}  # 9 of the 46 responses


@pytest.fixture
def published(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    publish(survey, out)
    return survey, out


def test_publish_refuses_a_ranking_on_under_half_the_responses(published, tmp_path):
    survey, out = published
    site = tree(out / "site")
    score(survey, out, responses=write_responses(tmp_path / "few.csv", response_rows(few())))
    with pytest.raises(HailongError, match=r"rest on 9 valid responses, fewer than 0.5 times the 46 of the published release; not published.*--force"):
        publish(survey, out)
    assert tree(out / "site") == site
    assert "9 responses" in publish(survey, out, force=True)
    assert tree(out / "site") != site


def test_more_than_half_is_published(published, tmp_path):
    survey, out = published
    most = {k: v for k, v in ANSWERS.items() if k != "X05"}  # 43 of 46
    score(survey, out, responses=write_responses(tmp_path / "most.csv", response_rows(most)))
    assert "43 responses" in publish(survey, out)


def test_the_threshold_is_a_survey_setting(tmp_path):
    toml = SMALL_TOML.replace("[window]", "[publish]\nmin_share = 0\n\n[window]")
    survey, out, _ = scored_survey(tmp_path, toml=toml)
    publish(survey, out)
    score(survey, out, responses=write_responses(tmp_path / "few.csv", response_rows(few())))
    assert "9 responses" in publish(survey, out)  # 0: never refuse


def test_weekly_stops_before_history_and_site(published, tmp_path, monkeypatch):
    survey, out = published
    site, layout = tree(out / "site"), Layout(out, survey.id)
    write_responses(layout.raw_csv, response_rows(few()))
    monkeypatch.setattr(jobs, "pull", lambda s, o: "")  # the sheet lost most of its rows
    with pytest.raises(HailongError, match="--force"):
        jobs.weekly(survey, out)
    assert tree(out / "site") == site and not layout.history.exists()
    jobs.weekly(survey, out, force=True)
    assert layout.history.exists() and tree(out / "site") != site


def test_a_changed_signing_key_stops_score_before_it_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
    survey, out, _ = scored_survey(tmp_path, toml=toml)  # fake tickets: all quarantined
    layout = Layout(out, survey.id)
    layout.tickets.mkdir(parents=True)
    (layout.tickets / keycheck.KEY_CHECK).write_text(keycheck.key_check(KEY.encode()) + "\n")
    publish(survey, out, force=True)
    write_responses(layout.raw_csv, response_rows())
    monkeypatch.setattr(jobs, "pull", lambda s, o: "")
    site, data = tree(out / "site"), tree(layout.data)
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY + "-another")
    with pytest.raises(HailongError, match=r"tickets/key-check.txt: the current HAILONG_SIGNING_KEY is"):
        jobs.weekly(survey, out, force=True)  # --force does not cover a wrong key
    assert tree(out / "site") == site and tree(layout.data) == data


def test_a_changed_key_of_personal_links_stops_score_too(tmp_path, monkeypatch):
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
    survey = load_survey(write_survey(tmp_path / "r", toml=toml, roster_csv="id,name,unit_code\nH1,HTX,X01\n"))
    out = tmp_path / "out"
    layout = Layout(out, survey.id)
    layout.links.mkdir(parents=True)
    (layout.links / keycheck.KEY_CHECK).write_text(keycheck.key_check(KEY.encode()) + "\n")
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY + "-another")
    with pytest.raises(HailongError, match="links/key-check.txt"):
        score(survey, out, responses=write_responses(tmp_path / "r.csv", response_rows({"X01": [("5", "5", "5")]})))
    assert not layout.data.exists()


def test_cli_exits_non_zero_with_one_line(published, tmp_path):
    survey, out = published
    score(survey, out, responses=write_responses(tmp_path / "few.csv", response_rows(few())))
    site = tree(out / "site")
    done = subprocess.run([sys.executable, "-m", "hailong", "publish", str(survey.path), "--out", str(out)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "--force" in done.stderr
    assert tree(out / "site") == site
