"""The office's campaigns of issue 22, run through the real `tickets` and `score` stages.

Six one-stop offices each hand out 40 slips a day for two days; visitors answer with half of
them. Three offices hold their slips back and try what the issue tried:
- X01 answers first with every slip (front-running): the visitors' own answers come later;
- X02 answers with the slips nobody took, the same day;
- X03 answers with the slips nobody took, two days later.
None of X01's fakes on a slip a visitor used counts, no visitor is silenced unseen (the unit
carries the public `ticket_reuse` sign), and X02 and X03 are flagged to the staff.
"""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey

from hailong.collect.tickets import make_tickets
from hailong.publish.review import units_under_review
from hailong.score.pipeline import score
from hailong.survey.load import load_survey

TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"').replace(
    'end = "2024-06-14"', 'end = "2024-06-17"')
UNITS = "code,name\n" + "".join(f"X0{i},Xã {i}\n" for i in range(1, 7))
COLS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
        "respondent_key", "device_id", "ticket", "started_at", "q1", "q2", "q3", "kenh", "gop_y",
        "comment"]
DAYS = [dt.date(2024, 6, 12), dt.date(2024, 6, 13)]  # a Wednesday and a Thursday
SLIPS = 40


def answer(rng, unit, ticket, at: dt.datetime, fake: bool) -> dict:
    grade = (lambda: "5") if fake else (lambda: str(rng.randint(2, 5)))
    return dict.fromkeys(COLS, "") | {
        "submitted_at": at.isoformat() + "+07:00", "response_id": f"r{rng.getrandbits(64):x}",
        "unit_code": unit, "device_id": f"d{rng.getrandbits(64):x}", "ticket": ticket,
        "started_at": (at - dt.timedelta(minutes=rng.randint(2, 6))).isoformat() + "+07:00",
        "q1": grade(), "q2": grade(), "q3": grade(), "kenh": "Khác"}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("HAILONG_SIGNING_KEY", "Zq3vN8-xT1rWc0yLp6uKe9sJb4hGa7mD")
    tmp = tmp_path_factory.mktemp("campaign")
    survey = load_survey(write_survey(tmp / "s", TOML, UNITS))
    out = tmp / "out"
    for day in DAYS:
        make_tickets(survey, out, SLIPS, day=day, slips=False)
    issued = pd.read_csv(out / survey.id / "tickets" / "issued.csv", dtype=str,
                         encoding="utf-8-sig")
    rng = random.Random(22)
    rows, visitor_slips, fake_slips = [], set(), {}
    for (unit, day), slips in issued.groupby(["unit_code", "date"]):
        day = dt.date.fromisoformat(day)
        tickets = slips["ticket"].tolist()
        taken = set(rng.sample(tickets, SLIPS // 2))  # the visitors who answer
        for i, t in enumerate(sorted(taken)):
            at = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=12 * i + rng.randint(0, 9))
            rows.append(answer(rng, unit, t, at, fake=False))
            visitor_slips.add(t)
        unused = [t for t in tickets if t not in taken]
        if unit == "X01":  # every slip answered at 07:30, before any visitor
            fakes = [(t, dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(minutes=j))
                     for j, t in enumerate(tickets)]
        elif unit == "X02":  # the slips nobody took, the same afternoon, three per ten minutes
            fakes = [(t, dt.datetime.combine(day, dt.time(14)) + dt.timedelta(minutes=4 * j))
                     for j, t in enumerate(unused)]
        elif unit == "X03":  # the slips nobody took, two days later
            fakes = [(t, dt.datetime.combine(day + dt.timedelta(days=2), dt.time(9))
                      + dt.timedelta(minutes=4 * j)) for j, t in enumerate(unused)]
        else:
            fakes = []
        for t, at in fakes:
            rows.append(answer(rng, unit, t, at, fake=True))
            fake_slips.setdefault(unit, set()).add(t)
    rng.shuffle(rows)
    raw = tmp / "raw.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(raw, index=False)
    summary = score(survey, out, raw)
    data = out / survey.id / "data"

    def read(name):
        return pd.read_csv(data / name, dtype=str, keep_default_na=False, encoding="utf-8-sig")

    yield {"survey": survey, "out": out, "rows": rows, "summary": summary, "read": read,
           "visitor": visitor_slips, "fake": fake_slips, "data": data}
    mp.undo()


def test_no_fake_on_a_slip_a_visitor_used_counts(campaign):
    ok = campaign["read"]("responses.csv")
    front_run = campaign["fake"]["X01"] & campaign["visitor"]
    assert len(front_run) == len(DAYS) * SLIPS // 2
    assert not set(ok["ticket"]) & front_run
    # and the visitors' own answers on those slips are out too, but not unseen:
    bad = campaign["read"]("quarantine.csv")
    contested = bad[bad["reason_code"] == "contested_ticket"]
    assert set(contested["ticket"]) == front_run and len(contested) == 2 * len(front_run)
    assert set(contested["unit_code"]) == {"X01"}
    assert len(ok) + len(bad) + len(campaign["read"]("duplicates.csv")) == len(campaign["rows"])


def test_the_front_running_office_carries_the_public_notice(campaign):
    signals = campaign["read"]("signals.csv")
    reuse = signals[signals["signal"] == "ticket_reuse"]
    assert reuse[["unit_code", "count"]].values.tolist() == [["X01", str(2 * len(DAYS) * SLIPS // 2)]]
    survey = campaign["survey"]
    assert "ticket_reuse" in survey.signals.public
    assert units_under_review(survey, campaign["data"] / "signals.csv") == {"X01"}


def test_the_offices_answering_with_unused_slips_are_flagged(campaign):
    signals = campaign["read"]("signals.csv")
    fired = {(r.unit_code, r.signal) for r in signals.itertuples()}
    assert ("X02", "ticket_uptake") in fired and ("X03", "ticket_uptake") in fired
    assert ("X03", "ticket_age") in fired
    # the honest offices carry no ticket sign
    assert not {u for u, s in fired if s.startswith("ticket_")} & {"X04", "X05", "X06"}
    uptake = signals[(signals["signal"] == "ticket_uptake") & (signals["unit_code"] == "X02")]
    # the excess over the usual share: here two of six offices stuff, so the busy offices'
    # share (the upper quartile) is raised by them and the excess understates the fakes
    assert int(uptake["count"].iloc[0]) >= campaign["survey"].signals.min_count


def test_the_daily_report_lists_the_contested_tickets_first(campaign):
    from hailong.field import progress as pg

    survey, out = campaign["survey"], campaign["out"]
    text = pg.progress_report(survey, out, day=DAYS[1], refresh=False)
    head = "VÉ BỊ NHIỀU PHIẾU DÙNG CHUNG, CẦN KIỂM TRA NGAY (1 đơn vị):"
    assert head in text
    assert text.index(head) < text.index("DẤU HIỆU BẤT THƯỜNG") < text.index("Hôm nay")
    assert "X01  Xã 1: 80 phiếu dùng chung 40 vé, không phiếu nào được tính" in text
    zalo = pg.progress_report(survey, out, day=DAYS[1], fmt="zalo", refresh=False)
    assert zalo.split("\n\n", 1)[1].startswith(head)


def test_the_staff_page_shows_the_contested_tickets_first_in_chromium(campaign):
    from browser import DESKTOP, chromium

    from hailong.field import progress as pg
    from hailong.layout import Layout

    survey, out = campaign["survey"], campaign["out"]
    pg.progress_report(survey, out, day=DAYS[1], fmt="html", refresh=False)
    with chromium() as browser:
        page = browser.new_page(**DESKTOP)
        page.goto((Layout(out, survey.id).staff / "index.html").as_uri())
        alerts = page.get_by_role("alert")
        first = alerts.first
        assert first.locator("h2").inner_text() == "Cần kiểm tra ngay: vé bị nhiều phiếu dùng chung"
        assert first.locator("[data-contested]").get_attribute("data-contested") == "X01"
        assert "80 phiếu dùng chung 40 vé" in first.inner_text()
        assert alerts.nth(1).locator("h2").inner_text() == "Cần kiểm tra: dấu hiệu phiếu bất thường"
        assert first.bounding_box()["y"] < alerts.nth(1).bounding_box()["y"]
