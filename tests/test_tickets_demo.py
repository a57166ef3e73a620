"""`hailong demo` on the shipped tickets survey: generated visitors hold issued tickets, and
the faults a real office sees (a slip used twice, a forged ticket, none at all) end where the
contract says; no ticket reaches the public site, whose method page says how tickets count."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hailong.demo.run import run_demo
from hailong.survey import tickets

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def test_demo_of_the_tickets_survey(tmp_path, monkeypatch):
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    out = tmp_path / "out"
    summary = run_demo(out, survey_dir=ROOT / "surveys" / "pks02-2024-ve")
    assert "fixed demo key" in summary and "tickets" in summary
    data = out / "pks02-2024-ve" / "data"
    raw, ok = read(data / "raw.csv"), read(data / "responses.csv")
    bad, dup = read(data / "quarantine.csv"), read(data / "duplicates.csv")
    assert len(raw) == len(ok) + len(bad) + len(dup)
    assert "ticket" not in set(dup["rule"])  # v3: a slip used twice is contested, not a duplicate
    # the slip used twice: both answers contested; then the forged one and the missing one
    assert (bad["reason_code"] == "contested_ticket").sum() == 2
    assert (bad["reason_code"] == "invalid_ticket").sum() == 2
    signals = read(data / "signals.csv")
    assert (signals["signal"] == "ticket_reuse").sum() == 1
    issued = read(out / "pks02-2024-ve" / "tickets" / "issued.csv")
    assert issued["ticket"].is_unique
    assert {tickets.normalise(t) for t in ok["ticket"]} <= set(issued["ticket"])
    part = read(data / "participation.csv")
    totals = part[part["date"] == "total"]
    assert (totals["tickets_used"].astype(int) <= totals["tickets_issued"].astype(int)).all()
    assert totals["tickets_used"].astype(int).sum() == len(ok)
    site = b"".join(p.read_bytes() for p in (out / "site").rglob("*") if p.is_file())
    assert not any(t.encode() in site for t in issued["ticket"][:50])


def test_method_page_says_how_tickets_limit_answers(tmp_path, monkeypatch):
    from bs4 import BeautifulSoup
    from conftest import SMALL_TOML, write_survey
    from results_fixture import response_rows, write_responses

    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    monkeypatch.setenv("HAILONG_SIGNING_KEY", "a-test-key-that-is-long-enough-0123456789")
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    out = tmp_path / "out"
    score(survey, out, responses=write_responses(tmp_path / "r.csv", response_rows({"X01": [("5", "5", "5")]})))
    publish(survey, out)
    page = out / "site" / survey.id / "ket-qua" / "phuong-phap" / "index.html"
    text = BeautifulSoup(page.read_text("utf-8"), "html.parser").get_text(" ", strip=True)
    assert "mỗi vé chỉ được tính một phiếu" in text
    assert "không phiếu nào trong số đó được tính" in text


def test_method_page_of_an_open_survey_says_what_open_access_cannot_prevent(tmp_path):
    from bs4 import BeautifulSoup
    from conftest import SMALL_TOML, write_survey
    from results_fixture import response_rows, write_responses

    from hailong.publish.pages import publish
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path / "s", toml=SMALL_TOML))
    out = tmp_path / "out"
    score(survey, out, responses=write_responses(tmp_path / "r.csv", response_rows({"X01": [("5", "5", "5")]})))
    publish(survey, out)
    page = out / "site" / survey.id / "ket-qua" / "phuong-phap" / "index.html"
    text = BeautifulSoup(page.read_text("utf-8"), "html.parser").get_text(" ", strip=True)
    assert "Khảo sát mở như vậy không ngăn được một người gửi nhiều phiếu" in text
    assert "Cách khắc phục là phát vé" in text
