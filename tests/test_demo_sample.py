"""The demo on the shipped sample survey (surveys/sipas-xa-2020-mau): a drawn sample with a
replacement, answers online, on paper (two keyings, a supervisor's decision, forms waiting)
and through a helper, all the way to published results."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from hailong.demo.run import run_demo
from hailong.layout import Layout

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(300)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_the_sample_demo_shows_every_channel(tmp_path, monkeypatch):
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    summary = run_demo(tmp_path / "out", survey_dir=REPO / "surveys" / "sipas-xa-2020-mau")
    data = Layout(tmp_path / "out", "sipas-xa-2020-mau").data
    assert "replaced (unreachable) by reserve" in summary
    assert len(_read(data / "sample-log.csv")) == 1
    total = [r for r in _read(data / "participation.csv") if r["date"] == "total"]
    for channel in ("online", "paper", "assisted"):
        assert sum(int(r[channel]) for r in total) > 0, channel
    assert {"second_entry"} <= {r["rule"] for r in _read(data / "duplicates.csv")}
    assert {"single_entry"} <= {r["reason_code"] for r in _read(data / "quarantine.csv")}
    completion = _read(data / "completion.csv")
    assert completion[-1]["unit_code"] == "total" and completion[-1]["replaced"] == "1"
    assert (tmp_path / "out" / "site" / "sipas-xa-2020-mau" / "ket-qua" / "index.html").exists()
    assert (tmp_path / "out" / "site" / "sipas-xa-2020-mau" / "nhap-phieu" / "index.html").exists()
