"""`hailong deploy` and `weekly --deploy` as cron runs them: the site goes out only after pull,
score and publish succeeded; any failure is one line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import write_survey
from site_fixture import tree
from test_cli import assert_one_line_error, hailong

from hailong.collect.localsheet import append_row
from hailong.demo.generate import generate_responses
from hailong.layout import Layout
from hailong.survey.load import load_survey

FOLDER = '[deploy.web]\nkind = "folder"\ndest = "www"\n'


def answered_survey(tmp_path: Path):
    write_survey(tmp_path / "s")
    survey = load_survey(tmp_path / "s")
    sheet = Layout(tmp_path / "o", survey.id).sheet_csv
    for row in generate_responses(survey, seed=3):
        append_row(sheet, survey.response_columns, row)
    (tmp_path / "hailong.toml").write_text(FOLDER, encoding="utf-8")
    return survey


def test_weekly_deploy_publishes_then_sends(tmp_path):
    survey = answered_survey(tmp_path)
    # answers in the local sheet: a public --base-url is refused (go-live check), a preview is not
    hailong("build", "s", "--out", "o", cwd=tmp_path)
    done = hailong("weekly", "s", "--out", "o", "--deploy", cwd=tmp_path)
    assert "deployed release 0001-" in done.stdout.splitlines()[-1]
    live = tree(tmp_path / "www" / "current")
    assert live == tree(tmp_path / "o" / "site")
    assert f"{survey.id}/ket-qua/index.html" in live
    assert f"{survey.id}/u/X01/index.html" in live
    again = hailong("weekly", "s", "--out", "o", "--deploy", cwd=tmp_path).stdout
    assert "nothing changed" in again or "0002-" in again


def test_weekly_deploy_sends_nothing_when_a_stage_fails(tmp_path):
    answered_survey(tmp_path)
    hailong("build", "s", "--out", "o", cwd=tmp_path)
    toml = tmp_path / "s" / "survey.toml"
    # the sheet now lives in Google Sheets, and this machine has no key: the pull fails
    toml.write_text(toml.read_text() + '\n[collector]\nkind = "apps_script"\n'
                    'url = "https://script.google.com/macros/s/x/exec"\n'
                    '[sheets]\nspreadsheet_id = "1AbC"\n', encoding="utf-8")
    env_key = os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    try:
        done = hailong("weekly", "s", "--out", "o", "--deploy", cwd=tmp_path, ok=False)
    finally:
        if env_key is not None:
            os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = env_key
    assert_one_line_error(done)
    assert not (tmp_path / "www").exists()


def test_a_wrong_hailong_toml_fails_before_the_pull(tmp_path):
    survey = answered_survey(tmp_path)
    (tmp_path / "hailong.toml").write_text('[deploy.web]\nkind = "folder"\n', encoding="utf-8")
    done = hailong("weekly", "s", "--out", "o", "--deploy", cwd=tmp_path, ok=False)
    assert_one_line_error(done, "'dest' is missing")
    assert not Layout(tmp_path / "o", survey.id).raw_csv.exists()
    done = hailong("weekly", "s", "--out", "o", "--target", "web", cwd=tmp_path, ok=False)
    assert_one_line_error(done, "--deploy")
    assert not Layout(tmp_path / "o", survey.id).raw_csv.exists()


def test_deploy_verb_errors_and_rollback(tmp_path):
    answered_survey(tmp_path)
    assert_one_line_error(hailong("deploy", "--out", "o", cwd=tmp_path, ok=False), "--rollback")
    assert_one_line_error(hailong("deploy", "no-such-survey", cwd=tmp_path, ok=False),
                          "no-such-survey")
    assert "deploy" in hailong("--help", cwd=tmp_path).stdout
    assert_one_line_error(hailong("deploy", "s", "--out", "o", cwd=tmp_path, ok=False),
                          "no site to deploy yet")
    assert_one_line_error(hailong("deploy", "s", "--config", "x.toml", cwd=tmp_path, ok=False),
                          "configuration file", "not found")
    assert_one_line_error(hailong("deploy", "s", "--target", "tinh", cwd=tmp_path, ok=False),
                          "no target 'tinh'")
    hailong("build", "s", "--out", "o", cwd=tmp_path)
    hailong("deploy", "s", "--out", "o", cwd=tmp_path)
    before = (tmp_path / "www" / "current" / "index.html").read_bytes()
    hailong("weekly", "s", "--out", "o", cwd=tmp_path)  # results: the index now links to them
    assert "0002-" in hailong("deploy", "s", "--out", "o", cwd=tmp_path).stdout
    assert (tmp_path / "www" / "current" / "index.html").read_bytes() != before
    assert "back to release 0001-" in hailong("deploy", "--rollback", "--out", "o", cwd=tmp_path).stdout
    assert (tmp_path / "www" / "current" / "index.html").read_bytes() == before
    # a page edited by hand since build wrote it: nothing goes out
    (tmp_path / "o" / "site" / "index.html").write_text("mới", encoding="utf-8")
    assert_one_line_error(hailong("deploy", "s", "--out", "o", cwd=tmp_path, ok=False),
                          "changed since hailong wrote it")


def test_every_target_kind_takes_the_default_relative_out(tmp_path):
    """From the folder the commands run in, with the default `--out output` (relative), as the
    README shows: git, rsync and folder targets (git once failed on a relative path)."""
    survey = answered_survey(tmp_path)
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "site.git")], check=True)
    (tmp_path / "hailong.toml").write_text(
        '[deploy.g]\nkind = "git"\nrepo = "site.git"\n'
        '[deploy.r]\nkind = "rsync"\ndest = "www-r"\n'
        '[deploy.f]\nkind = "folder"\ndest = "www-f"\n', encoding="utf-8")
    shutil.copytree(tmp_path / "o", tmp_path / "output")  # the local sheet, where serve puts it
    hailong("build", "s", cwd=tmp_path)
    hailong("weekly", "s", cwd=tmp_path)
    for name in "grf":
        done = hailong("deploy", "s", "--target", name, cwd=tmp_path)
        assert done.returncode == 0 and "output/site/output" not in done.stdout
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "gh-pages", str(tmp_path / "site.git"), str(clone)],
                   check=True)
    sent = tree(tmp_path / "www-f" / "current")
    assert tree(tmp_path / "www-r" / "current") == sent
    assert {k: v for k, v in tree(clone).items() if k != ".nojekyll"} == sent
    assert f"{survey.id}/ket-qua/ranking.json" in sent
