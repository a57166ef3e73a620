"""The published results hold aggregates only: no respondent key, device id, token, response id,
timestamp of a single response, or free text of the input appears in any page or download."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from results_fixture import scored_survey

from hailong.layout import Layout
from hailong.publish.pages import publish

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
    accepted = Layout(out, survey.id).data_file("responses.csv").read_text("utf-8-sig")
    assert sum(secret in accepted for secret in secrets) > len(rows)


def test_demo_site_publishes_nothing_individual(tmp_path):
    pytest.importorskip("hailong.demo.run")
    from hailong.demo.run import DEFAULT_SURVEY, run_demo
    from hailong.survey.load import load_survey

    out = tmp_path / "demo"
    run_demo(out)
    survey = load_survey(DEFAULT_SURVEY)
    layout = Layout(out, survey.id)
    with open(layout.raw_csv, encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    secrets = secrets_of(rows, [q.id for q in survey.questions if q.type == "text"])
    assert sum(1 for r in rows if r["comment"].strip()) > 0  # the demo does write comments
    assert len(secrets) > 3 * len(rows)
    assert hits(published_texts(layout.results), secrets) == []


# -- no withheld cell can be worked out from what is published ------------------------------------
# A unit's published figures are tied by linear equations (contract section 5): a block index is
# the mean of its answered questions, the unit index the weighted mean of its blocks. A withheld
# cell is safe only if no combination of those equations pins it down given the published cells.

SUP_TOML = """\
id = "sup-1"
title = "Khảo sát thử"
year = 2024
[window]
start = "2024-06-12"
end = "2024-06-14"
[[blocks]]
id = "b1"
title = "Nhóm một"
[[blocks]]
id = "b2"
title = "Nhóm hai"
[[blocks]]
id = "b3"
title = "Nhóm ba"
weight = 2
""" + "".join(f'[[questions]]\nid = "q{i}"\nblock = "b{b}"\ntext = "Câu số {i}"\n'
              for i, b in ((1, 1), (2, 2), (3, 2), (4, 3), (5, 3))) + """\
