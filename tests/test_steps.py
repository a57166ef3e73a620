"""publish/steps: a unit's figures move only in steps of at least min_cell answers."""

from __future__ import annotations

import datetime as dt
import json
import random

import pandas as pd
from conftest import write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from release_sim import release

from hailong.publish import steps
from hailong.publish.release import Live
from hailong.survey.load import load_survey

TOML = """\
id = "buoc"
title = "Khảo sát thử"
respondent_types = ["individual", "organization"]
[window]
start = "2024-06-12"
end = "2024-06-14"
[scoring]
min_responses = 6
min_cell = 3
[[blocks]]
id = "a"
title = "Nhóm A"
[[blocks]]
id = "b"
title = "Nhóm B"
weight = 2
[[questions]]
id = "a1"
block = "a"
text = "A1"
[[questions]]
id = "a2"
block = "a"
text = "A2"
[[questions]]
id = "b1"
block = "b"
text = "B1"
"""
UNITS = "code,name\nX,Xã X\nY,Xã Y\n"


def figures(entry: dict) -> tuple:
    """Every answer-derived figure of a unit in ranking.json, n included."""
    return (entry["n"], entry["index"], entry["ci_low"], entry["ci_high"], entry["band"],
            entry["ranked"], tuple(sorted(entry["blocks"].items())),
            tuple(sorted((q, c["value"], c["answers"]) for q, c in entry["questions"].items())),
            tuple(sorted(entry["types"].items())))


def test_moves_only_in_steps_of_min_cell():
    assert steps.moves(7, None, 5)  # nothing published yet
    assert not steps.moves(7, 3, 5) and not steps.moves(3, 7, 5)
    assert steps.moves(8, 3, 5) and steps.moves(0, 5, 5)
    # and as far from every earlier figure set: back near one after removals, held
    assert not steps.moves(9, 15, 5, (2, 8)) and steps.moves(20, 15, 5, (2, 8, 9))
    assert steps.earlier_counts({"earlier": [{"n": 4}, {"n": True}, "x", {"n": 9}]}) == (4, 9)


def test_a_unit_back_near_an_earlier_count_keeps_its_figures(tmp_path):
    """Nine answers, six more, then six of them removed: the unit is back at the count of
    the first release, whose figures and these would differ by a cell of a few answers (or
    none), so it keeps the second release's figures."""
    survey = load_survey(write_survey(tmp_path / "s", TOML, UNITS))
    rng = random.Random(3)
    rows = []
    for i in range(15):
        row = dict.fromkeys(survey.response_columns, "")
        row.update(unit_code="X", response_id=f"X-{i}", submitted_at="2024-06-12T09:00:00+07:00",
                   respondent_type="individual", **{q.id: str(rng.randint(1, 5)) for q in survey.scale_questions})
        rows.append(row)

    def frame(part):
        return pd.DataFrame(part, columns=survey.response_columns, dtype="str")

    first = release(survey, frame(rows[:9]), None, tmp_path / "r0")
    second = release(survey, frame(rows), first, tmp_path / "r1")
    back = release(survey, frame(rows[:7] + rows[13:]), second, tmp_path / "r2")
    x = [next(u for u in doc["units"] if u["unit_code"] == "X") for doc in (first, second, back)]
    assert (x[0]["n"], x[1]["n"]) == (9, 15) and figures(x[1]) != figures(x[0])
    assert x[2]["responses"] == 9 and figures(x[2]) == figures(x[1])
    # every figure set published so far is carried for the next run, the first one too
    assert [e["n"] for e in x[2]["earlier"]] == [9]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1),
       changes=st.lists(st.tuples(st.integers(-3, 5), st.integers(-3, 5), st.booleans()),
                        min_size=2, max_size=6))
def test_figures_never_move_on_fewer_than_min_cell_answers(tmp_path_factory, seed, changes):
    """Whatever the sequence of answers in and out (a swap: one out and one in), a unit's
    published figures change only when the answers behind them differ, added plus removed,
    by at least min_cell from those behind the figures last published; held figures are
    those figures exactly, with the responses now shown apart."""
    folder = tmp_path_factory.mktemp("steps")
    survey = load_survey(write_survey(folder / "s", TOML, UNITS))
    min_cell = survey.scoring.min_cell
    rng = random.Random(seed)
    rows: list[dict] = []
    serial = 0

    def add(code):
        nonlocal serial
        serial += 1
        row = dict.fromkeys(survey.response_columns, "")
        row.update(unit_code=code, response_id=f"{code}-{serial}", submitted_at="2024-06-12T09:00:00+07:00",
                   respondent_type=rng.choice(survey.respondent_types),
                   **{q.id: rng.choice(["", "1", "3", "4", "5", "5"]) for q in survey.scale_questions})
        row["b1"] = row["b1"] or "4"  # never an empty answer row
        rows.append(row)

    behind: dict[str, set[str]] = {}  # unit -> the answers behind its published figures
    before: dict[str, list[set[str]]] = {}  # unit -> the answers behind each earlier figure set
    last = None
    shown: dict[str, tuple] = {}
    for step, (dx, dy, swap) in enumerate(changes):
        for code, delta in (("X", dx), ("Y", dy)):
            mine = [r for r in rows if r["unit_code"] == code]
            for r in rng.sample(mine, min(len(mine), max(0, -delta) + (1 if swap and mine else 0))):
                rows.remove(r)
            for _ in range(max(0, delta) + (1 if swap else 0)):
                add(code)
        frame = pd.DataFrame(rows, columns=survey.response_columns, dtype="str")
        doc = release(survey, frame, last, folder / f"r{step}")
        for entry in doc["units"]:
            code = entry["unit_code"]
            now = {r["response_id"] for r in rows if r["unit_code"] == code}
            assert entry["responses"] == len(now)
            if code in shown and entry["n"] != len(now):
                assert figures(entry) == shown[code]  # held: the figures of `behind`, exactly
                assert entry["n"] == len(behind[code])
                continue
            if code in shown and figures(entry) == shown[code]:
                continue  # held (a swap keeps n), or moved to the very same figures
            if code in shown:
                # min_cell answers from the figures replaced, and from every set before them
                assert all(len(b ^ now) >= min_cell for b in [behind[code], *before[code]]), (code, step)
                before[code].append(behind[code])
            before.setdefault(code, [])
            behind[code], shown[code] = now, figures(entry)
        last = doc


