"""The commands as a user runs them: `python -m hailong …` and `python scripts/….py …` in a
temporary folder. Errors are one line on stderr with a non-zero exit, never a traceback."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey

from hailong.collect.localsheet import append_row
from hailong.demo.generate import generate_responses
from hailong.layout import Layout
from hailong.survey.load import load_survey

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path, ok: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def hailong(*args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    return run("-m", "hailong", *args, cwd=cwd, ok=ok)


def script(name: str, *args: str, cwd: Path, ok: bool = True) -> subprocess.CompletedProcess:
    return run(str(ROOT / "scripts" / name), *args, cwd=cwd, ok=ok)


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hailong: error: ")
    for w in words:
        assert w in lines[0]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_help(tmp_path):
    done = hailong("--help", cwd=tmp_path)
    for verb in ("qr", "build", "pull", "score", "publish", "weekly", "serve", "demo"):
        assert verb in done.stdout
    assert "Usage: hailong score" in hailong("score", "--help", cwd=tmp_path).stdout
    assert "--responses" in script("score.py", "--help", cwd=tmp_path).stdout
    assert "SURVEY_DIR" in script("pull_responses.py", "--help", cwd=tmp_path).stdout


@pytest.mark.parametrize("verb", ["pull", "score", "publish", "weekly"])
def test_missing_survey_folder(tmp_path, verb):
    done = hailong(verb, "no-such-survey", cwd=tmp_path, ok=False)
    assert_one_line_error(done, "no-such-survey: no such survey folder")


def test_scripts_report_errors_the_same_way(tmp_path):
    assert_one_line_error(script("score.py", "nowhere", cwd=tmp_path, ok=False), "no such survey folder")
    assert_one_line_error(script("pull_responses.py", "nowhere", cwd=tmp_path, ok=False),
                          "no such survey folder")


def test_broken_survey_files(tmp_path):
    write_survey(tmp_path / "s", toml=SMALL_TOML.replace("year = 2024", "yaer = 2024"))
    assert_one_line_error(hailong("pull", "s", cwd=tmp_path, ok=False),
                          "survey.toml: unknown key 'yaer'; did you mean 'year'?")
    write_survey(tmp_path / "s", units="code,name\nX01,A\nX01,B\n")
    assert_one_line_error(script("score.py", "s", cwd=tmp_path, ok=False),
                          "units.csv row 3, column 'code': duplicate code 'X01' (also on row 2)")
    (tmp_path / "s" / "units.csv").write_bytes(b"code,name\nX01,X\xe3 A\n")
    assert_one_line_error(hailong("score", "s", cwd=tmp_path, ok=False), "units.csv line 2: not UTF-8")


def test_score_before_any_pull_and_missing_responses_file(tmp_path):
    write_survey(tmp_path / "s")
    assert_one_line_error(script("score.py", "s", cwd=tmp_path, ok=False), "raw.csv")
    assert_one_line_error(script("score.py", "s", "--responses", "nope.csv", cwd=tmp_path, ok=False),
                          "nope.csv")


def test_out_that_is_a_file(tmp_path):
    write_survey(tmp_path / "s")
    (tmp_path / "o").write_text("not a folder", "utf-8")
    assert_one_line_error(hailong("pull", "s", "--out", "o", cwd=tmp_path, ok=False), "o/thu-nghiem")


def test_usage_errors_exit_non_zero_without_traceback(tmp_path):
    for args in (["no-such-verb"], ["score"], ["sample", "s"]):
        done = hailong(*args, cwd=tmp_path, ok=False)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("hailong: error: ")
        assert "--help" in lines[0]


def test_pull_and_score_as_a_user_would(tmp_path):
    write_survey(tmp_path / "s")
    survey = load_survey(tmp_path / "s")
    first = hailong("pull", "s", "--out", "o", cwd=tmp_path).stdout
    assert first.startswith("no answers yet")
    rows = generate_responses(survey, seed=5)
    sheet = Layout(tmp_path / "o", survey.id).sheet_csv
    for row in rows:
        append_row(sheet, survey.response_columns, row)
    out = script("pull_responses.py", "s", "--out", "o", cwd=tmp_path).stdout
    assert out.startswith(f"pulled {len(rows)} new rows (total {len(rows)})")
    assert hailong("pull", "s", "--out", "o", cwd=tmp_path).stdout.startswith("pulled 0 new rows")
    script("score.py", "s", "--out", "o", cwd=tmp_path)
    data = tmp_path / "o" / survey.id / "data"
    accepted, quarantined, duplicates = (csv_rows(data / f) for f in (
        "responses.csv", "quarantine.csv", "duplicates.csv"))
    assert len(accepted) + len(quarantined) + len(duplicates) == len(rows)
    assert len(quarantined) >= 3 and len(duplicates) >= 2
    ranking = csv_rows(data / "ranking.csv")
    assert [r["unit_code"] for r in ranking if r["ranked"] == "false"]  # the unit short of answers
    assert {r["unit_code"] for r in ranking} == {u.code for u in survey.units}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RESTORE_SIGINT = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
                  "runpy.run_module('hailong', run_name='__main__', alter_sys=True)")


def test_serve_takes_a_post_then_pull_finds_it(tmp_path):
    # open today: serve refuses answers outside the survey's window
    import datetime as dt

    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    window = f'start = "{today - dt.timedelta(days=1)}"\nend = "{today + dt.timedelta(days=1)}"'
    write_survey(tmp_path / "s", SMALL_TOML.replace('start = "2024-06-12"\nend = "2024-06-14"', window))
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    # Ctrl-C's default restored in the child: a runner that starts the tests in the background
    # of a shell without job control hands every child SIGINT ignored, and Python then keeps
    # it ignored (this test then timed out waiting for the server to stop)
    proc = subprocess.Popen([sys.executable, "-c", RESTORE_SIGINT, "serve", "s", "--out", "o",
                             "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner
        body = json.dumps({"survey_id": "thu-nghiem", "unit_code": "X02", "q1": "5", "q3": "4"})
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/responses",
                                         data=body.encode(), headers={"Content-Type": "text/plain"})
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as resp:
                    answer = json.loads(resp.read())
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert answer["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=20)
    assert "Traceback" not in stderr
    assert "stopped" in stdout
    assert hailong("pull", "s", "--out", "o", cwd=tmp_path).stdout.startswith("pulled 1 new rows")
    raw = csv_rows(tmp_path / "o" / "thu-nghiem" / "data" / "raw.csv")
    assert raw[0]["response_id"] == answer["response_id"] and raw[0]["q1"] == "5"


def test_serve_on_a_busy_port(tmp_path):
    write_survey(tmp_path / "s")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        done = hailong("serve", "s", "--port", str(s.getsockname()[1]), cwd=tmp_path, ok=False)
    assert_one_line_error(done, "cannot listen on 127.0.0.1", "--port")


needs_pipeline = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("hailong.collect.build", "hailong.publish.pages", "hailong.jobs")),
    reason="build/publish/weekly are not in this tree yet",
)


@needs_pipeline
def test_demo_on_a_small_survey(tmp_path):
    write_survey(tmp_path / "s")
    done = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path)
    page = tmp_path / "o" / "site" / "thu-nghiem" / "ket-qua" / "index.html"
    assert str(Path("o") / "site" / "thu-nghiem" / "ket-qua" / "index.html") in done.stdout
    assert page.exists()
    again = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path)  # repeatable
    assert again.stdout.splitlines()[-6:] == done.stdout.splitlines()[-6:]


DEMO_REFUSAL = "the demo would overwrite work that it did not make"


@needs_pipeline
def test_demo_does_not_clear_answers_it_did_not_make(tmp_path):
    write_survey(tmp_path / "s")
    survey = load_survey(tmp_path / "s")
    sheet = Layout(tmp_path / "o", survey.id).sheet_csv
    append_row(sheet, survey.response_columns, {"response_id": "real-answer", "unit_code": "X01"})
    done = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path, ok=False)
    assert_one_line_error(done, DEMO_REFUSAL, "sheet.csv", "--out output/demo")
    assert "real-answer" in sheet.read_text("utf-8")


@needs_pipeline
def test_demo_again_keeps_an_answer_posted_after_the_first_demo(tmp_path):
    """make demo, then a real answer through `hailong serve`'s append, then make demo again."""
    write_survey(tmp_path / "s")
    survey = load_survey(tmp_path / "s")
    hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path)
    sheet = Layout(tmp_path / "o", survey.id).sheet_csv
    append_row(sheet, survey.response_columns, {"response_id": "real-answer", "unit_code": "X01"})
    done = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path, ok=False)
    assert_one_line_error(done, DEMO_REFUSAL, "sheet.csv: changed since the demo wrote it")
    assert "real-answer" in sheet.read_text("utf-8")