[[questions]]
id = "kenh"
block = "b1"
text = "Ông/Bà biết đến dịch vụ qua kênh nào?"
type = "choice"
options = ["Loa phát thanh", "Người quen"]
"""
SUP_UNITS = "code,name,parent\nA,Xã A,Huyện Một\nB,Xã B,Huyện Một\nC,Xã C,Huyện Hai\nD,Xã D,Huyện Hai\n"


def _sup_rows() -> list[dict]:
    """A: b1 answered by 3 of 12 (withheld), so b2 is withheld to protect it (the reviewer's case);
    B: every cell public; C: only b1 answered, by 3 of 12 (the index would be b1 itself);
    D: q5 answered by 2 (withheld), so q4 is withheld to protect it."""
    def answers(i, unit):
        if unit == "A":
            return ("5" if i == 0 else "2" if i < 3 else "", str(1 + i % 5), str(2 + i % 4), str(1 + i % 5), "4")
        if unit == "B":
            return (str(1 + i % 5), str(2 + i % 4), "4", "5", str(1 + i % 5))
        if unit == "C":
            return ("5" if i < 2 else "1" if i < 3 else "", "", "", "", "")
        return ("4", "5", str(1 + i % 5), str(2 + i % 4), "5" if i < 2 else "")
    rows = []
    for unit in "ABCD":
        for i in range(12):
            q = answers(i, unit)
            rows.append({"submitted_at": f"2024-06-13T09:{i:02d}:00+07:00",
                         "response_id": f"rid-{unit}-{i}-7e", "survey_id": "sup-1", "unit_code": unit,
                         "respondent_type": "", "respondent_key": "", "device_id": f"dev-{unit}-{i}-7e",
                         "ticket": "", "started_at": "",
                         # every respondent answers the unscored choice: no row is `empty`, so
                         # C keeps its 12 responses while only 3 of them answer a scale question
                         **{f"q{k + 1}": v for k, v in enumerate(q)}, "kenh": "Người quen",
                         "comment": ""})
    return rows


def derivable(equations: list[dict[str, float]], unknown: list[str]) -> list[str]:
    """The unknowns fixed by `equations` (each {variable: coefficient} = a known constant):
    x is fixed exactly when its unit vector lies in the row space of the unknowns' columns."""
    if not unknown:
        return []
    col = {v: i for i, v in enumerate(unknown)}
    rows = []
    for eq in equations:
        row = np.zeros(len(unknown))
        for v, c in eq.items():
            if v in col:
                row[col[v]] += c
        if row.any():
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    return [v for v in unknown
            if np.linalg.matrix_rank(np.vstack([a, np.eye(len(unknown))[col[v]]])) == rank]


def unit_system(survey, answers: dict[str, int]) -> tuple[list[dict[str, float]], list[str]]:
    """The equations of one unit and every cell that has a value, from its questions' answer
    counts (which are published): a question has a value when answered, a block when one of its
    questions has, the unit index when one of its blocks has."""
    equations, cells, blocks = [], [], {}
    for b in survey.blocks:
        answered = [q.id for q in survey.scale_questions if q.block == b.id and answers.get(q.id, 0) > 0]
        if answered:
            blocks[b.id] = b.weight
            cells += [f"q:{q}" for q in answered] + [f"b:{b.id}"]
            equations.append({f"b:{b.id}": len(answered), **{f"q:{q}": -1.0 for q in answered}})
    if blocks:
        cells.append("index")
        equations.append({"index": sum(blocks.values()), **{f"b:{b}": -w for b, w in blocks.items()}})
    return equations, cells


def _value(text: str) -> float | None:
    text = text.strip()
    if "Chưa đủ" in text or "Không công bố" in text or text in ("", "–"):
        return None
    return float(text.replace(".", "").replace(",", "."))


def published_cells(results_dir: Path, survey, code: str) -> tuple[dict[str, float | None], dict[str, int]]:
    """What the unit's page publishes: index, block and question cells, and answer counts."""
    from bs4 import BeautifulSoup

    page = BeautifulSoup((results_dir / code / "index.html").read_text("utf-8"), "html.parser")
    cells: dict[str, float | None] = {"index": _value(page.select_one(".big-value").get_text())}
    answers = {}
    by_text = {q.text: q.id for q in survey.scale_questions}
    by_title = {b.title: b.id for b in survey.blocks}
    for table in page.select("table.questions"):
        block = by_title[table.caption.get_text().split(" (trọng số")[0]]
        for tr in table.select("tbody tr"):
            tds = tr.find_all("td")
            if "block-row" in tr.get("class", []):
                cells[f"b:{block}"] = _value(tds[0].get_text())
            else:
                qid = by_text[tr.th.get_text(strip=True)]
                cells[f"q:{qid}"] = _value(tds[0].get_text())
                answers[qid] = int(tds[1].get_text(strip=True).replace(".", ""))
    return cells, answers


def download_cells(results_dir: Path, survey) -> dict[str, list[dict[str, float | None]]]:
    """Per unit, the index and block cells of each download: ranking.csv, .json and .xlsx."""
    from openpyxl import load_workbook

    out: dict[str, list[dict[str, float | None]]] = {}
    with open(results_dir / "ranking.csv", encoding="utf-8-sig") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["unit_code"], []).append(
                {"index": float(r["index"]) if r["index"] else None,
                 **{f"b:{b.id}": float(r[f"block:{b.id}"]) if r[f"block:{b.id}"] else None
                    for b in survey.blocks}})
    for u in json.loads((results_dir / "ranking.json").read_text("utf-8"))["units"]:
        out[u["unit_code"]].append({"index": u["index"], **{f"b:{b}": v for b, v in u["blocks"].items()}})
    ws = load_workbook(results_dir / "ranking.xlsx").active
    header = [c.value for c in ws[6]]
    for row in ws.iter_rows(min_row=7, values_only=True):
        r = dict(zip(header, row, strict=True))
        out[r["Mã"]].append({"index": r["Chỉ số"], **{f"b:{b.id}": r[b.title] for b in survey.blocks}})
    return out


