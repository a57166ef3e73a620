"""Participation: ±tolerance edges, busy threshold, totals, quotas and the files score writes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.score import participation as p
from hailong.survey.load import load_survey

D1, D2, D3 = dt.date(2024, 6, 12), dt.date(2024, 6, 13), dt.date(2024, 6, 14)


@pytest.mark.parametrize(("responses", "visitors", "status", "low", "high"), [
    (10, 20, "ok", 10, 30),          # exactly at the lower bound (20 × 0.5 = 10)
    (30, 20, "ok", 10, 30),          # exactly at the upper bound (20 × 1.5 = 30)
    (9, 20, "too_few", 10, 30),
    (31, 20, "too_many", 10, 30),
    (15, 30, "ok", 15, 45),          # 30 × 0.5 = 15 lies above the minimum of 10
    (14, 30, "too_few", 15, 45),
    (45, 30, "ok", 15, 45),
    (46, 30, "too_many", 15, 45),
    (11, 21, "ok", 11, 31),          # 10.5 rounds up to 11, 31.5 down to 31
    (10, 21, "too_few", 11, 31),
    (32, 21, "too_many", 11, 31),
    (10, 10, "ok", 10, 15),          # the minimum, with exactly as many visitors
    (9, 10, "too_few", 10, 15),
    (8, 8, "too_few", 10, 12),       # 8 visitors cannot reach the plan's minimum of 10
    (7, 8, "too_few", 10, 12),
    (10, 8, "ok", 10, 12),
    (12, 8, "ok", 10, 12),
    (13, 8, "too_many", 10, 12),
    (7, 4, "too_many", 10, 6),       # both bounds fail: more answers than visitors allow wins
    (4, 4, "too_few", 10, 6),
    (0, 0, "too_few", 10, 0),        # closed office: no answers, below the minimum
    (1, 0, "too_many", 10, 0),
])
def test_judge_quiet_office(responses, visitors, status, low, high):
    assert p.judge(responses, visitors, 10, 0.5) == (low, high, status)


def test_judge_without_visitors():
    assert p.judge(3, None, 10, 0.5) == (10, None, "no_visitor_count")


def test_exact_arithmetic_for_decimal_tolerance():
    # float: 10 × (1 − 0.3) = 7.000000000000001, whose ceiling would wrongly be 8
    assert p.judge(7, 10, 1, 0.3) == (7, 13, "ok")


def _survey(tmp_path, extra="", **files):
    toml = SMALL_TOML + extra
    return load_survey(write_survey(tmp_path / "s", toml=toml, **files))


def test_busy_threshold(tmp_path):
    s = _survey(tmp_path)
    assert (s.participation.busy_visitors, s.participation.min_busy) == (40, 20)
    # 40 visitors is not above 40: minimum 10, bounds 20..60
    t = p.participation_table(s, {("X01", D1): 20}, {("X01", D1): 40}, days=[D1])
    assert t.iloc[0][["min_expected", "max_expected", "status"]].tolist() == [20, 60, "ok"]
    # 41 visitors: busy (minimum 20), but ceil(41 × 0.5) = 21 is higher still
    t = p.participation_table(s, {("X01", D1): 20}, {("X01", D1): 41}, days=[D1])
    assert t.iloc[0][["min_expected", "max_expected", "status"]].tolist() == [21, 61, "too_few"]
    # the busy minimum binds where the tolerance does not: tolerance 0.9, 50 visitors
    s2 = _survey(tmp_path / "b", "\n[participation]\ntolerance = 0.9\n")
    t = p.participation_table(s2, {("X01", D1): 19}, {("X01", D1): 50}, days=[D1])
    assert t.iloc[0][["min_expected", "max_expected", "status"]].tolist() == [20, 95, "too_few"]
    t = p.participation_table(s2, {("X01", D1): 20}, {("X01", D1): 40}, days=[D1])
    assert t.iloc[0][["min_expected", "status"]].tolist() == [10, "ok"]  # 40: not busy


def test_table_rows_and_totals(tmp_path):
    s = _survey(tmp_path)
    counts = {("X01", D1): 12, ("X01", D2): 30, ("X01", D3): 5, ("X02", D1): 10}
    visitors = {("X01", D1): 20, ("X01", D2): 20, ("X01", D3): 50, ("X02", D1): 15}
    t = p.participation_table(s, counts, visitors)
    assert list(t.columns) == p.PARTICIPATION_COLUMNS
    # v2: rows only for unit-days with responses or visitors, and a total per unit
    assert list(zip(t.unit_code, t.date, strict=True)) == [
        ("X01", "2024-06-12"), ("X01", "2024-06-13"), ("X01", "2024-06-14"), ("X01", "total"),
        ("X02", "2024-06-12"), ("X02", "total"), ("X03", "total")]
    assert t.tickets_issued.isna().all() and t.tickets_used.isna().all()  # not a tickets survey
    x1 = t[t.unit_code == "X01"].set_index("date")
    assert x1.loc["2024-06-12", "status"] == "ok"
    assert x1.loc["2024-06-13", "status"] == "ok"
    assert x1.loc["2024-06-14", "status"] == "too_few"  # busy day: minimum 25 (50 × 0.5)
    total = x1.loc["total"]
    # 47 responses, 90 visitors: bounds max(10+10+20, 45) = 45 .. 135
    assert (total.responses, total.visitors, total.min_expected, total.max_expected,
            total.status) == (47, 90, 45, 135, "ok")
    x2 = t[t.unit_code == "X02"].set_index("date")
    assert x2.loc["total", "status"] == "no_visitor_count"  # 13th and 14th have no count
    assert x2.loc["total", "min_expected"] == 30
    assert x2.loc["total", "visitors"] == 15
    assert pd.isna(x2.loc["total", "max_expected"])
    x3 = t[t.unit_code == "X03"].set_index("date")
    assert pd.isna(x3.loc["total", "visitors"])
    assert x3.loc["total", "min_expected"] == 30


def test_local_dates():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    frame = pd.DataFrame({"submitted_at": [
        "2024-06-11T18:30:00Z",         # 01:30 on the 12th in Vietnam
        "2024-06-11T18:30:00+00:00",
        "2024-06-12T23:59:00+07:00",
        "12/06/2024 08:00:00",          # Google Sheets text, local time
        "2024-06-12 08:00",
        "yesterday", ""]}, index=range(5, 12))
    got = p.local_dates(frame, tz)
    assert list(got.index) == list(range(5, 12))
    assert got.tolist() == [D1, D1, D1, D1, D1, None, None]


def _responses(rows):
    return pd.DataFrame(rows, columns=["submitted_at", "unit_code", "respondent_type",
                                       "respondent_key"])


@pytest.mark.parametrize(("ind", "org", "made_up", "by", "missing", "met"), [
    (15, 10, 0, None, 0, True),             # both quotas met exactly
    (20, 5, 5, "individual", 0, True),      # organisations short by 5, made up by individuals
    (10, 15, 5, "organization", 0, True),   # individuals short by 5, made up by organisations
    (12, 12, 2, "organization", 1, False),  # 3 individuals short, 2 extra organisations
    (30, 0, 10, "individual", 0, True),     # all organisations made up
    (40, 2, 8, "individual", 0, True),      # more than the total: only the shortfall counts
    (0, 0, 0, None, 25, False),
])
def test_quota_transfer_both_ways(survey, ind, org, made_up, by, missing, met):
    rows = ([("2024-06-12T09:00:00+07:00", "X01", "individual", "")] * ind
            + [("2024-06-12T09:00:00+07:00", "x01 ", "organization", "")] * org)
    q = p.quota_table(survey, _responses(rows)).set_index("unit_code")
    r = q.loc["X01"]
    assert (r.individual, r.organization, r.responses, r.quota) == (ind, org, ind + org, 25)
    assert (r.made_up, r.made_up_by, r.missing, bool(r.met)) == (made_up, by, missing, met)
    assert q.loc["X02", "responses"] == 0


def test_quota_empty_type_is_first_type_and_no_quota_units(tmp_path):
    s = _survey(tmp_path, units="code,name,quota_individual\nA,Xã A,2\nB,Xã B,\n")
    rows = [("2024-06-12T09:00:00+07:00", "A", "", "")] * 2 + [
        ("2024-06-12T09:00:00+07:00", "B", "individual", "")]
    q = p.quota_table(s, _responses(rows)).set_index("unit_code")
    assert q.loc["A", "individual"] == 2 and bool(q.loc["A", "met"])
    assert pd.isna(q.loc["B", "quota"]) and pd.isna(q.loc["B", "met"])


def test_write_reports_open_survey(tmp_path):
    visitors = "unit_code,date,visitors\nX01,2024-06-12,20\nx02,2024-06-12,4\n"
    s = _survey(tmp_path, visitors_csv=visitors)
    rows = ([("2024-06-12T09:00:00+07:00", "X01", "individual", "")] * 10
            + [("2024-06-12T03:00:00Z", "X02", "individual", "")] * 7
            + [("2024-06-13T01:00:00+07:00", "X02", "individual", "")])
    layout = Layout(tmp_path / "out", s.id)
    notes = p.write_reports(s, layout, _responses(rows))
    t = pd.read_csv(layout.data_file("participation.csv"), dtype=str, keep_default_na=False)
    assert list(t.columns) == p.FILE_COLUMNS
    assert (t["tickets_issued"] == "").all() and (t["tickets_used"] == "").all()
    got = {(r.unit_code, r.date): (r.responses, r.visitors, r.min_expected, r.max_expected,
                                    r.status) for r in t.itertuples()}
    assert got[("X01", "2024-06-12")] == ("10", "20", "10", "30", "ok")
    assert got[("X02", "2024-06-12")] == ("7", "4", "10", "6", "too_many")  # 7 > 4 × 1.5
    assert got[("X02", "2024-06-13")] == ("1", "", "10", "", "no_visitor_count")
    assert got[("X03", "total")] == ("0", "", "30", "", "no_visitor_count")
    assert not layout.data_file("completion.csv").exists()
    # X02's total has a day without a count, so it is not judged, but its day is named
    assert notes == ["X02: too many responses for the visitors counted, check for ballot "
                     "stuffing before publishing; 2024-06-12: 7 responses for 4 visitors "
                     "(at most 6)"]


def test_write_reports_names_every_too_many_day(tmp_path):
    """Every unit with a too_many day gets a note, whatever its window total says."""
    visitors = "".join(f"{u},{d},{v}\n" for u, d, v in [
        ("X01", "2024-06-12", 2), ("X01", "2024-06-13", 52), ("X01", "2024-06-14", 52),
        ("X02", "2024-06-12", 10), ("X02", "2024-06-13", 10), ("X02", "2024-06-14", 10),
        ("X03", "2024-06-12", 20), ("X03", "2024-06-13", 20), ("X03", "2024-06-14", 20)])
    s = _survey(tmp_path, visitors_csv="unit_code,date,visitors\n" + visitors)
    at = {"2024-06-12": "2024-06-12T09:00:00+07:00", "2024-06-13": "2024-06-13T09:00:00+07:00",
          "2024-06-14": "2024-06-14T09:00:00+07:00"}
    per_day = {("X01", "2024-06-12"): 6,  # 6 for 2 visitors, hidden in an ok total
               ("X01", "2024-06-13"): 26, ("X01", "2024-06-14"): 26,
               **{("X02", d): 16 for d in at},  # 16 for 10 visitors every day
               **{("X03", d): 10 for d in at}}
    rows = [(at[d], u, "individual", "") for (u, d), n in per_day.items() for _ in range(n)]
    layout = Layout(tmp_path / "out", s.id)
    notes = p.write_reports(s, layout, _responses(rows))
    t = pd.read_csv(layout.data_file("participation.csv"), dtype=str, keep_default_na=False)
    assert t[(t.unit_code == "X01") & (t.date == "total")].status.item() == "ok"
    assert notes == [
        "X01: too many responses for the visitors counted, check for ballot stuffing before "
        "publishing; 2024-06-12: 6 responses for 2 visitors (at most 3)",
        "X02: too many responses for the visitors counted, check for ballot stuffing before "
        "publishing; 2024-06-12: 16 responses for 10 visitors (at most 15); 2024-06-13: 16 "
        "responses for 10 visitors (at most 15); 2024-06-14: 16 responses for 10 visitors "
        "(at most 15); window total: 48 responses for 30 visitors (at most 45)"]


def test_write_reports_roster_survey(tmp_path):
    from hailong.survey.tokens import sign

    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
    roster = ("id,name,unit_code,district\nH1,HTX Một,X01,Nghi Xuân\nH2,HTX Hai,X01,Can Lộc\n"
              "H3,HTX Ba,X02,Can Lộc\n")
    s = load_survey(write_survey(tmp_path / "r", toml=toml, roster_csv=roster))
    key = b"secret"
    rows = [("2024-06-12T09:00:00+07:00", "X01", "organization", sign(s.id, "H1", key)),
            ("2024-06-12T10:00:00+07:00", "X02", "organization", sign(s.id, "H3", key))]
    layout = Layout(tmp_path / "out", s.id)
    notes = p.write_reports(s, layout, _responses(rows))
    c = pd.read_csv(layout.data_file("completion.csv"), dtype=str, keep_default_na=False)
    assert list(c.columns) == ["unit_code", "district", "eligible", "answered", "percent"]
    got = {(r.unit_code, r.district): (r.eligible, r.answered, r.percent) for r in c.itertuples()}
    assert got[("X01", "Can Lộc")] == ("1", "0", "0.00")
    assert got[("X01", "total")] == ("2", "1", "50.00")
    assert got[("total", "Can Lộc")] == ("2", "1", "50.00")
    assert got[("total", "total")] == ("3", "2", "66.67")
    assert "2 of 3 cooperatives" in notes[-1]


def test_visitors_file_errors_name_row_and_column(tmp_path):
    s = _survey(tmp_path, visitors_csv="unit_code,date,visitors\nX01,2024-06-12,abc\n")
    with pytest.raises(HailongError, match=r"visitors.csv row 2, column 'visitors'"):
        p.load_visitors(s)
    s = _survey(tmp_path / "b", visitors_csv="unit_code,date,visitors\nZZ,2024-06-12,3\n")
    with pytest.raises(HailongError, match=r"row 2, column 'unit_code'"):
        p.load_visitors(s)
    s = _survey(tmp_path / "c", visitors_csv="unit_code,date,visitors\nX01,2024/06/12,3\n")
    with pytest.raises(HailongError, match=r"row 2, column 'date'.*DD/MM/YYYY"):
        p.load_visitors(s)
    s = _survey(tmp_path / "d",
                visitors_csv="unit_code,date,visitors\nX01,2024-06-12,3\nx01,2024-06-12,4\n")
    with pytest.raises(HailongError, match=r"row 3.*also on row 2"):
        p.load_visitors(s)


def _dense_reference(survey, counts, visitors, days):
    """The rule of the module doc, one unit-day at a time over every covered day (the v1 way),
    keeping only the rows v2 writes: days with responses or visitors, and each unit's total."""
    rows = []
    for unit in survey.units:
        total_r = total_v = total_min = 0
        missing = False
        for day in days:
            r, v = counts.get((unit.code, day), 0), visitors.get((unit.code, day))
            minimum = p._minimum(survey, v)
            if r or v is not None:
                rows.append((unit.code, day.isoformat(), r, v, *p.judge(r, v, minimum, 0.5)))
            total_r += r
            total_min += minimum
            missing |= v is None
            total_v += v or 0
        if missing:
            rows.append((unit.code, "total", total_r, total_v or None, total_min, None,
                         "no_visitor_count"))
        else:
            rows.append((unit.code, "total", total_r, total_v, *p.judge(total_r, total_v, total_min, 0.5)))
    return rows