def test_last_release_is_read_from_the_live_site_or_the_local_one(tmp_path):
    survey = load_survey(write_survey(tmp_path / "s", TOML, UNITS))
    doc = {"survey": {"id": "buoc", "blocks": [{"id": "a"}, {"id": "b"}],
                      "questions": [{"id": "a1"}, {"id": "a2"}, {"id": "b1"}]},
           "units": [{"unit_code": "X", "n": 4}]}
    assert steps.last_release(survey, tmp_path, Live("live", doc, None)) is doc
    assert steps.last_release(survey, tmp_path, None) is None  # nothing published here yet
    other = {**doc, "survey": {**doc["survey"], "questions": [{"id": "a1"}]}}
    # figures of another questionnaire cannot be kept
    assert steps.last_release(survey, tmp_path, Live("live", other, None)) is None
    assert steps.basis_units(doc) == {"X": doc["units"][0]}


def test_publish_holds_a_unit_until_enough_new_answers(tmp_path):
    """End to end through score and publish on the local site: one new answer leaves the
    unit's figures as published, says so on its page and shows the responses apart; enough
    new answers move them."""
    from bs4 import BeautifulSoup
    from results_fixture import ANSWERS, response_rows, scored_survey, write_responses

    from hailong.layout import Layout
    from hailong.publish.history import snapshot
    from hailong.publish.pages import publish
    from hailong.score.pipeline import score

    survey, out, rows = scored_survey(tmp_path)
    snapshot(survey, out, dt.date(2024, 6, 12))
    publish(survey, out, day=dt.date(2024, 6, 12))
    results = Layout(out, survey.id).results
    first = {u["unit_code"]: u for u in json.loads((results / "ranking.json").read_text("utf-8"))["units"]}

    def again(extra: int, tag: str, day: int) -> dict:
        more = response_rows({"X01": [("1", "1", "1")] * extra}, tag=tag, day="2024-06-13")
        score(survey, out, responses=write_responses(tmp_path / f"{tag}.csv", rows + more))
        snapshot(survey, out, dt.date(2024, 6, day))  # what score wrote, as weekly keeps it
        publish(survey, out, day=dt.date(2024, 6, day))
        return {u["unit_code"]: u for u in json.loads((results / "ranking.json").read_text("utf-8"))["units"]}

    held = again(1, "b", 13)
    x = held["X01"]
    assert x["n"] == len(ANSWERS["X01"]) and x["responses"] == len(ANSWERS["X01"]) + 1
    assert figures(x) == figures(first["X01"])
    page = BeautifulSoup((results / "X01" / "index.html").read_text("utf-8"), "html.parser")
    note = page.find(id="giu-so-lieu").get_text(" ", strip=True)
    assert "15 phiếu hợp lệ" in note and "cập nhật khi có thêm đủ câu trả lời mới" in note
    moved = again(survey.scoring.min_cell, "c", 14)
    assert moved["X01"]["n"] == moved["X01"]["responses"] == len(ANSWERS["X01"]) + survey.scoring.min_cell
    assert moved["X01"]["index"] < first["X01"]["index"]  # the new answers were all "1"
    page = BeautifulSoup((results / "X01" / "index.html").read_text("utf-8"), "html.parser")
    assert page.find(id="giu-so-lieu") is None
    # the history shows each release as published: the held one repeats the first's figures
    n = len(ANSWERS["X01"])
    past = [(h["date"], h["n"], h["index"]) for h in moved["X01"]["history"]]
    assert past == [("2024-06-12", n, first["X01"]["index"]), ("2024-06-13", n, first["X01"]["index"])]
    lines = (results / "history.csv").read_text("utf-8-sig").splitlines()
    x01 = [line.split(",")[:3] for line in lines if ",X01," in line]
    assert x01 == [["2024-06-12", "X01", str(n)], ["2024-06-13", "X01", str(n)],
                   ["2024-06-14", "X01", str(n + survey.scoring.min_cell)]]