def scored_sup(tmp_path):
    from conftest import write_survey
    from results_fixture import write_responses

    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path / "sup-1", toml=SUP_TOML, units=SUP_UNITS))
    out = tmp_path / "out"
    score(survey, out, responses=write_responses(tmp_path / "raw.csv", _sup_rows()))
    publish(survey, out)
    return survey, out


def test_no_withheld_cell_can_be_worked_out_from_the_site_or_downloads(tmp_path):
    survey, out = scored_sup(tmp_path)
    results_dir = Layout(out, survey.id).results
    downloads = download_cells(results_dir, survey)
    hidden_any = {}
    for unit in survey.units:
        cells, answers = published_cells(results_dir, survey, unit.code)
        equations, valued = unit_system(survey, answers)
        hidden = [c for c in valued if cells.get(c) is None]
        assert derivable(equations, hidden) == [], unit.code
        hidden_any[unit.code] = hidden
        # the same cells withheld in every download, the same numbers published
        for got in downloads[unit.code]:
            for key, value in got.items():
                assert (value is None) == (cells[key] is None), (unit.code, key)
                if value is not None:
                    assert value == pytest.approx(cells[key], abs=0.006)
        # and the published cells do satisfy the equations (the check reads them right)
        for eq in equations:
            if all(cells.get(v) is not None for v in eq):
                assert abs(sum(c * cells[v] for v, c in eq.items())) < 0.05
    # the scenarios happened: A withholds b1 and protects it with b2 and one of b2's questions
    # (the exact check of publish/withhold.py finds that enough), D two questions
    assert {"b:b1", "q:q1", "b:b2", "q:q2"} <= set(hidden_any["A"])
    assert hidden_any["B"] == []
    assert "index" in hidden_any["C"]
    assert {"q:q4", "q:q5"} <= set(hidden_any["D"])


def test_a_withheld_index_shows_no_rank_or_band(tmp_path):
    """C has 12 responses (ranked in data/ranking.csv) but its index is its one withheld
    block: it leaves the ranking everywhere, and the ranks after it close up (no gap)."""
    from bs4 import BeautifulSoup

    survey, out = scored_sup(tmp_path)
    with open(Layout(out, survey.id).data_file("ranking.csv"), encoding="utf-8-sig") as fh:
        scored = {r["unit_code"]: r for r in csv.DictReader(fh)}
    assert scored["C"]["ranked"] == "true"
    results_dir = Layout(out, survey.id).results
    with open(results_dir / "ranking.csv", encoding="utf-8-sig") as fh:
        site = {r["unit_code"]: r for r in csv.DictReader(fh)}
    assert site["C"]["rank"] == "" and site["C"]["ranked"] == "false"
    assert site["C"]["band"] == survey.scoring.unranked_label and site["C"]["index"] == ""
    ranks = sorted(int(r["rank"]) for r in site.values() if r["rank"])
    assert ranks == [1 + sum(1 for s in ranks if s < r) for r in ranks]  # 1, 2, 3 or ties, no gap
    page = BeautifulSoup((results_dir / "index.html").read_text("utf-8"), "html.parser")
    assert page.select_one("table.ranking #dv-C") is None
    assert "Chưa đủ 5 câu trả lời để công bố chỉ số" in page.select_one("table.unranked #dv-C").get_text()
    assert not page.select('svg .bar-row[data-code="C"]')
    district = BeautifulSoup((results_dir / "tinh" / "huyen-hai" / "index.html").read_text("utf-8"),
                             "html.parser")
    assert district.select_one("table.ranking #dv-C") is None
    unit = BeautifulSoup((results_dir / "C" / "index.html").read_text("utf-8"), "html.parser")
    assert "Chưa xếp hạng" in unit.get_text()
    assert unit.select_one(".band").get_text(strip=True) == survey.scoring.unranked_label
    doc = json.loads((results_dir / "ranking.json").read_text("utf-8"))
    c = next(u for u in doc["units"] if u["unit_code"] == "C")
    assert c["rank"] is None and c["index"] is None and c["ci_low"] is None and not c["ranked"]


