"""Dedupe: replay, respondent and device rules, keep first/last, idempotence."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.score.dedupe import dedupe
from hailong.score.validate import validate
from hailong.survey.load import load_survey

BASE = {
    "submitted_at": "", "response_id": "", "survey_id": "", "unit_code": "X01",
    "respondent_type": "", "respondent_key": "", "device_id": "", "ticket": "", "started_at": "",
    "q1": "5", "q2": "", "q3": "4", "kenh": "", "gop_y": "", "comment": "",
}


def rows(*specs) -> pd.DataFrame:
    """Valid rows from (minute, response_id, unit, respondent_key, device_id) tuples."""
    data = []
    for minute, rid, unit, key, device in specs:
        data.append({**BASE, "submitted_at": f"2024-06-12T08:{minute:02d}:00+07:00",
                     "response_id": rid, "unit_code": unit, "respondent_key": key,
                     "device_id": device})
    frame = pd.DataFrame({k: pd.Series([d[k] for d in data], dtype="str") for k in BASE})
    frame.index = pd.Index(range(2, 2 + len(data)), name="row")
    return frame


def run(survey, frame):
    valid, quarantine = validate(frame, survey)
    assert quarantine.empty, quarantine["reason"].tolist()
    return dedupe(valid, survey)


def survey_with(tmp_path, dedupe_section: str):
    return load_survey(write_survey(tmp_path / "s", SMALL_TOML + "\n[dedupe]\n" + dedupe_section))


def test_replay_keeps_the_earliest_even_when_it_is_later_in_the_file(survey):
    kept, dup = run(survey, rows((30, "a", "X01", "", ""), (10, "a", "X01", "", ""),
                                 (20, "b", "X01", "", "")))
    assert kept.index.tolist() == [3, 4]  # file order
    assert dup.index.tolist() == [2]
    assert dup["rule"].tolist() == ["replay"] and dup["kept_response_id"].tolist() == ["a"]


def test_replay_keeps_the_earliest_whatever_keep_says(tmp_path):
    survey = survey_with(tmp_path, 'keep = "last"\n')
    kept, dup = run(survey, rows((10, "a", "X01", "", ""), (20, "a", "X01", "", "")))
    assert kept.index.tolist() == [2] and dup["rule"].tolist() == ["replay"]


def test_empty_response_ids_are_not_replays(survey):
    kept, dup = run(survey, rows((10, "", "X01", "", ""), (20, "", "X01", "", "")))
    assert len(kept) == 2 and dup.empty


def test_respondent_keep_first(survey):
    kept, dup = run(survey, rows((10, "a", "X01", "k1", ""), (20, "b", "X01", "k1", ""),
                                 (30, "c", "X02", "k1", ""),  # another unit: not a duplicate
                                 (40, "d", "X01", "", ""), (50, "e", "X01", "", "")))
    assert kept["response_id"].tolist() == ["a", "c", "d", "e"]
    assert dup["response_id"].tolist() == ["b"]
    assert dup["rule"].tolist() == ["respondent"] and dup["kept_response_id"].tolist() == ["a"]


def test_respondent_keep_last(tmp_path):
    survey = survey_with(tmp_path, 'keep = "last"\n')
    kept, dup = run(survey, rows((30, "c", "X01", "k1", ""), (10, "a", "X01", "k1", ""),
                                 (20, "b", "X01", "k1", "")))
    assert kept["response_id"].tolist() == ["c"]
    assert dup["response_id"].tolist() == ["a", "b"]  # file order
    assert set(dup["kept_response_id"]) == {"c"} and set(dup["rule"]) == {"respondent"}


def test_device_rule_and_by_device_false(tmp_path, survey):
    data = rows((10, "a", "X01", "", "d1"), (20, "b", " x01 ", "", "d1"), (30, "c", "X02", "", "d1"),
                (40, "d", "X01", "", ""))
    kept, dup = run(survey, data)
    assert kept["response_id"].tolist() == ["a", "c", "d"]
    assert dup["rule"].tolist() == ["device"] and dup["kept_response_id"].tolist() == ["a"]

    kiosk = survey_with(tmp_path, "by_device = false\n")
    kept, dup = run(kiosk, data)
    assert len(kept) == 4 and dup.empty


def test_rules_apply_in_order_to_what_the_earlier_rules_kept(tmp_path):
    survey = survey_with(tmp_path, 'keep = "last"\n')
    # b replays a (dropped as replay), so the respondent rule sees only a and c: c is kept
    kept, dup = run(survey, rows((10, "a", "X01", "k", "d1"), (20, "a", "X01", "k", "d2"),
                                 (30, "c", "X01", "k", "d3")))
    assert kept["response_id"].tolist() == ["c"]
    assert dict(zip(dup.index, dup["rule"], strict=True)) == {2: "respondent", 3: "replay"}
    assert dup.loc[2, "kept_response_id"] == "c" and dup.loc[3, "kept_response_id"] == "a"


def test_ties_in_time_fall_back_to_file_order(survey):
    kept, dup = run(survey, rows((10, "a", "X01", "k", ""), (10, "b", "X01", "k", "")))
    assert kept["response_id"].tolist() == ["a"]


spec = st.tuples(st.integers(0, 59), st.sampled_from(["", "a", "b", "c", "d"]),
                 st.sampled_from(["X01", "X02", "x01 "]), st.sampled_from(["", "k1", "k2"]),
                 st.sampled_from(["", "d1", "d2", "d3"]))


@pytest.fixture(scope="module")
def surveys(tmp_path_factory):
    """One survey per dedupe setting, made once for all the generated examples."""
    made = {}
    for keep in ("first", "last"):
        for by_device in (True, False):
            folder = tmp_path_factory.mktemp("s")
            made[keep, by_device] = load_survey(write_survey(
                folder, SMALL_TOML + f'\n[dedupe]\nkeep = "{keep}"\n'
                f"by_device = {str(by_device).lower()}\n"))
    return made


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(spec, max_size=25), st.sampled_from(["first", "last"]), st.booleans())
def test_dedupe_twice_is_dedupe_once_and_nothing_is_lost(surveys, specs, keep, by_device):
    survey = surveys[keep, by_device]
    valid, _ = validate(rows(*specs), survey)
    kept, dup = dedupe(valid, survey)
    assert len(kept) + len(dup) == len(valid)
    assert sorted(kept.index.tolist() + dup.index.tolist()) == valid.index.tolist()
    again, none = dedupe(kept, survey)
    assert none.empty and again.index.tolist() == kept.index.tolist()
    # the row named as kept may itself fall to a later rule (a replayed form whose respondent
    # answered again), so it is a valid row's id, not always a kept one
    assert set(dup["kept_response_id"]) <= set(valid["response_id"])


def test_rows_read_back_from_responses_csv_are_ordered_by_their_text_times(survey):
    """Without the parsed times validate adds, dedupe reads submitted_at itself."""
    valid, _ = validate(rows((30, "a", "X01", "k", ""), (10, "b", "X01", "k", "")), survey)
    kept, dup = dedupe(valid.drop(columns="_submitted"), survey)
    assert kept["response_id"].tolist() == ["b"] and dup["kept_response_id"].tolist() == ["b"]
