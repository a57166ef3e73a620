"""access = "sample" (contract v3, section 9): codes for the official list, replacements by the
next reserve in its order (fixed seed), score accepting only active members' tokens, and
completion.csv per unit and type."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SMALL_TOML, write_survey

from hailong.cli import cli
from hailong.errors import HailongError
from hailong.field.sample import draw_sample, replace_member
from hailong.layout import Layout
from hailong.score.pipeline import score
from hailong.survey import sampled
from hailong.survey.load import load_survey
from hailong.survey.tokens import sign

KEY = "sample-test-key-0123456789"
UNITS = "code,name,quota_individual,quota_organization\nX01,Xã Một,2,0\nX02,Xã Hai,1,0\n"
TOML = SMALL_TOML.replace('respondent_types = ["individual", "organization"]',
                          'respondent_types = ["individual", "organization"]\naccess = "sample"')
TOML += """
[sampling]
reserve_ratio = 1.0
start = "2024-01-01"
end = "2024-05-31"
"""


def transactions() -> str:
    rows = ["id,unit_code,respondent_type,name,address,field,received_result,channel,province,date"]
    for unit, count in (("X01", 6), ("X02", 3)):
        rows += [f"{unit}-{i},{unit},individual,Người {i},Xóm {i},Hộ tịch,true,direct,,2024-03-0{i}"
                 for i in range(1, count + 1)]
    return "\n".join(rows) + "\n"


@pytest.fixture
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    survey = load_survey(write_survey(tmp_path / "s", TOML, UNITS,
                                      transactions_csv=transactions()))
    out = tmp_path / "out"
    draw_sample(survey, out, seed=42)
    return survey, out, Layout(out, survey.id)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_codes_are_signed_for_the_official_list(setup):
    survey, out, layout = setup
    official = _read(layout.data_file("sample.csv"))
    codes = _read(layout.data_file("sample-codes.csv"))
    assert [c["id"] for c in codes] == [o["id"] for o in official]
    assert all(c["code"] == sign(survey.id, c["id"], KEY.encode()) for c in codes)
    assert len(official) == 3


def test_replacement_takes_the_next_reserve_of_the_unit_and_type_in_order(setup):
    survey, out, layout = setup
    official = [r["id"] for r in _read(layout.data_file("sample.csv")) if r["unit_code"] == "X01"]
    reserve = [r["id"] for r in sorted(
        (r for r in _read(layout.data_file("reserve.csv")) if r["unit_code"] == "X01"),
        key=lambda r: int(r["order"]))]
    # the draw is fixed by the seed: ids sorted by HMAC-SHA256(seed, survey, unit, type, id)
    assert official == ["X01-3", "X01-1"] and reserve == ["X01-5", "X01-2"]
    replace_member(survey, out, official[0], "refused")
    replace_member(survey, out, official[1], "unreachable")
    state = sampled.load_state(layout)
    assert [m.id for m in state.active() if m.unit_code == "X01"] == reserve
    # a replaced reserve is replaced in turn; the reserve is then used up
    message = replace_member(survey, out, reserve[0], "ineligible")
    assert "no reserve left" in message
    log = _read(layout.data_file("sample-log.csv"))
    assert [(r["id"], r["reason"], r["replacement"]) for r in log] == [
        (official[0], "refused", reserve[0]), (official[1], "unreachable", reserve[1]),
        (reserve[0], "ineligible", "")]
    codes = {c["id"] for c in _read(layout.data_file("sample-codes.csv"))}
    assert codes == {reserve[1], *(m.id for m in state.official if m.unit_code == "X02")}
    with pytest.raises(HailongError, match="already replaced"):
        replace_member(survey, out, official[0], "refused")
    with pytest.raises(HailongError, match="not in the sample"):
        replace_member(survey, out, "X01-9", "refused")


def test_a_reserve_not_brought_in_cannot_be_replaced(setup):
    survey, out, layout = setup
    waiting = sampled.load_state(layout).reserve[0].id
    with pytest.raises(HailongError, match="not brought in"):
        replace_member(survey, out, waiting, "refused")


def test_score_takes_only_active_members_and_tracks_completion(setup):
    survey, out, layout = setup
    x01 = [r["id"] for r in _read(layout.data_file("sample.csv")) if r["unit_code"] == "X01"]
    replace_member(survey, out, x01[0], "refused")
    came = sampled.load_state(layout).log[0]["replacement"]
    key = KEY.encode()
    rows = [(x01[0], "X01"), (x01[1], "X01"), (came, "X01"), ("X01-2", "X01"), (x01[1], "X02")]
    raw = layout.raw_csv
    raw.parent.mkdir(parents=True, exist_ok=True)
    lines = ["submitted_at,response_id,unit_code,respondent_key,q1,q3"]
    lines += [f"2024-06-12T08:0{i}:00+07:00,r{i},{unit},{sign(survey.id, rid, key)},5,4"
              for i, (rid, unit) in enumerate(rows)]
    raw.write_text("\n".join(lines) + "\n", encoding="utf-8")
    score(survey, out)
    accepted = [r["response_id"] for r in _read(layout.data_file("responses.csv"))]
    assert accepted == ["r1", "r2"]  # the replaced member, a never-drawn one, another unit: out
    quarantine = _read(layout.data_file("quarantine.csv"))
    assert {q["reason_code"] for q in quarantine} == {"invalid_token"}
    completion = _read(layout.data_file("completion.csv"))
    assert list(completion[0]) == ["unit_code", "respondent_type", "sampled", "answered",
                                   "replaced", "percent"]
    assert [tuple(r.values()) for r in completion] == [
        ("X01", "individual", "2", "2", "1", "100.00"),
        ("X02", "individual", "1", "0", "0", "0.00"),
        ("total", "", "3", "2", "1", "66.67")]


def test_the_command_line_replaces_and_refuses_a_redraw(setup, tmp_path):
    survey, out, layout = setup
    first = _read(layout.data_file("sample.csv"))[0]["id"]
    runner = CliRunner()
    got = runner.invoke(cli, ["sample", str(survey.path), "--replace", first, "--reason",
                              "refused", "--out", str(out)])
    assert got.exit_code == 0, got.output
    assert "replaced (refused) by reserve" in got.output
    again = runner.invoke(cli, ["sample", str(survey.path), "--seed", "1", "--out", str(out)])
    assert again.exit_code != 0 and "already replaced" in str(again.exception)
    lacking = runner.invoke(cli, ["sample", str(survey.path), "--replace", first, "--out",
                                  str(out)])
    assert lacking.exit_code == 2 and "--reason" in lacking.output


def test_letters_go_to_the_active_members_only(setup):
    import subprocess

    from hailong.field.links import make_links

    survey, out, layout = setup
    official = [r["id"] for r in _read(layout.data_file("sample.csv"))]
    replace_member(survey, out, official[0], "refused")
    came = sampled.load_state(layout).log[0]["replacement"]
    summary = make_links(survey, out, "https://khaosat.example.gov.vn")
    table = _read(layout.links / "links.csv")
    assert [r["id"] for r in table] == [*official[1:], came]
    assert "3 personal links" in summary
    names = {r["id"]: r["name"] for r in table}
    assert names[came] == "Người " + came.split("-")[1]  # the name from transactions.csv
    letter = subprocess.run(["pdftotext", str(layout.links / "letters" / f"{came}.pdf"), "-"],
                            capture_output=True, text=True, check=True).stdout
    assert "được chọn ngẫu nhiên" in letter and "hợp tác xã" not in letter