def test_unit_averages_use_published_cells_only(tmp_path):
    """An average over units that took in a withheld cell would give it back: the average of
    all units equals the mean of the published cells of the ranked units, cell by cell."""
    from bs4 import BeautifulSoup

    survey, out = scored_sup(tmp_path)
    results_dir = Layout(out, survey.id).results
    doc = json.loads((results_dir / "ranking.json").read_text("utf-8"))
    ranked = [u["unit_code"] for u in doc["units"] if u["ranked"]]
    published = {code: published_cells(results_dir, survey, code)[0] for code in ranked}
    page = BeautifulSoup((results_dir / "B" / "index.html").read_text("utf-8"), "html.parser")
    by_text = {q.text: f"q:{q.id}" for q in survey.scale_questions}
    by_text.update({f"Chỉ số nhóm «{b.title}»": f"b:{b.id}" for b in survey.blocks})
    checked = 0
    for tr in page.select("table.questions tbody tr"):
        key = by_text[tr.th.get_text(strip=True)]
        values = [published[c][key] for c in ranked if published[c].get(key) is not None]
        average = _value(tr.find_all("td")[2].get_text())
        assert average == (pytest.approx(sum(values) / len(values), abs=0.006) if values else None)
        checked += 1
    assert checked == len(survey.scale_questions) + len(survey.blocks)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)), min_size=5, max_size=5),
       st.integers(0, 12))
def test_no_withheld_cell_is_determined_for_any_answers(counts, extra):
    """The withholding rules on any answer counts of one unit (pure functions, no files)."""
    import pandas as pd

    from hailong.publish import results

    survey = _sup_survey()
    qids = [q.id for q in survey.scale_questions]
    answers = {q: a for q, (a, _) in zip(qids, counts, strict=True)}
    index = {q: 100 * min(s, a) / a for q, (a, s) in zip(qids, counts, strict=True) if a}
    table = pd.DataFrame({"unit_code": ["A"] * 5, "question_id": qids,
                          "answers": [answers[q] for q in qids],
                          "satisfied": [min(s, a) for a, s in counts],
                          "index": [index.get(q, float("nan")) for q in qids]})
    cells = results.question_cells(survey, table)
    blocks = {}
    for b in survey.blocks:
        vals = [index[q.id] for q in survey.scale_questions if q.block == b.id and q.id in index]
        blocks[b.id] = sum(vals) / len(vals) if vals else None
    valued = {b.id: b.weight for b in survey.blocks if blocks[b.id] is not None}
    unit_index = (sum(blocks[b] * w for b, w in valued.items()) / sum(valued.values())) if valued else None
    n = max([a for a, _ in counts]) + extra
    row = {"code": "A", "name": "Xã A", "n": n, "rank": 1 if unit_index is not None and n >= 10 else None,
           "index": unit_index, "low": unit_index, "high": unit_index,
           "band": "Tốt" if unit_index is not None and n >= 10 else survey.scoring.unranked_label,
           "ranked": unit_index is not None and n >= 10, "blocks": blocks}
    [unit] = results.unit_results(survey, [row], results.block_answers(survey, cells))
    cells = results.withhold_block_questions(survey, [unit], cells)
    shown = {"index": unit.index, **{f"b:{b}": v for b, v in unit.blocks.items()},
             **{f"q:{q}": cells[("A", q)][0] for q in qids}}
    equations, valued_cells = unit_system(survey, answers)
    hidden = [c for c in valued_cells if shown[c] is None]
    assert derivable(equations, hidden) == []
    for q in qids:  # and the first rule: nothing below min_cell is shown
        assert shown[f"q:{q}"] is None or answers[q] >= survey.scoring.min_cell
    assert unit.index is None or n >= survey.scoring.min_cell
    assert unit.rank is None or unit.index is not None