_HYPOTHESIS_SURVEY = load_survey(write_survey(
    Path(tempfile.mkdtemp(prefix="hailong-part-")) / "s", toml=SMALL_TOML))
counts_st = st.dictionaries(st.tuples(st.sampled_from(["X01", "X02", "X03"]),
                                      st.sampled_from([D1, D2, D3])),
                            st.integers(1, 90), max_size=9)


@settings(max_examples=60, deadline=None)
@given(counts=counts_st, visitors=counts_st.map(lambda d: {k: v - 1 for k, v in d.items()}),
       days=st.sets(st.sampled_from([D1, D2, D3]), min_size=1))
def test_table_matches_the_rule_day_by_day(counts, visitors, days):
    """Whatever the activity, the sparse table holds exactly the dense rule's rows."""
    s = _HYPOTHESIS_SURVEY
    days = sorted(days)
    t = p.participation_table(s, counts, visitors, days)
    got = [tuple(None if pd.isna(x) else x for x in r)
           for r in t[p.PARTICIPATION_COLUMNS[:7]].itertuples(index=False)]
    assert got == _dense_reference(s, counts, visitors, days)


def test_table_takes_daily_frame_and_ignores_days_outside(tmp_path):
    s = _survey(tmp_path)
    rows = [("2024-06-13T09:00:00+07:00", "x01", "individual", "")] * 3
    frame = p.daily_frame(s, _responses(rows))
    assert frame.to_dict("list") == {"unit": [0], "day": [pd.Timestamp(D2)], "responses": [3]}
    # a visitors.csv row outside the covered days makes no row and does not count in the total
    t = p.participation_table(s, frame, {("X01", D2): 4, ("X02", dt.date(2024, 7, 1)): 9},
                              days=[D1, D2])
    assert list(zip(t.unit_code, t.date, t.status, strict=True)) == [
        ("X01", "2024-06-13", "too_few"), ("X01", "total", "no_visitor_count"),
        ("X02", "total", "no_visitor_count"), ("X03", "total", "no_visitor_count")]
    assert t.visitors.isna().tolist() == [False, False, True, True]


