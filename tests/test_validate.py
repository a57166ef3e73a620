"""Validation: each rule of contract section 5, with the reason a person can act on."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.score.validate import REASON_CODES, SUBMITTED, parse_times, validate

GOOD = {
    "submitted_at": "2024-06-12T08:15:00+07:00", "response_id": "r1", "survey_id": "thu-nghiem",
    "unit_code": "X01", "respondent_type": "individual", "respondent_key": "", "device_id": "d1",
    "ticket": "", "started_at": "", "q1": "5", "q2": "4", "q3": "3", "kenh": "Khác",
    "gop_y": "", "comment": "",
}


def frame(*changes: dict, survey=None) -> pd.DataFrame:
    """Rows of GOOD with the given changes, as read_responses gives them (text, row numbers)."""
    rows = [{**GOOD, **c} for c in changes]
    out = pd.DataFrame({k: pd.Series([r[k] for r in rows], dtype="str") for k in GOOD})
    out.index = pd.Index(range(2, 2 + len(rows)), name="row")
    return out


def one(survey, **change):
    """(valid, quarantine) for a single row."""
    return validate(frame(change), survey)


def reason(survey, **change) -> str:
    valid, quarantine = one(survey, **change)
    assert len(valid) == 0 and len(quarantine) == 1, quarantine
    return quarantine["reason"].iloc[0]


def test_a_good_row_is_valid_and_keeps_its_row_number(survey):
    valid, quarantine = one(survey)
    assert len(valid) == 1 and quarantine.empty
    assert valid.index.tolist() == [2]
    assert valid[SUBMITTED].iloc[0] == pd.Timestamp("2024-06-12T01:15:00Z")


def test_survey_id(survey):
    assert reason(survey, survey_id="khac") == "survey_id 'khac' is not this survey ('thu-nghiem')"
    valid, _ = one(survey, survey_id="")
    assert valid["survey_id"].iloc[0] == "thu-nghiem"


def test_unit_code_trimmed_case_insensitive_and_normalised(survey):
    valid, _ = one(survey, unit_code="  x02 ")
    assert valid["unit_code"].iloc[0] == "X02"
    assert reason(survey, unit_code="X99") == "unit_code 'X99' is not in units.csv"
    assert reason(survey, unit_code="") == "unit_code '' is not in units.csv"


@pytest.mark.parametrize("answer, normalised", [
    ("5", "5"), ("5.0", "5"), (" 4 ", "4"), ("", ""), ("0", "0"), ("1", "1"), ("4.000", "4"),
    ("05", "5"),
])
def test_scale_answers_accepted(survey, answer, normalised):
    valid, _ = one(survey, q1=answer)
    assert valid["q1"].iloc[0] == normalised


@given(st.lists(st.tuples(st.sampled_from(["X01", " x02", "x01 ", "X03"]),
                          st.sampled_from(["5", "5.0", " 4 ", "", "0", "1", "05", "-0", "0.00"])),
                min_size=1, max_size=30))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=40)
def test_the_numbers_read_for_the_tallies_are_what_scoring_reads_from_the_texts(survey, rows):
    """The unit's place and the answers as numbers that the validation query hands on are
    what scoring.tally_arrays reads from the normalised texts of the same valid rows."""
    from hailong.score.scoring import tally_arrays
    from hailong.score.validate import UNIT, answer_column

    valid, _ = validate(frame(*({"unit_code": u, "q1": a} for u, a in rows)), survey)
    unit, answers = tally_arrays(valid.drop(columns=UNIT), survey)
    assert valid[UNIT].tolist() == unit.tolist()
    for j, q in enumerate(survey.scale_questions):
        assert valid[answer_column(q.id)].tolist() == answers[j].tolist()


@pytest.mark.parametrize("answer, message", [
    ("7", "q1: answer '7' outside 1..5"),
    ("-1", "q1: answer '-1' outside 1..5"),
    ("năm", "q1: answer 'năm' is not a whole number"),
    ("4.5", "q1: answer '4.5' is not a whole number"),
    ("1_0", "q1: answer '1_0' is not a whole number"),
    # int() and float() read these; no form writes them and no person means them as an answer
    ("1e0", "q1: answer '1e0' is not a whole number"),
    ("+4", "q1: answer '+4' is not a whole number"),
    ("٤", "q1: answer '٤' is not a whole number"),          # an Arabic-Indic digit four
    ("4.00000000000000001", "q1: answer '4.00000000000000001' is not a whole number"),
    ("5.", "q1: answer '5.' is not a whole number"),
    ("0x5", "q1: answer '0x5' is not a whole number"),
])
def test_scale_answers_rejected(survey, answer, message):
    assert reason(survey, q1=answer).startswith(message)


def test_choice_answers(survey):
    valid, _ = one(survey, kenh=" người quen ")
    assert valid["kenh"].iloc[0] == "Người quen"  # the option as written in survey.toml
    valid, _ = one(survey, kenh="")
    assert len(valid) == 1
    assert reason(survey, kenh="Báo chí").startswith("kenh: 'Báo chí' is not one of the options")


def test_required_question_left_empty(survey):
    assert reason(survey, q3="  ") == "q3: required question left empty"
    valid, _ = one(survey, q3="0")  # "no opinion" is an answer the form let them give
    assert len(valid) == 1


@pytest.mark.parametrize("text, utc", [
    ("2024-06-12T08:15:00+07:00", "2024-06-12T01:15:00"),
    ("2024-06-12T01:15:00Z", "2024-06-12T01:15:00"),
    ("2024-06-12T08:15:00.123+07:00", "2024-06-12T01:15:00.123"),
    ("2024-06-12 08:15:00", "2024-06-12T01:15:00"),      # naive: local time
    ("2024-06-12T08:15", "2024-06-12T01:15:00"),
    ("12/06/2024 08:15:00", "2024-06-12T01:15:00"),      # Google Sheets, day first
    ("12/06/2024 8:15", "2024-06-12T01:15:00"),
    ("45455.34375", "2024-06-12T01:15:00"),              # Sheets serial day number
    ("2024-06-12", "2024-06-11T17:00:00"),
    # nanoseconds are cut to the microsecond, aware or naive
    ("2024-06-12T08:15:00.123456789+07:00", "2024-06-12T01:15:00.123456"),
    ("2024-06-12 08:15:00.123456789", "2024-06-12T01:15:00.123456"),
    ("2024-06-12T01:15:00.1234567Z", "2024-06-12T01:15:00.123456"),
])
def test_parse_times(text, utc):
    parsed = parse_times(pd.Series([text], dtype="str"), "Asia/Ho_Chi_Minh")
    assert parsed.iloc[0] == pd.Timestamp(utc, tz="UTC")


def test_nanoseconds_among_other_times():
    """One nanosecond stamp in a batch turned pandas' whole batch into datetime64[ns], which
    did not fit the result (a TypeError) and could not hold a date past 2262."""
    texts = ["2024-06-12T08:15:00+07:00", "2024-06-12T08:15:00.123456789+07:00",
             "9999-01-01T00:00:00.123456789+07:00", "2024-06-12 08:15:00.987654321",
             "2024-06-12 08:15:00", "12/06/2024 08:15:00", "45455.34375"]
    parsed = parse_times(pd.Series(texts, dtype="str"), "Asia/Ho_Chi_Minh")
    assert str(parsed.dtype) == "datetime64[us, UTC]"
    assert parsed.tolist() == [pd.Timestamp(t, tz="UTC") for t in [
        "2024-06-12T01:15:00", "2024-06-12T01:15:00.123456", "9998-12-31T17:00:00.123456",
        "2024-06-12T01:15:00.987654", "2024-06-12T01:15:00", "2024-06-12T01:15:00",
        "2024-06-12T01:15:00"]]


def test_nanosecond_rows_are_valid(survey):
    valid, quarantine = validate(frame({"submitted_at": "2024-06-12T08:00:00.123456789+07:00"},
                                       {"submitted_at": "2024-06-12 08:00:00.123456789"},
                                       {"submitted_at": "2024-06-12T08:00:00+07:00"}), survey)
    assert quarantine.empty and len(valid) == 3
    assert valid[SUBMITTED].tolist() == [pd.Timestamp("2024-06-12T01:00:00.123456Z")] * 2 + [
        pd.Timestamp("2024-06-12T01:00:00Z")]
    assert valid["submitted_at"].iloc[0] == "2024-06-12T08:00:00.123456789+07:00"  # as read


@pytest.mark.parametrize("text", ["", "hôm qua", "2024-13-45T08:00:00+07:00", "31/02/2024 08:00:00",
                                  "12/06/24", "0"])
def test_unreadable_times(survey, text):
    assert parse_times(pd.Series([text], dtype="str"), survey.tz).isna().all()
    assert reason(survey, submitted_at=text).startswith(f"submitted_at '{text}' is not a date-time")


@pytest.mark.parametrize("text, ok", [
    ("2024-06-12T00:00:00+07:00", True),     # first local minute of the window
    ("2024-06-11T23:59:59+07:00", False),
    ("2024-06-11T17:00:00Z", True),          # the same instant as 00:00 local
    ("2024-06-14T23:59:59+07:00", True),     # last local second
    ("2024-06-14T17:00:00Z", False),         # 00:00 on the 15th, local
    ("15/06/2024 00:00:01", False),
    ("14/06/2024 23:00:00", True),
])
def test_window_is_inclusive_in_local_dates(survey, text, ok):
    valid, quarantine = one(survey, submitted_at=text)
    assert len(valid) == int(ok)
    if not ok:
        assert "is outside the survey window 2024-06-12..2024-06-14" in quarantine["reason"].iloc[0]


def test_times_written_back_in_one_form(survey):
    valid, _ = validate(frame({"submitted_at": "12/06/2024 08:15:00"},
                              {"submitted_at": "2024-06-12T09:00:00+07:00"},
                              {"submitted_at": "45455.5"}), survey)
    assert valid["submitted_at"].tolist() == [
        "2024-06-12T08:15:00+07:00", "2024-06-12T09:00:00+07:00", "2024-06-12T12:00:00+07:00"]


def test_respondent_type(survey):
    valid, _ = one(survey, respondent_type="")
    assert valid["respondent_type"].iloc[0] == "individual"
    valid, _ = one(survey, respondent_type=" Organization")
    assert valid["respondent_type"].iloc[0] == "organization"
    assert reason(survey, respondent_type="citizen") == (
        "respondent_type 'citizen' is not one of individual, organization")


def test_the_first_failing_rule_is_the_reason(survey):
    assert reason(survey, survey_id="x", unit_code="X99", q1="9").startswith("survey_id")
    assert reason(survey, unit_code="X99", q1="9").startswith("unit_code")
    assert reason(survey, q1="9", q3="", submitted_at="x").startswith("q1:")
    assert reason(survey, q3="", submitted_at="x").startswith("q3:")
    assert reason(survey, submitted_at="x", respondent_type="y").startswith("submitted_at")


def test_quarantine_keeps_the_row_as_given(survey):
    rows = frame({"unit_code": " x01 ", "q1": "5.0"}, {"unit_code": " x01 ", "q1": "9"})
    valid, quarantine = validate(rows, survey)
    assert valid.index.tolist() == [2] and quarantine.index.tolist() == [3]
    assert quarantine.loc[3, "unit_code"] == " x01 " and quarantine.loc[3, "q1"] == "9"
    assert rows.loc[2, "q1"] == "5.0"  # the input frame is not changed
    assert len(valid) + len(quarantine) == len(rows)


def test_many_rows_each_judged(survey):
    rows = frame(*[{"q1": str(i % 8), "response_id": f"r{i}"} for i in range(40)])
    valid, quarantine = validate(rows, survey)
    assert sorted(valid["q1"].unique()) == ["0", "1", "2", "3", "4", "5"]
    assert set(quarantine["q1"]) == {"6", "7"}
    assert len(valid) + len(quarantine) == 40


def test_roster_access_checks_tokens(tmp_path, monkeypatch):
    from hailong.survey import roster
    from hailong.survey.load import load_survey

    folder = write_survey(tmp_path / "htx", SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"'))
    survey = load_survey(folder)
    seen = []

    def check_keys(survey_, keys, units=None):
        seen.append(list(keys))
        return keys.str.startswith("ok")

    monkeypatch.setattr(roster, "check_keys", check_keys)
    rows = frame({"respondent_key": "ok.1"}, {"respondent_key": "forged"}, {"respondent_key": ""},
                 {"respondent_key": "ok.2", "q1": "9"})
    valid, quarantine = validate(rows, survey)
    assert valid.index.tolist() == [2]
    assert quarantine["reason"].tolist()[:2] == ["invalid token", "invalid token"]
    assert quarantine["reason_code"].tolist() == ["invalid_token", "invalid_token", "bad_answer"]
    assert seen == [["ok.1", "forged", ""]]  # rows already failing are not checked again


@pytest.mark.parametrize("change, code", [
    ({"survey_id": "khac"}, "wrong_survey"),
    ({"unit_code": "X99"}, "unknown_unit"),
    ({"q1": "9"}, "bad_answer"),
    ({"q1": "năm"}, "bad_answer"),
    ({"kenh": "Báo chí"}, "bad_choice"),
    ({"q3": ""}, "required_missing"),
    ({"submitted_at": "hôm qua"}, "bad_time"),
    ({"submitted_at": "2024-06-15T08:00:00+07:00"}, "outside_window"),
    ({"respondent_type": "citizen"}, "bad_respondent_type"),
])
def test_each_rule_has_its_stable_reason_code(survey, change, code):
    """quarantine.csv: reason_code (for programs) beside the reason (for people)."""
    valid, quarantine = one(survey, **change)
    assert quarantine["reason_code"].tolist() == [code]
    assert list(quarantine.columns[-2:]) == ["reason_code", "reason"]
    assert code in REASON_CODES


def test_a_new_rule_needs_its_code_declared():
    from hailong.score.validate import _Verdicts

    verdicts = _Verdicts(2)
    verdicts.fail([True, False], "empty", "no answer")
    assert verdicts.code.tolist() == ["empty", ""]
    with pytest.raises(ValueError, match="REASON_CODES"):
        verdicts.fail([False, True], "no_such_rule", "x")


@pytest.fixture
def optional_survey(tmp_path):
    """The small survey with no required question, so an empty row reaches the `empty` rule."""
    from hailong.survey.load import load_survey

    return load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML.replace("required = true\n", "")))


NOTHING = {"q1": "", "q2": "", "q3": "", "kenh": "", "gop_y": ""}


@pytest.mark.parametrize("change", [
    NOTHING, {**NOTHING, "q1": "0", "q2": " 0 ", "q3": "0.0"}, {**NOTHING, "comment": "chỉ góp ý"},
    {**NOTHING, "kenh": "  ", "gop_y": "\t"},
])
def test_a_row_answering_nothing_is_quarantined_as_empty(optional_survey, change):
    from hailong.score.validate import EMPTY_REASON

    assert reason(optional_survey, **change) == EMPTY_REASON


@pytest.mark.parametrize("answer", [{"q1": "4"}, {"q3": "1"}, {"kenh": "Khác"}, {"gop_y": "ý kiến"}])
def test_any_one_answer_is_not_empty(optional_survey, answer):
    valid, quarantine = one(optional_survey, **{**NOTHING, **answer})
    assert len(valid) == 1 and len(quarantine) == 0


def test_empty_comes_after_the_earlier_rules(optional_survey):
    assert reason(optional_survey, **NOTHING, unit_code="X99").startswith("unit_code")
    assert reason(optional_survey, **NOTHING, submitted_at="x").startswith("submitted_at")


CELLS = st.sampled_from(["", " ", "0", "0.0", "-0", "00", "4", "5", "Khác", "x", " 0 ", "\t"])


@given(rows=st.lists(st.fixed_dictionaries({q: CELLS for q in NOTHING}), min_size=1, max_size=20))
def test_the_empty_rule_is_the_collectors_rule(tmp_path_factory, rows):
    """score's column-wise rule and Survey.answers_nothing (serve, the page) agree on any row."""
    from hailong.score.validate import EMPTY_REASON
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path_factory.mktemp("s") / "s",
                                      toml=SMALL_TOML.replace("required = true\n", "")))
    _, quarantine = validate(frame(*rows, survey=survey), survey)
    empty = set(quarantine.index[quarantine["reason"] == EMPTY_REASON])
    assert empty == {2 + i for i, r in enumerate(rows) if survey.answers_nothing(r)}


@given(st.permutations(list(range(12))))
def test_the_querys_rows_come_back_in_row_order_whatever_order_duckdb_gave(order):
    import pyarrow as pa

    from hailong.score.validate import _in_row_order

    got = pa.table({"pos": pa.array(order, pa.int64()),
                    "reason": pa.array([f"row {i}" for i in order])})
    back = _in_row_order(got, len(order))
    assert back.column("pos").to_pylist() == list(range(12))
    assert back.column("reason").to_pylist() == [f"row {i}" for i in range(12)]
