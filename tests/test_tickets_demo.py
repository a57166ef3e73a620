"""`hailong demo` on the shipped tickets survey: generated visitors hold issued tickets, and
the faults a real office sees (a slip used twice, a forged ticket, none at all) end where the
contract says; no ticket reaches the public site."""

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
    assert (dup["rule"] == "ticket").sum() == 1
    assert bad["reason"].str.startswith("ticket").sum() == 2  # forged, missing
    issued = read(out / "pks02-2024-ve" / "tickets" / "issued.csv")
    assert issued["ticket"].is_unique
    assert {tickets.normalise(t) for t in ok["ticket"]} <= set(issued["ticket"])
    part = read(data / "participation.csv")
    totals = part[part["date"] == "total"]
    assert (totals["tickets_used"].astype(int) <= totals["tickets_issued"].astype(int)).all()
    assert totals["tickets_used"].astype(int).sum() == len(ok)
    site = b"".join(p.read_bytes() for p in (out / "site").rglob("*") if p.is_file())
    assert not any(t.encode() in site for t in issued["ticket"][:50])