def test_tickets_columns_of_a_tickets_survey(tmp_path):
    # the "tickets" helper enables access = "tickets" in survey.toml; the table needs only this
    s = dataclasses.replace(_survey(tmp_path), access="tickets")
    t = p.participation_table(s, {("X01", D1): 2}, {}, tickets={("X01", D1): (5, 2),
                                                               ("X02", D3): (4, 0)})
    got = {(r.unit_code, r.date): (r.responses, r.tickets_issued, r.tickets_used)
           for r in t.itertuples()}
    assert got == {("X01", "2024-06-12"): (2, 5, 2), ("X01", "total"): (2, 5, 2),
                   ("X02", "2024-06-14"): (0, 4, 0), ("X02", "total"): (0, 4, 0),
                   ("X03", "total"): (0, 0, 0)}


def test_visitors_dates_may_be_day_first(tmp_path):
    # Excel under Vietnamese settings saves 12/06/2024; the same day as 2024-06-12 (contract v2)
    text = "unit_code,date,visitors\nX01,12/06/2024,3\nX01,2024-06-13,4\nX02,3/6/2024,5\n"
    s = _survey(tmp_path, visitors_csv=text)
    assert p.load_visitors(s) == {("X01", dt.date(2024, 6, 12)): 3, ("X01", dt.date(2024, 6, 13)): 4,
                                  ("X02", dt.date(2024, 6, 3)): 5}
    s = _survey(tmp_path / "b", visitors_csv="unit_code,date,visitors\nX01,12/06/2024,3\nX01,2024-06-12,4\n")
    with pytest.raises(HailongError, match=r"row 3.*also on row 2"):
        p.load_visitors(s)