@needs_pipeline
def test_demo_does_not_replace_real_qr_codes_or_site(tmp_path):
    write_survey(tmp_path / "s")
    survey = load_survey(tmp_path / "s")
    layout = Layout(tmp_path / "o", survey.id)
    (layout.qr).mkdir(parents=True)
    (layout.qr / "X01.svg").write_text("<svg/>", "utf-8")
    done = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path, ok=False)
    assert_one_line_error(done, DEMO_REFUSAL, "qr", "--out")
    assert (layout.qr / "X01.svg").exists()
    (layout.qr / "X01.svg").unlink()
    layout.qr.rmdir()
    layout.root.rmdir()
    (layout.survey_site / "ket-qua").mkdir(parents=True)  # results published for real
    done = hailong("demo", "--survey", "s", "--out", "o", cwd=tmp_path, ok=False)
    assert_one_line_error(done, DEMO_REFUSAL, "ket-qua", "--out")


def test_units_and_new_from_the_command_line(tmp_path):
    done = hailong("units", "--province", "ha tinh", cwd=tmp_path)
    assert "69" in done.stdout and (tmp_path / "units.csv").exists()
    bad = hailong("units", "--province", "Ha Tinhh", "--out-file", "x.csv", cwd=tmp_path, ok=False)
    assert bad.returncode == 1 and "did you mean 'Hà Tĩnh'" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.csv").exists()
    hailong("new", "s-2026", "--template", "pks02", "--province", "Hà Tĩnh", cwd=tmp_path)
    assert len(load_survey(tmp_path / "s-2026").units) == 69
