"""`hailong paper` (contract v3, section 9): A4 questionnaires printed by Chromium, read back
from the PDF: the code as text, the QR code decoded (zxing-cpp on a pdftoppm rendering) to the
unit's page carrying the code, type no smaller than 14 pt, tickets recorded like `tickets`."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from conftest import SMALL_TOML, write_survey
from golive_fixture import ready
from PIL import Image

from hailong.cli import cli
from hailong.collect.paper import make_paper
from hailong.field.sample import draw_sample
from hailong.layout import Layout
from hailong.survey.load import load_survey
from hailong.survey.tokens import sign

KEY = "paper-test-key-0123456789"
BASE = "https://khaosat.example.gov.vn"


@pytest.fixture(autouse=True)
def _needs_chromium(monkeypatch):
    from browser import CHROMIUM

    if not os.path.exists(CHROMIUM) or not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("Chromium and poppler-utils are installed by .ci/run")
        pytest.skip("needs chromium and poppler-utils")
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    return unicodedata.normalize("NFC", done.stdout)


def qr_codes(pdf: Path, page: int, tmp_path: Path) -> list[str]:
    target = tmp_path / f"page{page}"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", "-f", str(page), "-l",
                    str(page), str(pdf), str(target)], check=True)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(target.with_suffix(".png")))]


def smallest_text_height(pdf: Path) -> float:
    """The height in points of the smallest word box poppler finds (a 14 pt font's box is
    taller than 14 pt: ascent plus descent)."""
    done = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                          check=True)
    heights = [float(b) - float(a) for a, b in
               re.findall(r'<word [^>]*yMin="([\d.]+)"[^>]*yMax="([\d.]+)"', done.stdout)]
    return min(heights)


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_an_open_survey_prints_forms_with_recorded_tickets(tmp_path):
    survey = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    summary = make_paper(survey, out, base_url=BASE, units=["X02"], count=2,
                         day=survey.start)
    layout = Layout(out, survey.id)
    pdf = layout.root / "paper" / "X02.pdf"
    assert "2 questionnaires for 1 unit(s)" in summary
    issued = _read(layout.tickets / "issued.csv")
    forms = _read(layout.root / "paper" / "forms.csv")
    assert [f["code"] for f in forms] == [i["ticket"] for i in issued]
    assert [i["serial"] for i in issued] == ["1", "2"]
    text = pdf_text(pdf)
    assert "Xã Xuân An" in text and survey.title in text
    assert "Kết quả giải quyết có đúng quy định không?" in text
    assert "Loa phát thanh" in text and "Rất hài lòng" in text
    found = qr_codes(pdf, 1, tmp_path)
    assert found == [f"{BASE}/{survey.id}/u/X02/#ve={issued[0]['ticket']}"]
    assert smallest_text_height(pdf) >= 14


def test_a_sample_survey_prints_one_form_per_active_member(tmp_path):
    toml = SMALL_TOML.replace('respondent_types = ["individual", "organization"]',
                              'respondent_types = ["individual"]\naccess = "sample"')
    toml += '\n[sampling]\nstart = "2024-01-01"\nend = "2024-05-31"\n'
    units = "code,name,quota_individual\nX01,Xã Tiên Điền,2\n"
    rows = ["id,unit_code,respondent_type,name,address,field,received_result,channel,province,"
            "date"] + [f"T{i},X01,individual,Người {i},,Hộ tịch,true,direct,,2024-03-0{i}"
                       for i in range(1, 5)]
    # ready to go live: the command checks what a print for an https address needs
    survey = load_survey(ready(write_survey(tmp_path / "s", toml, units,
                                            transactions_csv="\n".join(rows) + "\n")))
    out = tmp_path / "out"
    draw_sample(survey, out, seed=3)
    layout = Layout(out, survey.id)
    official = [r["id"] for r in _read(layout.data_file("sample.csv"))]
    got = CliRunner().invoke(cli, ["paper", str(survey.path), "--out", str(out), "--base-url",
                                   BASE])
    assert got.exit_code == 0, got.output
    pdf = layout.root / "paper" / "X01.pdf"
    tokens = [sign(survey.id, i, KEY.encode()) for i in official]
    assert [f["code"] for f in _read(layout.root / "paper" / "forms.csv")] == tokens
    text = pdf_text(pdf).replace("\n", " ")
    assert all(t[:12] in text for t in tokens)
    # one respondent type, known from the list: no "as an individual / organisation" boxes
    assert "với tư cách" not in text
    assert qr_codes(pdf, 1, tmp_path) == [f"{BASE}/{survey.id}/u/X01/?t={tokens[0]}"]


def test_blank_meeting_copies_carry_no_code(tmp_path):
    survey = load_survey(write_survey(tmp_path / "s"))
    summary = make_paper(survey, tmp_path / "out", base_url=BASE, units=["X01"], blank=True)
    pdf = Layout(tmp_path / "out", survey.id).root / "paper" / "X01.pdf"
    assert "1 blank meeting copies" in summary
    text = pdf_text(pdf)
    assert "Ban quản trị" in text and "Mã phiếu" not in text
    assert qr_codes(pdf, 1, tmp_path) == []


def test_an_open_survey_needs_a_count(tmp_path):
    survey = load_survey(ready(write_survey(tmp_path / "s")))
    got = CliRunner().invoke(cli, ["paper", str(survey.path), "--out", str(tmp_path / "o"),
                                   "--base-url", BASE])
    assert got.exit_code != 0 and "--count" in str(got.exception)


def test_printing_one_unit_keeps_the_others(tmp_path):
    survey = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    make_paper(survey, out, base_url=BASE, units=["X01"], count=1, day=survey.start)
    make_paper(survey, out, base_url=BASE, units=["X02"], count=1, day=survey.start)
    folder = Layout(out, survey.id).root / "paper"
    assert sorted(p.name for p in folder.glob("*.pdf")) == ["X01.pdf", "X02.pdf"]
    forms = _read(folder / "forms.csv")
    assert [f["unit_code"] for f in forms] == ["X01", "X02"]
    assert {f["code"] for f in forms} == {i["ticket"] for i in
                                          _read(Layout(out, survey.id).tickets / "issued.csv")}


def test_forms_for_a_public_address_are_refused_while_answers_would_be_lost(tmp_path):
    """A paper form's QR code opens the unit's page: with a local collector behind an https
    address, the answers sent from it would be lost, so nothing is printed."""
    survey = load_survey(write_survey(tmp_path / "s"))
    got = CliRunner().invoke(cli, ["paper", str(survey.path), "--out", str(tmp_path / "o"),
                                   "--count", "2", "--base-url", BASE])
    assert got.exit_code == 1 and 'kind = "local"' in str(got.exception)
    assert not (tmp_path / "o").exists()