UNITS = ["X01", "x02 ", "X03", "Z99"]  # Z99: not in units.csv
CHANNELS_TYPED = ["", "online", "paper", "assisted"]
STAMPS = ["2024-06-12T08:00:00+07:00", "2024-06-13T23:30:00+07:00", "2024-06-14T00:10:00+07:00",
          "2024-06-11T23:59:00+07:00", "2024-07-01T09:00:00+07:00", "not a time"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(UNITS), st.sampled_from(CHANNELS_TYPED),
                          st.sampled_from(STAMPS)), max_size=40),
       st.integers(min_value=1, max_value=7))
def test_daily_tally_of_chunks_writes_the_file_of_all_rows(rows, size):
    """Counts gathered chunk by chunk (what score keeps instead of rows) give participation.csv
    byte for byte as all the rows at once do, whatever the chunks; days outside the window,
    unknown units and unreadable times included."""
    with tempfile.TemporaryDirectory() as tmp:
        s = _survey(Path(tmp))
        frame = pd.DataFrame(rows, columns=["unit_code", "channel", "submitted_at"], dtype="str")
        from hailong.score.validate import parse_times

        times = parse_times(frame["submitted_at"], s.tz)
        tally = p.DailyTally(s)
        for at in range(0, len(frame), size):
            tally.add(frame.iloc[at:at + size], times.iloc[at:at + size])
        for daily, name in ((None, "all"), (tally, "chunks")):
            layout = Layout(Path(tmp) / name, s.id)
            layout.data.mkdir(parents=True)
            p.write_reports(s, layout, frame, times=times, daily=daily)
        assert ((Path(tmp) / "all" / s.id / "data" / "participation.csv").read_bytes()
                == (Path(tmp) / "chunks" / s.id / "data" / "participation.csv").read_bytes())


