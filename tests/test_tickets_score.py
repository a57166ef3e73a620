"""Scoring a tickets survey: every ticket rule by hand (contract sections 5 and 6), the
contested-ticket rule (v3) in its place, and conservation."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey

from hailong.score.dedupe import CONTESTED, dedupe
from hailong.score.validate import validate
from hailong.survey import tickets
from hailong.survey.load import load_survey

TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
KEY = "a-test-key-that-is-long-enough-0123456789"
D12, D13 = dt.date(2024, 6, 12), dt.date(2024, 6, 13)
BASE = {
    "submitted_at": "2024-06-13T09:00:00+07:00", "response_id": "", "survey_id": "",
    "unit_code": "X01", "respondent_type": "", "respondent_key": "", "device_id": "",
    "ticket": "", "started_at": "", "q1": "5", "q2": "", "q3": "4", "kenh": "", "gop_y": "",
    "comment": "",
}


@pytest.fixture
def survey(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    return load_survey(write_survey(tmp_path / "s", toml=TOML))


def sign(unit="X01", day=D13, serial=1, survey_id="thu-nghiem", key=KEY):
    return tickets.sign(survey_id, unit, day, serial, key.encode())


def frame(*rows: dict) -> pd.DataFrame:
    data = [{**BASE, "response_id": f"r{i}", **r} for i, r in enumerate(rows)]
    out = pd.DataFrame({k: pd.Series([d[k] for d in data], dtype="str") for k in BASE})
    out.index = pd.Index(range(2, 2 + len(data)), name="row")
    return out


def reasons(survey, *rows):
    valid, quarantine = validate(frame(*rows), survey)
    return valid, dict(zip(quarantine.index, quarantine["reason"], strict=True))


def test_a_valid_ticket_is_accepted_as_sent(survey):
    t = sign()
    valid, bad = reasons(survey, {"ticket": t}, {"ticket": sign(serial=2).lower()})
    assert bad == {} and valid["ticket"].tolist() == [t, sign(serial=2).lower()]


def test_typed_in_lower_case_with_spaces(survey):
    t = sign()
    typed = f" {t[:4].lower()} {t[4:8].lower()}-{t[8:]} "
    valid, bad = reasons(survey, {"ticket": typed})
    assert bad == {} and valid["ticket"].tolist() == [typed]  # kept exactly as sent


@pytest.mark.parametrize("ticket, unit, when, expect", [
    ("", "X01", "2024-06-13T09:00:00+07:00", "thiếu mã phiếu"),  # missing
    ("forged", "X01", "2024-06-13T09:00:00+07:00", "không phải mã phiếu"),
    ("truncated", "X01", "2024-06-13T09:00:00+07:00", "không phải mã phiếu"),
    ("flipped", "X01", "2024-06-13T09:00:00+07:00", "không phải vé của cuộc khảo sát này"),
    ("other_unit", "X02", "2024-06-13T09:00:00+07:00", "phát cho đơn vị X02"),
    ("other_day", "X01", "2024-06-13T09:00:00+07:00", "dùng trước ngày đó"),
    ("other_survey", "X01", "2024-06-13T09:00:00+07:00", "không phải vé của cuộc khảo sát này"),
    ("other_key", "X01", "2024-06-13T09:00:00+07:00", "ký bằng khoá khác"),
    ("early", "X01", "2024-06-12T23:59:00+07:00", "vé của ngày 13/06/2024 được dùng trước"),
])
def test_invalid_tickets_are_quarantined(survey, ticket, unit, when, expect, vietnamese):
    text = {
        "": "",
        "forged": "ABCD-EFGH-JKM!",
        "truncated": sign()[:-1],
        "flipped": sign()[:-1] + ("0" if sign()[-1] != "0" else "1"),
        "other_unit": sign(unit="X01"),
        "other_day": sign(day=D13 + dt.timedelta(days=1)),  # tomorrow's ticket, used today
        "other_survey": sign(survey_id="khac"),
        "other_key": sign(key=KEY + "-other"),
        "early": sign(day=D13),
    }[ticket]
    valid, bad = reasons(survey, {"ticket": text, "unit_code": unit, "submitted_at": when})
    assert valid.empty and list(bad) == [2]
    assert bad[2].startswith("ticket") and expect in bad[2]


def test_a_ticket_whose_number_was_changed_by_hand_is_forged(survey, vietnamese):
    t = sign(day=D12)
    number = tickets._decode(t[:tickets.NUMBER_CHARS]) ^ 1  # the next slip's number, say
    moved = tickets._encode(number, tickets.NUMBER_CHARS) + t[tickets.NUMBER_CHARS:]
    _, bad = reasons(survey, {"ticket": moved})
    assert "không phải vé của cuộc khảo sát này" in bad[2]


def test_many_invalid_tickets_ask_about_the_key(survey, tmp_path):
    from hailong.score.pipeline import score

    path = tmp_path / "raw.csv"
    frame({"ticket": sign(key=KEY + "-other")}, {"ticket": sign(serial=2, key=KEY + "-other")}).to_csv(
        path, index=False)
    assert "2 of 2 rows have an invalid ticket" in score(survey, tmp_path / "out", responses=path)


def test_a_ticket_of_an_earlier_day_is_valid_later_in_the_window(survey):
    valid, bad = reasons(survey, {"ticket": sign(day=D12), "submitted_at": "2024-06-14T08:00:00+07:00"})
    assert bad == {} and len(valid) == 1


def test_an_earlier_rule_names_the_row_first(survey):
    _, bad = reasons(survey, {"ticket": "", "unit_code": "Z9"})
    assert "units.csv" in bad[2]


def test_a_ticket_carried_by_two_responses_counts_for_neither(survey):
    """The front-run slip: whoever holds it answers first; the visitor's own answer comes
    later with the same slip. Neither counts (contract v3, dedupe rule 2)."""
    t = sign()
    rows = frame({"ticket": t, "submitted_at": "2024-06-13T10:00:00+07:00", "device_id": "d2"},
                 {"ticket": t.lower().replace("", " ").strip(), "submitted_at": "2024-06-13T09:00:00+07:00",
                  "device_id": "d1"},
                 {"ticket": sign(serial=2), "submitted_at": "2024-06-13T11:00:00+07:00", "device_id": "d3"})
    valid, quarantine = validate(rows, survey)
    assert quarantine.empty
    kept, dup = dedupe(valid, survey)
    assert kept.index.tolist() == [4]
    assert dup.index.tolist() == [2, 3] and set(dup["rule"]) == {CONTESTED}
    assert set(dup["kept_response_id"]) == {""}  # nobody is kept in their place


def test_a_resent_form_stays_a_replay_and_is_not_contested(survey):
    t = sign()
    rows = frame({"ticket": t, "response_id": "same", "submitted_at": "2024-06-13T09:00:00+07:00"},
                 {"ticket": t, "response_id": "same", "submitted_at": "2024-06-13T09:01:00+07:00"})
    kept, dup = dedupe(validate(rows, survey)[0], survey)
    assert dup["rule"].tolist() == ["replay"] and len(kept) == 1


def test_a_resent_form_of_a_contested_ticket_is_a_replay_of_a_quarantined_row(survey):
    t = sign()
    rows = frame({"ticket": t, "response_id": "a", "submitted_at": "2024-06-13T09:00:00+07:00"},
                 {"ticket": t, "response_id": "a", "submitted_at": "2024-06-13T09:01:00+07:00"},
                 {"ticket": t, "response_id": "b", "submitted_at": "2024-06-13T09:02:00+07:00"})
    kept, dup = dedupe(validate(rows, survey)[0], survey)
    assert kept.empty
    assert dict(zip(dup.index, dup["rule"], strict=True)) == {2: CONTESTED, 3: "replay",
                                                              4: CONTESTED}


def test_one_slip_at_two_units_is_two_invalid_or_valid_answers_never_contested(survey):
    """A slip is signed for its unit: used at another unit it is invalid there, and the
    answer at its own unit is not contested by it."""
    t = sign(unit="X01")
    rows = frame({"ticket": t, "unit_code": "X01"}, {"ticket": t, "unit_code": "X02"})
    valid, quarantine = validate(rows, survey)
    assert quarantine["reason_code"].tolist() == ["invalid_ticket"]
    kept, dup = dedupe(valid, survey)
    assert len(kept) == 1 and dup.empty


def test_contested_comes_before_respondent_and_device(survey):
    t = sign()
    rows = frame({"ticket": t, "device_id": "d", "submitted_at": "2024-06-13T09:00:00+07:00"},
                 {"ticket": t, "device_id": "d", "submitted_at": "2024-06-13T09:01:00+07:00"},
                 {"ticket": sign(serial=2), "device_id": "d", "submitted_at": "2024-06-13T09:02:00+07:00"},
                 {"ticket": sign(serial=3), "device_id": "d", "submitted_at": "2024-06-13T09:03:00+07:00"})
    kept, dup = dedupe(validate(rows, survey)[0], survey)
    # the contested rows take no part in the device rule: serial 2 is kept, serial 3 drops
    assert dup["rule"].tolist() == [CONTESTED, CONTESTED, "device"]
    assert kept["ticket"].tolist() == [sign(serial=2)]


def test_score_quarantines_contested_tickets_and_conserves_rows(survey, tmp_path):
    from hailong.score.pipeline import score

    t = sign()
    raw = frame({"ticket": t}, {"ticket": t, "submitted_at": "2024-06-13T09:05:00+07:00"},
                {"ticket": t, "submitted_at": "2024-06-13T09:05:00+07:00", "response_id": "r1"},
                {"ticket": "nope"}, {"ticket": sign(serial=2, unit="X02"), "unit_code": "X02"})
    path = tmp_path / "raw.csv"
    raw.to_csv(path, index=False)
    out = tmp_path / "out"
    summary = score(survey, out, responses=path)
    assert "read 5 rows: 1 accepted, 3 quarantined, 1 duplicates" in summary
    data = out / survey.id / "data"

    def read(name):
        return pd.read_csv(data / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")

    dup, bad, ok = read("duplicates.csv"), read("quarantine.csv"), read("responses.csv")
    assert dup["rule"].tolist() == ["replay"]
    assert len(ok) + len(bad) + len(dup) == 5 and ok["unit_code"].tolist() == ["X02"]
    contested = bad[bad["reason_code"] == "contested_ticket"]
    assert contested["response_id"].tolist() == ["r0", "r1"]
    assert all(r.startswith(f"ticket '{t}': carried by 2 different responses at unit X01")
               for r in contested["reason"])
    signals = read("signals.csv")
    reuse = signals[signals["signal"] == "ticket_reuse"]
    assert reuse[["unit_code", "count", "share"]].values.tolist() == [["X01", "2", "1.0000"]]


def test_participation_counts_tickets_issued_and_used_per_issue_day(survey, tmp_path):
    from hailong.layout import Layout
    from hailong.score.participation import FILE_COLUMNS, write_reports

    layout = Layout(tmp_path / "out", survey.id)
    layout.tickets.mkdir(parents=True)
    issued = [(sign(day=D12, serial=i), "X01", "2024-06-12", str(i)) for i in (1, 2, 3)]
    issued += [(sign(day=D13, serial=1), "x01", "2024-06-13", "1")]
    issued += [(sign(unit="X02", day=D13, serial=i), "X02", "2024-06-13", str(i)) for i in (1, 2)]
    pd.DataFrame(issued, columns=["ticket", "unit_code", "date", "serial"]).to_csv(
        layout.tickets / "issued.csv", index=False, encoding="utf-8-sig")
    # two of the 12th's tickets used, one of them on the 13th; one of X02's
    accepted = frame({"ticket": issued[0][0], "submitted_at": "2024-06-12T10:00:00+07:00"},
                     {"ticket": issued[1][0], "submitted_at": "2024-06-13T10:00:00+07:00"},
                     {"ticket": issued[4][0], "unit_code": "X02"})
    write_reports(survey, layout, accepted)
    t = pd.read_csv(layout.data_file("participation.csv"), dtype=str, keep_default_na=False)
    assert list(t.columns) == FILE_COLUMNS
    got = {(r.unit_code, r.date): (r.responses, r.tickets_issued, r.tickets_used)
           for r in t.itertuples()}
    assert got[("X01", "2024-06-12")] == ("1", "3", "2")
    assert got[("X01", "2024-06-13")] == ("1", "1", "0")
    assert got[("X01", "total")] == ("2", "4", "2")
    assert got[("X02", "2024-06-13")] == ("1", "2", "1")
    assert got[("X03", "total")] == ("0", "0", "0")


def test_progress_report_shows_tickets_issued_used_and_visitors(tmp_path, monkeypatch):
    from hailong.field.progress import progress_report
    from hailong.layout import Layout
    from hailong.score.pipeline import score

    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    visitors = "unit_code,date,visitors\nX01,2024-06-13,4\nX02,2024-06-13,1\n"
    survey = load_survey(write_survey(tmp_path / "s", toml=TOML, visitors_csv=visitors))
    out = tmp_path / "out"
    layout = Layout(out, survey.id)
    layout.tickets.mkdir(parents=True)
    issued = [(sign(serial=i), "X01", "2024-06-13", str(i)) for i in (1, 2, 3)]
    issued += [(sign(unit="X02", serial=i), "X02", "2024-06-13", str(i)) for i in (1, 2)]
    pd.DataFrame(issued, columns=["ticket", "unit_code", "date", "serial"]).to_csv(
        layout.tickets / "issued.csv", index=False)
    raw = frame({"ticket": issued[0][0]}, {"ticket": issued[1][0]}, {"ticket": issued[3][0], "unit_code": "X02"})
    path = tmp_path / "raw.csv"
    raw.to_csv(path, index=False)
    score(survey, out, responses=path)
    text = progress_report(survey, out, day=D13, refresh=False)
    assert "VÉ NGÀY 13/06/2024: phát 5, đã dùng 3" in text
    assert "  Xã Tiên Điền: phát 3 vé, đã dùng 2, người đến 4" in text
    assert "Xã Xuân An: phát 2 vé, đã dùng 1, người đến 1 (phát nhiều vé hơn số người đến, cần kiểm tra)" in text
    assert "Thị trấn Xuân Hải: phát 0 vé, đã dùng 0, người đến chưa có số" in text
    zalo = progress_report(survey, out, day=D13, fmt="zalo", refresh=False)
    assert "- Xã Tiên Điền: phát 3 vé, đã dùng 2, người đến 4" in zalo
    csv_text = progress_report(survey, out, day=D13, fmt="csv", refresh=False)
    head, *lines = csv_text.splitlines()
    assert head.endswith(",tickets_issued,tickets_used")
    x01 = next(line for line in lines if line.startswith("X01,"))
    assert x01.endswith(",3,2")