_SUP: list = []


def _sup_survey():
    """One survey folder for every hypothesis example."""
    import tempfile

    from conftest import write_survey

    from hailong.survey.load import load_survey

    if not _SUP:
        _SUP.append(load_survey(write_survey(Path(tempfile.mkdtemp(prefix="hailong-sup-")) / "s",
                                             toml=SUP_TOML, units=SUP_UNITS)))
    return _SUP[0]


def test_history_publishes_no_index_the_results_pages_withheld(tmp_path):
    """An earlier weekly run is shown on the unit page: C's index there was its one withheld
    block, so it is withheld there too, and the earlier ranks close up behind it."""
    import datetime as dt

    from bs4 import BeautifulSoup
    from results_fixture import write_responses

    from hailong.publish.history import BLOCK_ANSWERS, snapshot
    from hailong.score.pipeline import score

    survey, out = scored_sup(tmp_path)
    copy = snapshot(survey, out, dt.date(2024, 6, 13))
    assert (copy.parent / BLOCK_ANSWERS).read_text("utf-8-sig").startswith("unit_code,block_id,answers\n")
    later = _sup_rows() + [{**r, "response_id": r["response_id"] + "-2", "device_id": r["device_id"] + "-2",
                            "submitted_at": r["submitted_at"].replace("06-13", "06-14")}
                           for r in _sup_rows() if r["unit_code"] == "B"]
    score(survey, out, responses=write_responses(tmp_path / "raw2.csv", later))
    publish(survey, out)
    results_dir = Layout(out, survey.id).results
    page = BeautifulSoup((results_dir / "C" / "index.html").read_text("utf-8"), "html.parser")
    [table] = page.select("table.history")
    first = table.select("tbody tr")[0]
    assert first.th.get_text(strip=True) == "13/06/2024"
    assert "Chưa xếp hạng" in first.get_text() and first.find_all("td")[2].get_text(strip=True) == "–"
    with open(copy, encoding="utf-8-sig") as fh:  # the copy itself did hold C's index and rank
        row = next(r for r in csv.DictReader(fh) if r["unit_code"] == "C")
    assert row["index"] and row["rank"]
    # ranks of that run are the published ones: no gap where C was
    ranks = []
    for code in ("A", "B", "D"):
        unit = BeautifulSoup((results_dir / code / "index.html").read_text("utf-8"), "html.parser")
        cell = unit.select_one("table.history tbody tr").find_all("td")[2].get_text(strip=True)
        if cell != "–":
            ranks.append(int(cell.split("(")[0]))
    assert sorted(ranks) == [1 + sum(1 for s in ranks if s < r) for r in sorted(ranks)]


def test_a_weekly_copy_withholds_what_its_own_pages_withheld(tmp_path):
    """The snapshot keeps questions.csv beside ranking.csv, so an earlier run shown in the
    history is withheld by the same exact check (withhold.plan) as the pages of that run."""
    import datetime as dt

    from hailong.publish import datafiles, results
    from hailong.publish.history import QUESTIONS, read_block_answers, results_of, snapshot

    survey, out = scored_sup(tmp_path)
    copy = snapshot(survey, out, dt.date(2024, 6, 13))
    assert (copy.parent / QUESTIONS).read_bytes() == \
        Layout(out, survey.id).data_file(QUESTIONS).read_bytes()
    rows = results.read_ranking(copy)
    then = results_of(rows, survey.scoring.min_cell, survey,
                      read_block_answers(copy.parent / "block_answers.csv"), copy.parent / QUESTIONS)
    pages, _cells = results.published(survey, rows, datafiles.read_questions(copy.parent / QUESTIONS))
    assert {code: r.index for code, r in then.items()} == {
        u.code.upper(): (u.index if u.ranked else None) for u in pages}
    assert then["C"].index is None and then["C"].rank is None  # its index was its withheld block
