"""Signs of ballot stuffing: each signal fires just above its threshold and not at it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.score.signals.run import COLUMNS, find_signals
from hailong.survey.load import load_survey

COLS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
        "respondent_key", "device_id", "ticket", "started_at", "channel", "entered_by", "entry",
        "q1", "q2", "q3", "kenh", "gop_y", "comment"]
WED = dt.datetime(2024, 6, 12, 8, 0)  # a Wednesday of the window, local time


def make_survey(tmp_path, signals: str = ""):
    toml = SMALL_TOML + ("\n[signals]\n" + signals if signals else "")
    return load_survey(write_survey(tmp_path / "s", toml))


def row(i: int, unit="X01", at: dt.datetime | None = None, minutes: float = 0,
        answers=("5", "4", "3"), kenh="Khác", device="", took: float | None = 300) -> dict:
    when = at or WED + dt.timedelta(minutes=minutes)
    started = "" if took is None else (when - dt.timedelta(seconds=took)).isoformat() + "+07:00"
    r = dict.fromkeys(COLS, "")
    r.update(submitted_at=when.isoformat() + "+07:00", response_id=f"r{unit}{i}", unit_code=unit,
             device_id=device or f"d{unit}{i}", started_at=started, q1=answers[0], q2=answers[1],
             q3=answers[2], kenh=kenh)
    return r


def varied(i: int) -> tuple[str, str, str]:
    """Answers that neither repeat each other (for i < 60) nor are all the same."""
    return (str(1 + i % 5), str(1 + (i // 5) % 5), str(1 + (i + 2) % 3 + (i // 25)))


def spread_rows(count: int, unit="X01", **kw) -> list[dict]:
    """`count` ordinary answers, 20 minutes apart, in office hours of three days."""
    out = []
    for i in range(count):
        day, slot = divmod(i, 20)
        at = WED + dt.timedelta(days=day, minutes=20 * slot)
        out.append(row(i, unit, at=at, answers=kw.get("answers") or varied(i)))
    return out


def fired(survey, rows) -> pd.DataFrame:
    return find_signals(pd.DataFrame(rows, columns=COLS, dtype="str"), survey)


def names(frame: pd.DataFrame, unit="X01") -> list[str]:
    return list(frame[frame.unit_code == unit].signal)


def test_ordinary_answers_fire_nothing(tmp_path):
    s = make_survey(tmp_path)
    out = fired(s, spread_rows(40) + spread_rows(25, "X02"))
    assert list(out.columns) == COLUMNS
    assert out.empty


@pytest.mark.parametrize("extra, expect", [(10, False), (11, True)])
def test_burst_at_threshold(tmp_path, extra, expect):
    s = make_survey(tmp_path)  # burst_max 10 within burst_minutes 10
    rows = spread_rows(20)
    at = WED + dt.timedelta(days=1, hours=2)
    rows += [row(100 + i, at=at + dt.timedelta(seconds=53 * i), answers=varied(30 + i))
             for i in range(extra)]  # 11 answers span 8 min 50 s: inside one 10-minute window
    out = fired(s, rows)
    assert ("burst" in names(out)) is expect
    if expect:
        r = out[out.signal == "burst"].iloc[0]
        assert r["count"] == "11" and r.share == f"{11 / 31:.4f}"
        assert "11 phiếu" in r.detail and "10:00 ngày 13/06/2024" in r.detail


def test_burst_window_is_minutes_long(tmp_path):
    s = make_survey(tmp_path, "burst_minutes = 5\nburst_max = 3\n")
    at = WED + dt.timedelta(hours=1)
    spaced = [row(i, at=at + dt.timedelta(seconds=100 * i), answers=varied(i)) for i in range(4)]
    assert "burst" in names(fired(s, spaced))  # 4 within 300 s
    spaced = [row(i, at=at + dt.timedelta(seconds=101 * i), answers=varied(i)) for i in range(4)]
    assert names(fired(s, spaced)) == []  # the fourth is 303 s after the first


@pytest.mark.parametrize("repeats, expect", [(5, False), (6, True)])
def test_identical_at_threshold(tmp_path, repeats, expect):
    s = make_survey(tmp_path)  # more than half of the answers repeating another
    rows = spread_rows(10 - repeats)
    rows += [row(50 + i, at=WED + dt.timedelta(days=2, minutes=15 * i), answers=("2", "3", "4"))
             for i in range(repeats + 1)]  # the first of them is no repeat
    out = fired(s, rows)
    assert ("identical" in names(out)) is expect
    if expect:
        assert out[out.signal == "identical"].iloc[0]["count"] == str(repeats)


def test_identical_needs_min_count_and_min_answers(tmp_path):
    s = make_survey(tmp_path)
    same = [row(i, minutes=15 * i, answers=("2", "3", "4")) for i in range(5)]
    assert names(fired(s, same)) == []  # 4 repeats: below min_count 5
    few = [row(i, minutes=15 * i, answers=("2", "", ""), kenh="") for i in range(20)]
    assert "identical" not in names(fired(s, few))  # one answer each: below min_answers


@pytest.mark.parametrize("lined, expect", [(7, False), (8, True)])
def test_straightline_at_threshold(tmp_path, lined, expect):
    s = make_survey(tmp_path)  # above 70% of answers giving every scale question one answer
    rows = spread_rows(10 - lined)
    rows += [row(50 + i, at=WED + dt.timedelta(days=2, minutes=15 * i),
                 answers=(str(1 + i % 5),) * 3, kenh=["Khác", "Người quen"][i // 5 % 2])
             for i in range(lined)]
    out = fired(s, rows)
    assert ("straightline" in names(out)) is expect
    if expect:
        r = out[out.signal == "straightline"].iloc[0]
        assert r["count"] == "8" and r.share == "0.8000" and "80%" in r.detail


def test_straightline_ignores_no_opinion(tmp_path):
    s = make_survey(tmp_path)
    rows = [row(i, minutes=15 * i, answers=("5", "5", "0")) for i in range(10)]
    assert "straightline" not in names(fired(s, rows))  # two scale answers: below min_answers


@pytest.mark.parametrize("fast, expect", [(2, False), (3, True)])
def test_speed_at_threshold(tmp_path, fast, expect):
    s = make_survey(tmp_path, "min_count = 3\n")  # above 20%; 3 s a question, 4 answered
    rows = spread_rows(10)
    for r, took in zip(rows[:fast], (11.9, 1, 0), strict=False):
        r["started_at"] = (dt.datetime.fromisoformat(r["submitted_at"])
                           - dt.timedelta(seconds=took)).isoformat()
    rows[-1]["started_at"] = rows[-1]["submitted_at"][:-6] + "+06:00"  # clock ahead: not judged
    rows[-2]["started_at"] = ""  # no start time: not judged
    rows[-3]["started_at"] = (dt.datetime.fromisoformat(rows[-3]["submitted_at"])
                              - dt.timedelta(seconds=12)).isoformat()  # exactly 3 s each: fine
    out = fired(s, rows)
    assert ("speed" in names(out)) is expect
    if expect:
        assert out[out.signal == "speed"].iloc[0]["count"] == "3"


@pytest.mark.parametrize("late, expect", [(3, False), (4, True)])
def test_off_hours_at_threshold(tmp_path, late, expect):
    s = make_survey(tmp_path, "min_count = 3\n")  # above 30% outside 07:00-17:30, Mon-Sat
    rows = spread_rows(10)
    night = [dt.datetime(2024, 6, 12, 17, 30), dt.datetime(2024, 6, 13, 6, 59),
             dt.datetime(2024, 6, 16, 10, 0), dt.datetime(2024, 6, 12, 23, 0)]  # 16/6: Sunday
    for r, at in zip(rows[:late], night, strict=False):
        r["submitted_at"] = at.isoformat() + "+07:00"
    rows[5]["submitted_at"] = "2024-06-15T17:29:00+07:00"  # Saturday, before closing: inside
    out = fired(s, rows)
    assert ("off_hours" in names(out)) is expect
    if expect:
        r = out[out.signal == "off_hours"].iloc[0]
        assert r["count"] == "4" and "thứ Hai đến thứ Bảy" in r.detail


@pytest.mark.parametrize("same, expect", [(5, False), (6, True)])
def test_device_at_threshold(tmp_path, same, expect):
    s = make_survey(tmp_path)  # more than 5 answers from one device
    rows = spread_rows(12)
    for r in rows[:same]:
        r["device_id"] = "kiosk-1"
    out = fired(s, rows)
    assert ("device" in names(out)) is expect
    if expect:
        r = out[out.signal == "device"].iloc[0]
        assert r["count"] == "6" and "1 thiết bị" in r.detail


def test_checks_leave_signals_out_and_units_keep_their_order(tmp_path):
    s = make_survey(tmp_path, 'checks = ["device"]\n')
    rows = spread_rows(12, "X02") + spread_rows(12, "X01")
    for r in rows:
        r["device_id"] = "kiosk"
        r["q1"] = r["q2"] = r["q3"] = "5"
    out = fired(s, rows)
    assert list(zip(out.unit_code, out.signal, strict=True)) == [("X01", "device"), ("X02", "device")]


def test_unit_code_spelling_counts_as_the_unit(tmp_path):
    s = make_survey(tmp_path)
    rows = spread_rows(12)
    for r in rows:
        r["device_id"], r["unit_code"] = "kiosk", " x01 "
    out = fired(s, rows)
    assert list(out.unit_code) == ["X01"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3 * 24 * 60), st.integers(0, 5),
                          st.integers(0, 3)), max_size=60))
def test_signals_only_read_the_rows(tmp_path, spec):
    s = make_survey(tmp_path / "h")
    rows = [row(i, ["X01", "X02", "X03"][u], at=WED.replace(hour=0) + dt.timedelta(minutes=m),
                answers=(str(a or ""), "5", str(1 + a % 5)), device=f"d{d}")
            for i, (u, m, a, d) in enumerate(spec)]
    frame = pd.DataFrame(rows, columns=COLS, dtype="str")
    before = frame.copy()
    out = find_signals(frame, s)
    pd.testing.assert_frame_equal(frame, before)
    n = frame.unit_code.value_counts()
    for r in out.itertuples():
        assert 0 < int(r.count) <= n[r.unit_code]
        assert float(r.share) == pytest.approx(int(r.count) / n[r.unit_code], abs=5e-5)
        assert r.detail


@pytest.mark.parametrize("setting, message", [
    ('checks = ["bursts"]', "signals.checks has 'bursts'"),
    ('public = ["speed", "x"]', "signals.public has 'x'"),
    ("identical_share = 1.5", "signals.identical_share must be a share"),
    ('office_open = "7h"', "signals.office_open = '7h' is not a time"),
    ('office_open = "18:00"', "office_open must be before"),
    ("office_days = [0, 1]", "office_days must list days"),
    ("burst_max = 0", "signals.burst_max must be at least 1"),
    ("bursts = 3", "unknown key 'signals.bursts'"),
])
def test_bad_settings_say_which(tmp_path, setting, message):
    with pytest.raises(HailongError, match=message.replace("(", r"\(").replace("[", r"\[")):
        make_survey(tmp_path, setting + "\n")


def test_score_writes_signals_csv_and_keeps_every_row(tmp_path):
    from hailong.layout import Layout
    from hailong.score.pipeline import score

    s = make_survey(tmp_path)
    rows = spread_rows(12) + spread_rows(6, "X02")
    for r in rows[:7]:
        r["device_id"] = "kiosk"  # dedupe drops 6 of them as device duplicates
    for r in rows[12:]:
        r["q1"] = r["q2"] = r["q3"] = "5"
        r["kenh"] = "Khác"
    raw = tmp_path / "raw.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(raw, index=False)
    summary = score(s, tmp_path / "out", raw)
    data = Layout(tmp_path / "out", s.id).data
    out = pd.read_csv(data / "signals.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(out.columns) == COLUMNS
    assert list(zip(out.unit_code, out.signal, strict=True)) == [("X02", "identical"),
                                                                 ("X02", "straightline")]
    assert out["count"].tolist() == ["5", "6"] and out.share.tolist() == ["0.8333", "1.0000"]
    assert "2 sign(s) of ballot stuffing at 1 unit(s)" in summary
    accepted = pd.read_csv(data / "responses.csv", dtype=str, encoding="utf-8-sig")
    dupes = pd.read_csv(data / "duplicates.csv", dtype=str, encoding="utf-8-sig")
    assert len(accepted) + len(dupes) == len(rows) and len(dupes) == 6


# -- chunks: Rows.concat of Rows.of per chunk is Rows.of of the whole ----------------------------
EASY = ("min_count = 2\nburst_minutes = 5\nburst_max = 2\ndevice_max = 1\nmin_answers = 2\n"
        "helper_max = 1\nhelper_minutes = 30\n"
        "identical_share = 0.1\nstraightline_share = 0.1\nspeed_share = 0.1\n"
        "off_hours_share = 0.1\n")  # low thresholds: every signal fires on small frames
POOL = [("5", "5", "5", "Khác"), ("4", "3", "2", "Người quen"), ("1", "", "0", ""),
        ("2", "2", "2", "Loa phát thanh"), (" 5", "5.0", "5", "khác "), ("", "", "", "")]
one_row = st.tuples(st.sampled_from(["X01", "X02", "x03 ", "Z99"]), st.integers(0, 36 * 60),
                    st.integers(0, len(POOL) - 1), st.sampled_from(["", "kiosk", "d1", " d1", "d2"]),
                    st.one_of(st.none(), st.integers(-30, 900)), st.booleans())


def chunk_rows(spec) -> pd.DataFrame:
    rows = []
    for i, (unit, minute, answer, device, took, zulu) in enumerate(spec):
        r = row(i, unit, at=WED + dt.timedelta(minutes=minute), answers=POOL[answer][:3],
                kenh=POOL[answer][3], took=took)
        r["device_id"] = device
        if device.strip() == "d1":  # a helper's phone: assisted answers, the helper signal's
            r["channel"], r["entered_by"] = "assisted", "ccb" if minute % 2 else " CCB"
        if zulu and took is not None:  # the page's clock: JavaScript's toISOString
            start = dt.datetime.fromisoformat(r["started_at"]).astimezone(dt.UTC)
            r["started_at"] = start.strftime("%Y-%m-%dT%H:%M:%S.") + "250Z"
        rows.append(r)
    return pd.DataFrame(rows, columns=COLS, dtype="str")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(one_row, min_size=1, max_size=80), st.lists(st.integers(0, 80), max_size=5),
       st.booleans())
def test_chunks_give_what_the_whole_gives(tmp_path, spec, cuts, parsed):
    from hailong.score.signals.run import COLUMNS_READ, Rows, signals_frame
    from hailong.score.validate import parse_times

    s = make_survey(tmp_path / "c", EASY)
    whole = chunk_rows(spec)
    times = parse_times(whole["submitted_at"], s.tz) if parsed else None
    lean = whole[COLUMNS_READ(s, times=parsed)]
    bounds = [0, *sorted({min(c, len(whole)) for c in cuts}), len(whole)]
    parts = [Rows.of(lean.iloc[a:b], s, None if times is None else times.iloc[a:b])
             for a, b in zip(bounds, bounds[1:], strict=False)]
    joined = signals_frame(Rows.concat(parts), s)
    expected = find_signals(whole, s)
    pd.testing.assert_frame_equal(joined, expected)
    assert find_signals(whole, s, times=times).equals(expected)


def test_chunks_fire_across_their_boundaries(tmp_path):
    from hailong.score.signals.run import Rows, signals_frame

    s = make_survey(tmp_path, EASY)
    frame = chunk_rows([("X01", 2 * i, 0, "kiosk", 0, False) for i in range(6)])
    parts = [Rows.of(frame.iloc[i:i + 1], s) for i in range(6)]  # one row a chunk
    out = signals_frame(Rows.concat(parts), s)
    assert set(out.signal) == {"burst", "identical", "straightline", "speed", "device"}
    helped = chunk_rows([("X01", 2 * i, 0, "d1", 0, False) for i in range(3)])
    parts = [Rows.of(helped.iloc[i:i + 1], s) for i in range(3)]
    assert "helper" in set(signals_frame(Rows.concat(parts), s).signal)
    assert out.equals(find_signals(frame, s))
    assert signals_frame(Rows.concat([]), s).empty


def test_rows_are_compact(tmp_path):
    from hailong.score.signals.run import Rows

    s = make_survey(tmp_path)
    rows = Rows.of(pd.DataFrame(spread_rows(30), columns=COLS, dtype="str"), s)
    assert rows.unit.dtype == np.int16 and rows.answered.dtype == np.int8
    assert rows.lined.dtype == np.int8 and rows.vector.dtype == np.uint64
    assert not any(getattr(rows, f).dtype == object for f in ("unit", "submitted", "took", "device"))


def _many_units(tmp_path, signals: str = ""):
    units = "code,name\n" + "".join(f"U{i},Xã {i}\n" for i in range(8))
    toml = SMALL_TOML + ("\n[signals]\n" + signals if signals else "")
    return load_survey(write_survey(tmp_path / "m", toml, units))


def _honest(unit: str, count: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [row(i, unit, at=WED + dt.timedelta(days=i // 20, minutes=20 * (i % 20)),
                answers=tuple(str(v) for v in rng.integers(2, 6, size=3)))
            for i in range(count)]


def test_identical_ballots_under_the_share_fire_by_chance(tmp_path):
    """Issue 22: identical all-5 ballots spread over the days among honest answers stay under
    identical_share; the chance rule sees them (all-5 is rare at the other units)."""
    s = _many_units(tmp_path)
    rows = [r for u in range(8) for r in _honest(f"U{u}", 40, u)]
    assert fired(s, rows).empty
    fakes = [row(900 + i, "U3", at=WED + dt.timedelta(days=i % 3, hours=1, minutes=25 * (i // 3)),
                 answers=("5", "5", "5")) for i in range(12)]
    out = fired(s, rows + fakes)
    hit = out[(out.unit_code == "U3") & (out.signal == "identical")]
    assert len(hit) == 1 and "cùng một bộ câu trả lời" in hit.iloc[0].detail
    assert int(hit.iloc[0]["count"]) >= 12
    assert set(out[out.signal == "identical"].unit_code) == {"U3"}
    # off: the share rule alone, as before issue 22, sees nothing
    off = _many_units(tmp_path / "off", "identical_alpha = 0\n")
    assert "identical" not in set(fired(off, rows + fakes).signal)


def test_identical_chance_rule_needs_other_units_to_compare(tmp_path):
    s = make_survey(tmp_path)  # three units: too few to know a set's usual share
    rows = _honest("X01", 40, 1) + _honest("X02", 40, 2) + [
        row(900 + i, "X03", minutes=25 * i, answers=("5", "5", "5")) for i in range(8)
    ] + _honest("X03", 30, 3)
    assert "identical" not in set(fired(s, rows).signal)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 80), st.integers(0, 80), st.floats(0.01, 0.99))
def test_ticket_uptake_tail_is_the_binomial_tail(k, n, p):
    import math

    from hailong.score.signals.ticket_uptake import tail

    exact = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(max(k, 0), n + 1))
    assert abs(tail(k, n, p) - min(exact, 1.0)) < 1e-9


def _assisted(rows: list[dict], helper: str) -> list[dict]:
    cols = [*COLS, "channel", "entered_by"]
    return [{**dict.fromkeys(cols, ""), **r, "channel": "assisted", "entered_by": helper}
            for r in rows]


@pytest.mark.parametrize("count, expect", [(8, False), (9, True)])
def test_helper_at_threshold(tmp_path, count, expect):
    s = make_survey(tmp_path)  # more than 8 assisted answers by one helper within 60 minutes
    rows = _assisted([row(i, minutes=7 * i, answers=varied(i)) for i in range(count)], "CCB-1")
    # another helper's answers, as many but spread over the day, and online answers: quiet
    rows += _assisted([row(100 + i, minutes=30 * i, answers=varied(i)) for i in range(count)],
                      "ccb-2")
    out = find_signals(pd.DataFrame(rows, dtype="str"), s)
    assert ("helper" in names(out)) is expect
    if expect:
        r = out[out.signal == "helper"].iloc[0]
        assert r["count"] == str(count) and "1 người hỗ trợ" in r.detail


def test_helper_codes_are_one_helper_in_any_case_and_online_rows_are_not_helped(tmp_path):
    s = make_survey(tmp_path, "checks = [\"helper\"]\nhelper_max = 2\n")
    rows = _assisted([row(i, minutes=i) for i in range(3)], "x")
    rows[1]["entered_by"] = " X "
    online = [{**r, "channel": "", "entered_by": "x"} for r in
              _assisted([row(10 + i, minutes=i, unit="X02") for i in range(5)], "x")]
    out = find_signals(pd.DataFrame(rows + online, dtype="str"), s)
    assert list(zip(out.unit_code, out.signal, out["count"], strict=True)) == [("X01", "helper", "3")]
