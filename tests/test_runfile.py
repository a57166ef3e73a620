"""hailong.score.runfile: run.json, written last by score, removed first; `vouch` for fixtures."""

from __future__ import annotations

import hashlib
import json

from results_fixture import scored_survey

from hailong.csvtext import digest
from hailong.layout import Layout
from hailong.score.runfile import DATA_FILES, RUN_FILE, forget, vouch


def test_vouch_describes_the_files_that_are_there(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    layout = Layout(out, survey.id)
    scored = json.loads(layout.data_file(RUN_FILE).read_text("utf-8"))
    # a hand edit, then vouched for: the new bytes, the old D, a new id
    ranking = layout.data_file("ranking.csv")
    ranking.write_bytes(ranking.read_bytes().replace(b"Xu\xe1\xba\xa5t s\xe1\xba\xafc", b"Xuat sac"))
    layout.data_file("responses.csv").unlink()
    doc = json.loads(vouch(survey, out).read_text("utf-8"))
    assert doc["design_effect"] == scored["design_effect"] and doc["id"] != scored["id"]
    assert "responses.csv" not in doc["files"]
    assert list(doc["files"]) == [n for n in DATA_FILES if layout.data_file(n).exists()]
    for name, entry in doc["files"].items():
        assert (entry["records"], entry["sha256"]) == digest(layout.data_file(name))
    assert doc["files"]["ranking.csv"]["sha256"] == hashlib.sha256(ranking.read_bytes()).hexdigest()
    assert json.loads(vouch(survey, out, design_effect=2.5).read_text("utf-8"))["design_effect"] == 2.5


def test_score_hashes_while_writing_what_a_reader_finds(tmp_path):
    """The streamed files' records and SHA-256 in run.json are what reading them back gives."""
    survey, out, _ = scored_survey(tmp_path)
    layout = Layout(out, survey.id)
    doc = json.loads(layout.data_file(RUN_FILE).read_text("utf-8"))
    for name, entry in doc["files"].items():
        assert (entry["records"], entry["sha256"]) == digest(layout.data_file(name)), name


def test_a_file_an_earlier_run_left_is_removed_not_listed(tmp_path):
    """completion.csv of a roster run, then the survey scored as open: it is no part of the
    new set, so score removes it (publish would otherwise show another run's figures)."""
    survey, out, _ = scored_survey(tmp_path)
    layout = Layout(out, survey.id)
    stale = layout.data_file("completion.csv")
    stale.write_text("\ufeffunit_code,district,eligible,answered,percent\nX01,,3,1,33.33\n",
                     encoding="utf-8")
    scored_survey(tmp_path, out=out)
    assert not stale.exists()
    assert "completion.csv" not in json.loads(layout.data_file(RUN_FILE).read_text("utf-8"))["files"]


def test_forget_removes_run_json_and_does_not_mind_its_absence(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    layout = Layout(out, survey.id)
    forget(layout)
    assert not layout.data_file(RUN_FILE).exists()
    forget(layout)
