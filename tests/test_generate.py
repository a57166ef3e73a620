"""The answer generator: deterministic, realistic, and carrying the faults real sheets carry."""

from __future__ import annotations

import collections
import datetime as dt
import unicodedata
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.demo.generate import Faults, generate_responses, generate_units, units_csv
from hailong.survey.load import load_units


def clean(survey, seed=7):
    return generate_responses(survey, seed=seed, faults=None)


def test_same_seed_same_rows_other_seed_other_rows(survey):
    assert generate_responses(survey, seed=3) == generate_responses(survey, seed=3)
    assert generate_responses(survey, seed=3) != generate_responses(survey, seed=4)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_clean_rows_are_valid_answers(survey, seed):
    rows = clean(survey, seed)
    scale = {q.id for q in survey.scale_questions}
    allowed = {"", "0"} | {str(v) for v in range(survey.scale.min, survey.scale.max + 1)}
    for row in rows:
        assert list(row) == survey.response_columns
        assert all(isinstance(v, str) for v in row.values())
        assert row["survey_id"] == survey.id
        assert survey.find_unit(row["unit_code"]).code == row["unit_code"]
        assert row["respondent_type"] in survey.respondent_types
        uuid.UUID(row["response_id"])
        when = dt.datetime.fromisoformat(row["submitted_at"])
        assert when.utcoffset() == dt.timedelta(hours=7)
        assert survey.start <= when.date() <= survey.end
        assert dt.time(7, 30) <= when.time() < dt.time(17, 0)
        assert dt.datetime.fromisoformat(row["started_at"]) < when
        for q in survey.questions:
            if q.id in scale:
                assert row[q.id] in allowed
                if q.required:
                    assert row[q.id] not in ("", "0")
            elif q.type == "choice":
                assert row[q.id] in q.options
    assert len({r["response_id"] for r in rows}) == len(rows)
    assert len({r["device_id"] for r in rows}) == len(rows)
    times = [dt.datetime.fromisoformat(r["submitted_at"]) for r in rows]
    assert times == sorted(times)


def test_answers_look_real(survey):
    rows = clean(survey, seed=2020)
    answers = collections.Counter(r[q.id] for r in rows for q in survey.scale_questions)
    total = sum(answers.values())
    high = answers["4"] + answers["5"] + answers["3"]
    assert high / total > 0.7  # mostly 3-5
    assert answers["1"] + answers["2"] > 0  # some poor ones
    assert answers[""] + answers["0"] > 0  # some "no opinion"
    assert any(r["comment"] for r in rows)
    assert all(unicodedata.is_normalized("NFC", r["comment"]) for r in rows)


def test_units_spread_and_some_are_short_of_quota(survey):
    rows = clean(survey, seed=2020)
    by_unit = collections.defaultdict(list)
    for r in rows:
        by_unit[r["unit_code"]].append(r)
    satisfied = {}
    for code, unit_rows in by_unit.items():
        given_ = [r[q.id] for r in unit_rows for q in survey.scale_questions if r[q.id] not in ("", "0")]
        satisfied[code] = sum(a >= "4" for a in given_) / len(given_)
    assert max(satisfied.values()) - min(satisfied.values()) > 0.2
    counts = {u.code: len(by_unit[u.code]) for u in survey.units}
    assert min(counts.values()) < survey.scoring.min_responses  # one unit cannot be ranked
    assert max(counts.values()) >= survey.units[0].quota
    types = collections.Counter(r["respondent_type"] for r in rows)
    assert types["individual"] > types["organization"] > 0


def test_faults_are_added(survey):
    faults = Faults(replays=3, device_repeats=2, unknown_unit=1, bad_answer=1, outside_window=1,
                    lower_case_unit=2)
    base = clean(survey, seed=11)
    rows = generate_responses(survey, seed=11, faults=faults)
    assert len(rows) == len(base) + 3 + 2 + 1 + 1 + 1 + 2
    ids = collections.Counter(r["response_id"] for r in rows)
    assert sum(n - 1 for n in ids.values()) == 3
    replayed = [r for r in rows if ids[r["response_id"]] > 1]
    first, again = replayed[0], next(r for r in replayed[1:] if r["response_id"] == replayed[0]["response_id"])
    assert {k: v for k, v in first.items() if k != "submitted_at"} == {
        k: v for k, v in again.items() if k != "submitted_at"}
    assert again["submitted_at"] > first["submitted_at"]
    # a device repeat is a new response_id on a (unit, device) already used, replayed or not
    devices = collections.Counter(
        (u, d) for u, d, _ in {(r["unit_code"], r["device_id"], r["response_id"]) for r in rows})
    assert sum(n - 1 for n in devices.values()) >= 2
    unknown = [r for r in rows if survey.find_unit(r["unit_code"]) is None]
    assert len(unknown) == 1
    assert sum(str(survey.scale.max + 2) in [r[q.id] for q in survey.scale_questions] for r in rows) == 1
    outside = [r for r in rows
               if not survey.start <= dt.datetime.fromisoformat(r["submitted_at"]).date() <= survey.end]
    assert len(outside) == 1
    lower = [r for r in rows if r["unit_code"] != r["unit_code"].strip().upper()
             and survey.find_unit(r["unit_code"]) is not None]
    assert len(lower) == 2


def test_default_faults_scale_with_size(survey):
    rows = generate_responses(survey, seed=2020)
    assert len(rows) > len(clean(survey, seed=2020))


def test_generate_units_for_benchmarks(tmp_path):
    units = generate_units(2000, seed=1)
    assert len(units) == 2000
    assert len({u.code for u in units}) == 2000
    assert units == generate_units(2000, seed=1)
    assert all(u.name.split(" ")[0] in ("Xã", "Phường", "Thị") for u in units)
    assert all(unicodedata.is_normalized("NFC", u.name + u.parent) for u in units)
    assert len({(u.parent, u.name) for u in units}) == 2000
    assert 50 < len({u.parent for u in units}) < 300
    # the file round-trips through the survey loader
    path = tmp_path / "units.csv"
    path.write_text(units_csv(units), encoding="utf-8")
    assert load_units(path) == units


ROSTER = "id,name,unit_code\n" + "".join(
    f"H{i:02d},Hợp tác xã số {i},X0{i % 3 + 1}\n" for i in range(30))


def test_roster_access_signs_each_member_once(tmp_path, monkeypatch):
    from conftest import SMALL_TOML, STRONG_KEY, write_survey

    from hailong.survey.load import load_survey
    from hailong.survey.tokens import KEY_ENV, roster_id_of, verify

    monkeypatch.setenv(KEY_ENV, STRONG_KEY)
    toml = SMALL_TOML.replace('respondent_types = ["individual", "organization"]',
                              'access = "roster"\nrespondent_types = ["organization"]')
    survey = load_survey(write_survey(tmp_path / "r", toml=toml, roster_csv=ROSTER))
    rows = clean(survey, seed=3)
    ids = [roster_id_of(r["respondent_key"]) for r in rows]
    assert len(ids) == len(set(ids)) and 10 < len(ids) < 30
    members = {f"H{i:02d}": f"X0{i % 3 + 1}" for i in range(30)}
    for row, rid in zip(rows, ids, strict=True):
        assert verify(survey.id, row["respondent_key"], STRONG_KEY.encode())
        assert row["unit_code"] == members[rid] and row["respondent_type"] == "organization"
    faulty = generate_responses(survey, seed=3)
    keys = collections.Counter((r["respondent_key"], r["response_id"]) for r in faulty)
    by_member = collections.Counter(k for k, _ in keys)
    assert any(n > 1 for n in by_member.values())  # a member answered twice, as a new form