_ODD_SURVEY = load_survey(write_survey(
    Path(tempfile.mkdtemp(prefix="hailong-part-")) / "s", toml=SMALL_TOML,
    units="code,name,parent,quota_individual,quota_organization\n"
          "-X1,Xã Tiên Điền,Nghi Xuân,15,10\nX02,Xã Xuân An,Nghi Xuân,15,10\n"))
odd_counts_st = st.dictionaries(st.tuples(st.sampled_from(["-X1", "X02"]),
                                          st.sampled_from([D1, D2, D3, dt.date(2024, 7, 1)])),
                                st.integers(0, 90), max_size=8)


@settings(max_examples=60, deadline=None)
@given(counts=odd_counts_st, visitors=odd_counts_st, issued=odd_counts_st,
       paper=odd_counts_st, tickets=st.booleans())
def test_the_file_is_the_table_written(counts, visitors, issued, paper, tickets):
    """participation.csv, which DuckDB writes straight from the counts, holds the rows of
    participation_table as any other hailong CSV would write them (a unit code that starts
    like a formula included), and its too_many rows are the table's."""
    from hailong.score.queries import csv_bytes

    s = dataclasses.replace(_ODD_SURVEY, access="tickets" if tickets else "open")
    counts = {k: v for k, v in counts.items() if v}
    kept = {k: (n, min(n, counts.get(k, 0))) for k, n in issued.items()} if tickets else None
    channels = {"online": {k: v - paper.get(k, 0) for k, v in counts.items()},
                "paper": {k: min(v, paper.get(k, 0)) for k, v in counts.items()}}
    table = p.participation_table(s, counts, visitors, tickets=kept, channels=channels)
    data, records, too_many = p.participation_file(s, counts, visitors, kept, channels)
    assert data == csv_bytes(table, plain=frozenset(p.FILE_COLUMNS) - {"unit_code"})
    assert records == len(table)
    assert too_many == p.too_many_rows(table)
    assert ("'-X1" in data.decode("utf-8")) == ("-X1" in set(table["unit_code"]))
