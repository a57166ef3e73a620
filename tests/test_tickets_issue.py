"""`hailong tickets`: issued.csv, serials across runs, printed slips whose QR codes decode,
and the refusals (no key, another key, wrong access, a day outside the window)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from golive_fixture import ready

from hailong.collect import tickets as issue
from hailong.errors import HailongError
from hailong.survey import tickets
from hailong.survey.load import load_survey

TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
KEY = "Zq3vN8-xT1rWc0yLp6uKe9sJb4hGa7mD"
DAY = dt.date(2024, 6, 13)
BASE = "https://khaosat.example.gov.vn"


@pytest.fixture
def survey(tmp_path):
    return load_survey(write_survey(tmp_path / "s", toml=TOML))


@pytest.fixture
def no_print(monkeypatch):
    """Issue without Chromium: these tests are about the records, not the paper."""
    monkeypatch.setattr(issue, "html_to_pdf", lambda html, pdf: Path(pdf).write_bytes(b"%PDF-1.4\n"))


def _issued(out, survey) -> pd.DataFrame:
    return pd.read_csv(out / survey.id / "tickets" / "issued.csv", dtype=str, encoding="utf-8-sig")


def test_issue_records_every_ticket_and_serials_continue(survey, tmp_path, monkeypatch, no_print):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    out = tmp_path / "out"
    summary = issue.make_tickets(survey, out, 3, units=["x01", "X02"], day=DAY, base_url=BASE)
    assert "Handed out 6 tickets" in summary and "13/06/2024" in summary
    path = out / survey.id / "tickets" / "issued.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    first = _issued(out, survey)
    assert first.columns.tolist() == ["ticket", "unit_code", "date", "serial"]
    assert first["unit_code"].tolist() == ["X01"] * 3 + ["X02"] * 3
    assert first["serial"].tolist() == ["1", "2", "3"] * 2
    assert set(first["date"]) == {"2024-06-13"}
    key = KEY.encode()
    numbers = {}
    for r in first.itertuples():
        got = tickets.check(survey.id, r.unit_code, r.ticket, DAY, key)
        assert (got.ok, got.date) == (True, DAY) and len(r.ticket) == 14
        numbers.setdefault(r.unit_code, []).append(got.number)
    # each unit's run: consecutive numbers from a random start (modulo 2**30)
    for run in numbers.values():
        assert [(n - run[0]) % tickets.NUMBERS for n in run] == [0, 1, 2]
    # issued twice: a second run continues the serials and never gives out a ticket again
    issue.make_tickets(survey, out, 2, units=["X01"], day=DAY, base_url=BASE)
    second = _issued(out, survey)
    assert len(second) == 8 and second["ticket"].is_unique
    assert second["serial"].tolist()[6:] == ["4", "5"]
    # another day starts again at 1, with other tickets
    issue.make_tickets(survey, out, 1, units=["X01"], day=DAY + dt.timedelta(days=1), base_url=BASE)
    third = _issued(out, survey)
    assert third.iloc[-1]["serial"] == "1" and third["ticket"].is_unique
    slips = sorted(p.name for p in (out / survey.id / "tickets" / "slips").iterdir())
    assert slips == ["2024-06-13-01.pdf", "2024-06-13-02.pdf", "2024-06-14-01.pdf"]
    assert issue.issued_counts(path) == {("X01", "2024-06-13"): 5, ("X02", "2024-06-13"): 3,
                                         ("X01", "2024-06-14"): 1}


def test_two_issuers_never_make_the_same_ticket(survey, tmp_path, monkeypatch, no_print):
    """Another output folder (or a lost issued.csv) issues the same units' tickets for the same
    day from serial 1 again: its tickets are other tickets, all valid."""
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    made = []
    for folder in ("one", "two", "three"):
        issue.make_tickets(survey, tmp_path / folder, 50, day=DAY, base_url=BASE)
        made.append(_issued(tmp_path / folder, survey))
    assert all(m["serial"].tolist()[:3] == ["1", "2", "3"] for m in made)
    joined = pd.concat(made)
    assert joined["ticket"].is_unique and len(joined) == 3 * 50 * len(survey.units)
    key = KEY.encode()
    assert all(tickets.check(survey.id, r.unit_code, r.ticket, DAY, key).ok
               for r in joined.itertuples())


def test_a_second_run_misses_every_number_already_issued(survey, tmp_path, monkeypatch,
                                                          no_print):
    """Even when its random start falls inside an earlier run, a run is drawn again."""
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    out = tmp_path / "out"
    draws = iter([100, 102, tickets.NUMBERS - 1])
    monkeypatch.setattr(issue.secrets, "randbelow", lambda n: next(draws))
    issue.make_tickets(survey, out, 5, units=["X01"], day=DAY, base_url=BASE)  # 100..104
    issue.make_tickets(survey, out, 3, units=["X01"], day=DAY, base_url=BASE)  # 102: taken
    got = [tickets.number_of(t) for t in _issued(out, survey)["ticket"]]
    assert got == [100, 101, 102, 103, 104, tickets.NUMBERS - 1, 0, 1]



class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_on_a_terminal_and_silence_in_cron(survey, tmp_path, monkeypatch,
                                                           no_print, capsys):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    monkeypatch.delenv("HAILONG_NO_PROGRESS", raising=False)
    issue.make_tickets(survey, tmp_path / "cron", 2, day=DAY, base_url=BASE)
    assert capsys.readouterr() == ("", "")
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    issue.make_tickets(survey, tmp_path / "out", 2, day=DAY, base_url=BASE)
    # every unit, then the writing and printing: the bar counts to the end
    steps = len(survey.units) + 1
    assert "Issuing tickets" in screen.getvalue() and f"{steps}/{steps}" in screen.getvalue()

def test_refused_without_key_or_with_another_key(survey, tmp_path, monkeypatch, no_print):
    out = tmp_path / "out"
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    with pytest.raises(HailongError, match="HAILONG_SIGNING_KEY"):
        issue.make_tickets(survey, out, 1, day=DAY, base_url=BASE)
    assert not (out / survey.id).exists()
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    issue.make_tickets(survey, out, 1, day=DAY, base_url=BASE)
    before = (out / survey.id / "tickets" / "issued.csv").read_bytes()
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY + "-changed")
    with pytest.raises(HailongError, match=r"key-check.txt: .*another HAILONG_SIGNING_KEY"):
        issue.make_tickets(survey, out, 1, day=DAY, base_url=BASE)
    assert (out / survey.id / "tickets" / "issued.csv").read_bytes() == before


@pytest.mark.parametrize("change, args, message", [
    ('access = "tickets"', {}, 'access = "open"'),
    ("", {"day": dt.date(2024, 6, 15)}, "outside the survey window"),
    ("", {"units": ["Z9"]}, "--unit Z9"),
    ("", {"count": 0}, "--count 0"),
    ("", {"base_url": "http://x.example"}, "https"),
])
def test_refusals(tmp_path, monkeypatch, no_print, change, args, message):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    toml = TOML.replace(change, "") if change else TOML
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    kwargs = {"count": 1, "day": DAY, "base_url": BASE, **args}
    count = kwargs.pop("count")
    with pytest.raises(HailongError, match=message):
        issue.make_tickets(survey, tmp_path / "out", count, **kwargs)
    assert not (tmp_path / "out" / survey.id / "tickets" / "issued.csv").exists()


def test_cli_one_line_error_without_key(survey, tmp_path, monkeypatch):
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    ready(survey.path)  # a public address: the go-live checks run first, the key's too
    import sys
    done = subprocess.run([sys.executable, "-m", "hailong", "tickets", str(survey.path), "--count",
                           "2", "--out", str(tmp_path / "out"), "--base-url", BASE],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "HAILONG_SIGNING_KEY" in done.stderr


@pytest.mark.slow
def test_printed_slips_scan_to_the_unit_page_with_the_ticket(survey, tmp_path, monkeypatch):
    import zxingcpp
    from browser import CHROMIUM
    from PIL import Image

    if not os.path.exists(CHROMIUM) or not shutil.which("pdftoppm"):
        pytest.skip("needs chromium and poppler-utils")
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    out = tmp_path / "out"
    issue.make_tickets(survey, out, 12, units=["X01", "X02"], day=DAY, base_url=BASE)
    pdf = out / survey.id / "tickets" / "slips" / "2024-06-13-01.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           4" in info  # 12 slips of X01 on two sheets, then X02 on two more
    assert "(A4)" in info
    text = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout
    issued = _issued(out, survey)
    first = issued.iloc[0]
    assert tickets.display(first["ticket"]) in text
    assert "Xã Tiên Điền" in text and "Ngày 13/06/2024" in text and "Mã phiếu" in text
    png = tmp_path / "page1.png"
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-singlefile", "-f", "1", "-l", "1", str(pdf),
                    str(png.with_suffix(""))], check=True)
    found = sorted(b.text for b in zxingcpp.read_barcodes(Image.open(png)))
    expected = sorted(f"{BASE}/{survey.id}/u/X01/#ve={t}" for t in issued["ticket"][:10])
    assert found == expected


def test_qr_posters_are_refused_for_a_tickets_survey(survey, tmp_path):
    from hailong.collect.kit import make_qr_kit

    with pytest.raises(HailongError, match="hailong tickets"):
        make_qr_kit(survey, tmp_path / "out", BASE)
    assert not (tmp_path / "out").exists()
