"""publish renders one score run's set or nothing (contract v3, section 4; issue 20).

Each damaged set is refused with one line naming the file (and line and column where there is
one), and the published site stays byte for byte as it was. Damage is tried twice: as it
happens (the file no longer matches run.json), and vouched for by a fresh run.json (as if score
itself had written the bad figures), which the range and agreement checks must then catch.
Last, `hailong score` is killed at random moments and publish either refuses or renders one
run's complete set, never a mix.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from results_fixture import ANSWERS, response_rows, scored_survey, write_responses

from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.publish.dataset import RunInfo, verify
from hailong.publish.pages import publish
from hailong.score.pipeline import score
from hailong.score.runfile import DATA_FILES, vouch

ROOT = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture
def published(tmp_path):
    survey, out, _ = scored_survey(tmp_path)
    publish(survey, out)
    return survey, out


def lines(path: Path) -> list[str]:
    return path.read_text("utf-8-sig").splitlines()


def put(path: Path, rows: list[str]) -> None:
    path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")


def cell(path: Path, line: int, column: str, value: str) -> None:
    """Set one cell (file line `line`, 1 = header) of a data file without quoted cells."""
    rows = lines(path)
    head = rows[0].split(",")
    cells = rows[line - 1].split(",")
    cells[head.index(column)] = value
    rows[line - 1] = ",".join(cells)
    put(path, rows)


def other_questions(tmp_path: Path, survey) -> bytes:
    """questions.csv of another run: more answers for every unit (each answer given twice)."""
    more = {code: items * 2 for code, items in ANSWERS.items()}
    other = tmp_path / "other"
    score(survey, other, responses=write_responses(tmp_path / "more.csv", response_rows(more, "m")))
    return Layout(other, survey.id).data_file("questions.csv").read_bytes()


def index_minus_50(data, tmp_path, survey):
    cell(data / "ranking.csv", 2, "index", "-50.00")


def question_250(data, tmp_path, survey):
    cell(data / "questions.csv", 3, "index", "250.00")


def half_a_ranking(data, tmp_path, survey):
    rows = lines(data / "ranking.csv")
    put(data / "ranking.csv", rows[: 1 + (len(rows) - 1) // 2])


def a_unit_twice(data, tmp_path, survey):
    rows = lines(data / "ranking.csv")
    put(data / "ranking.csv", [*rows, rows[2]])


def questions_of_another_run(data, tmp_path, survey):
    (data / "questions.csv").write_bytes(other_questions(tmp_path, survey))


def truncated(data, tmp_path, survey):
    raw = (data / "questions.csv").read_bytes()
    (data / "questions.csv").write_bytes(raw[: len(raw) // 2])


def interval_beside_the_index(data, tmp_path, survey):
    cell(data / "ranking.csv", 2, "ci_low", "99.99")  # X01: index 97.62


def a_question_that_is_not_scored(data, tmp_path, survey):
    cell(data / "questions.csv", 2, "question_id", "kenh")


def negative_count(data, tmp_path, survey):
    cell(data / "block_answers.csv", 2, "answers", "-3")


DAMAGE = {  # damage -> (as found, vouched for): what the refusal says
    index_minus_50: (r"ranking.csv: its content is not what run \w+ wrote",
                     r"ranking.csv line 2, column index: -50.00 is outside 0–100"),
    question_250: (r"questions.csv: its content is not what run \w+ wrote",
                   r"questions.csv line 3, column index: 250.00 is outside 0–100"),
    half_a_ranking: (r"ranking.csv: 2 records where run \w+ wrote 5: damaged",
                     r"ranking.csv: 3 of the 5 units of units.csv are missing, X02 the first"),
    a_unit_twice: (r"ranking.csv: 6 records where run \w+ wrote 5",
                   r"ranking.csv line 7, column unit_code: unit X03 appears twice"),
    questions_of_another_run: (r"questions.csv: its content is not what run \w+ wrote",
                               r"questions.csv line 2, column answers: 28 answers, more than the "
                               r"14 responses of unit X01 in ranking.csv"),
    truncated: (r"questions.csv: \d+ records where run \w+ wrote 15: damaged \(cut short\?\)",
                r"questions.csv: no row for unit X03 and question q1, which ranking.csv ranks"),
    interval_beside_the_index: (r"ranking.csv: its content",
                                r"ranking.csv line 2, column ci_low: the interval's low end is "
                                r"above the index"),
    a_question_that_is_not_scored: (r"questions.csv: its content",
                                    r"questions.csv line 2, column question_id: 'kenh' is not a "
                                    r"scale question of the survey"),
    negative_count: (r"block_answers.csv: its content",
                     r"block_answers.csv line 2, column answers: -3 is below 0"),
}


@pytest.mark.parametrize("damage", list(DAMAGE), ids=[d.__name__ for d in DAMAGE])
@pytest.mark.parametrize("vouched", [False, True], ids=["as-found", "vouched"])
def test_a_damaged_set_is_refused_and_the_site_is_left_as_it_was(tmp_path, published, damage,
                                                                 vouched):
    survey, out = published
    message = DAMAGE[damage][vouched]
    layout = Layout(out, survey.id)
    before = tree(layout.site)
    history = tree(layout.root)
    damage(layout.data, tmp_path, survey)
    if vouched:
        vouch(survey, out)
    with pytest.raises(HailongError, match=message) as refused:
        publish(survey, out)
    assert "\n" not in str(refused.value) and "hailong score" in str(refused.value)
    assert tree(layout.site) == before
    assert {k: v for k, v in tree(layout.root).items() if "data" not in k} == \
        {k: v for k, v in history.items() if "data" not in k}


def test_no_run_json_is_refused(published):
    survey, out = published
    layout = Layout(out, survey.id)
    before = tree(layout.site)
    layout.data_file("run.json").unlink()
    with pytest.raises(HailongError, match=r"run.json: not found, so nothing vouches"):
        publish(survey, out)
    assert tree(layout.site) == before


@pytest.mark.parametrize(("change", "message"), [
    (lambda doc: doc.update(survey="khac"), r"written for survey khac, not thu-nghiem"),
    (lambda doc: doc.update(scale_questions=4), r"the run scored 4 scale questions"),
    (lambda doc: doc["files"].pop("ranking.csv"), r"lists no ranking.csv"),
    (lambda doc: doc["files"].pop("questions.csv"), r"questions.csv: run \w+ of run.json did "
                                                    r"not write it"),
    (lambda doc: doc.update(design_effect=-1), r"not a run file of hailong score"),
    (lambda doc: doc["files"]["ranking.csv"].update(sha256="x"), r"not a run file"),
])
def test_a_run_json_that_does_not_vouch_for_the_set_is_refused(published, change, message):
    survey, out = published
    layout = Layout(out, survey.id)
    before = tree(layout.site)
    path = layout.data_file("run.json")
    doc = json.loads(path.read_text("utf-8"))
    change(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(HailongError, match=message):
        publish(survey, out)
    assert tree(layout.site) == before
    path.write_text("{", encoding="utf-8")
    with pytest.raises(HailongError, match=r"run.json: cannot read it"):
        publish(survey, out)
    assert tree(layout.site) == before


def test_a_listed_file_publish_reads_must_be_there(published):
    survey, out = published
    Layout(out, survey.id).data_file("participation.csv").unlink()
    with pytest.raises(HailongError, match=r"participation.csv: missing, though run \w+ wrote it"):
        publish(survey, out)


def test_verify_returns_the_run(published):
    survey, out = published
    layout = Layout(out, survey.id)
    run = verify(survey, layout)
    doc = json.loads(layout.data_file("run.json").read_text("utf-8"))
    assert isinstance(run, RunInfo)
    assert (run.id, run.time, run.design_effect, run.scale_questions) == (
        doc["id"], doc["time"], doc["design_effect"], 3)
    assert set(run.files) == set(doc["files"]) <= set(DATA_FILES)
    assert run.files["ranking.csv"].records == 5
    with pytest.raises(AttributeError):
        run.id = "x"  # frozen


def test_a_line_break_in_a_cell_counts_one_record_and_lines_are_an_editors(tmp_path, published):
    """ranking.csv's unit_name can hold a line break: records are not lines, and a refusal
    names the line an editor shows."""
    survey, out = published
    data = Layout(out, survey.id).data
    rows = lines(data / "ranking.csv")
    rows[1] = rows[1].replace("Xã Tiên Điền", '"Xã Tiên\nĐiền"')
    cells = rows[2].split(",")
    rows[2] = ",".join([*cells[:4], "101.00", *cells[5:]])
    put(data / "ranking.csv", rows)
    path = vouch(survey, out)
    assert json.loads(path.read_text("utf-8"))["files"]["ranking.csv"]["records"] == 5
    with pytest.raises(HailongError, match=r"ranking.csv line 4, column index: 101.00 is outside"):
        publish(survey, out)


def test_publish_on_the_command_line_refuses_in_one_line(published):
    survey, out = published
    Layout(out, survey.id).data_file("run.json").unlink()
    done = subprocess.run([sys.executable, "-m", "hailong", "publish", str(survey.path), "--out",
                           str(out)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "HAILONG_LANG": "en"})
    assert done.returncode != 0
    assert len(done.stderr.strip().splitlines()) == 1 and "run.json" in done.stderr
    assert "Traceback" not in done.stderr


def test_weekly_refuses_before_the_history_snapshot(published, monkeypatch):
    """weekly verifies right after score: a set that is not one run's enters no history."""
    from hailong import jobs

    survey, out = published
    layout = Layout(out, survey.id)
    before = tree(layout.root)

    def score_that_dies(survey, out):  # a run that stopped after moving two files
        layout.data_file("run.json").unlink()
        return "scored"

    monkeypatch.setattr(jobs, "score", score_that_dies)
    monkeypatch.setattr(jobs, "pull", lambda survey, out: "pulled")
    with pytest.raises(HailongError, match="run.json: not found"):
        jobs.weekly(survey, out)
    after = tree(layout.root)
    assert not layout.history.exists() or tree(layout.history) == {}
    assert {k: v for k, v in after.items() if "run.json" not in k} == \
        {k: v for k, v in before.items() if "run.json" not in k}


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX (CI runs Linux)")
def test_killed_score_runs_never_publish_a_mix(tmp_path):
    """Twenty `hailong score` runs, each killed (SIGKILL) at a random moment of its work,
    alternating between two answer files; after each, publish refuses or renders a set whose
    every file is byte for byte that of one complete run."""
    survey, out, _ = scored_survey(tmp_path)
    layout = Layout(out, survey.id)
    more = {code: items * 4 for code, items in ANSWERS.items()}
    inputs = [write_responses(tmp_path / "a.csv", response_rows(ANSWERS, "a")),
              write_responses(tmp_path / "b.csv", response_rows(more, "b"))]
    sets = []
    for i, path in enumerate(inputs):
        ref = tmp_path / f"ref{i}"
        score(survey, ref, responses=path)
        sets.append({name: Layout(ref, survey.id).data_file(name).read_bytes()
                     for name in DATA_FILES if Layout(ref, survey.id).data_file(name).exists()})
    assert sets[0]["ranking.csv"] != sets[1]["ranking.csv"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "hailong", "score", str(survey.path), "--out", str(out),
               "--responses"]

    def start(which: int) -> tuple[subprocess.Popen, float]:
        """A score run, once it has begun its work (its temporary folder is in data/): the
        seconds of imports before are not worth killing in."""
        proc = subprocess.Popen([*command, str(inputs[which])], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while proc.poll() is None and not any(layout.data.glob(".score-*")):
            time.sleep(0.002)
        return proc, time.monotonic()

    proc, began = start(1)  # how long the work takes, from the temporary folder to run.json
    while proc.poll() is None and not layout.data_file("run.json").exists():
        time.sleep(0.002)
    work = time.monotonic() - began
    proc.wait()
    rnd = random.Random(20)
    outcomes = {"refused": 0, "published": 0}
    for run in range(20):
        proc, began = start(run % 2)
        # anywhere in the work: validating, writing, moving the files into place, run.json
        time.sleep(max(0.0, rnd.uniform(0, 1.2) * work - (time.monotonic() - began)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            run_info = verify(survey, layout)
            publish(survey, out, force=True)
        except HailongError as refused:
            assert "run.json" in str(refused) or "hailong score" in str(refused)
            outcomes["refused"] += 1
            continue
        outcomes["published"] += 1
        names = set(run_info.files)
        matches = [i for i, ref in enumerate(sets)
                   if set(ref) == names and all(layout.data_file(n).read_bytes() == ref[n]
                                                for n in names)]
        assert len(matches) == 1, f"run {run}: published a set that is no one run's"
    print(f"killed score runs: {outcomes} (the work took {work:.2f} s)")
