"""Personal links: signed URLs, QR codes decoded back, printed letters, and the refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey

from hailong import links, tokens
from hailong.errors import HailongError
from hailong.survey import load_survey

ROOT = Path(__file__).resolve().parent.parent
TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"\norganizer = "UBND huyện Nghi Xuân"')
ROSTER = """\
id,name,unit_code,tax_code,district,contact
HTX-01,Hợp tác xã Nông nghiệp Tiên Điền,X01,3000111111,Nghi Xuân,0912 000 001
HTX-02,Hợp tác xã Dịch vụ Thủy sản Xuân Hải,X03,,Nghi Xuân,
"""
KEY = "a-test-key-that-is-long-enough-0123456789"


@pytest.fixture
def roster_survey(tmp_path):
    return load_survey(write_survey(tmp_path / "s", toml=TOML, roster_csv=ROSTER))


def _decode_png(path: Path) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(path))]


def test_personal_url_shape():
    url = links.personal_url("https://ks.example.vn/", "s", "X01", "H.1.abc")
    assert url == "https://ks.example.vn/s/u/X01/?t=H.1.abc"


@pytest.mark.slow
def test_make_links_end_to_end(roster_survey, tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    out = tmp_path / "out"
    summary = links.make_links(roster_survey, out, "https://khaosat.example.gov.vn")
    folder = out / roster_survey.id / "links"
    assert "2 personal links" in summary and "do not publish" in summary
    table = pd.read_csv(folder / "links.csv", dtype=str)
    assert table.columns.tolist() == ["id", "name", "unit_code", "url"]
    assert table["id"].tolist() == ["HTX-01", "HTX-02"]
    url = table.loc[0, "url"]
    assert url.startswith("https://khaosat.example.gov.vn/thu-nghiem/u/X01/?t=HTX-01.")
    token = unquote(parse_qs(urlsplit(url).query)["t"][0])
    # the token in the link verifies for this survey and this member, and for no other survey
    assert tokens.check_keys(roster_survey, pd.Series([token])).tolist() == [True]
    assert not tokens.verify("other-survey", token, KEY.encode())
    assert not (out / "site").exists()  # nothing of this goes into the published site

    # the QR image decodes to the signed URL
    assert _decode_png(folder / "qr" / "HTX-01.png") == [url]
    url2 = table.loc[1, "url"]
    assert url2.startswith("https://khaosat.example.gov.vn/thu-nghiem/u/X03/?t=HTX-02.")
    assert f"<title>{url2}</title>" in (folder / "qr" / "HTX-02.svg").read_text(encoding="utf-8")

    # the letters: one A4 page per cooperative, and the printed QR decodes to the URL
    from pypdf import PdfReader

    combined = PdfReader(str(folder / "letters.pdf"))
    assert len(combined.pages) == 2
    box = combined.pages[0].mediabox
    assert abs(float(box.width) - 595.3) < 2 and abs(float(box.height) - 841.9) < 2  # A4
    letter = folder / "letters" / "HTX-01.pdf"
    assert len(PdfReader(str(letter)).pages) == 1
    text = PdfReader(str(letter)).pages[0].extract_text()
    for expected in ("Hợp tác xã Nông nghiệp Tiên Điền", "3000111111", "Xã Tiên Điền",
                     "14/06/2024", "thống nhất", "một lần"):
        assert expected in text, expected
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(letter), str(png)], check=True)
    assert _decode_png(png.with_suffix(".png")) == [url]
    text2 = PdfReader(str(folder / "letters" / "HTX-02.pdf")).pages[0].extract_text()
    assert "Thủy sản Xuân Hải" in text2 and "Mã số thuế" not in text2


def test_refuses_without_key(roster_survey, tmp_path, monkeypatch):
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    with pytest.raises(HailongError, match="set HAILONG_SIGNING_KEY"):
        links.make_links(roster_survey, tmp_path / "out", "https://x.example.vn")
    assert not (tmp_path / "out").exists()


def test_refuses_open_survey_and_http(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    open_survey = load_survey(write_survey(tmp_path / "o"))
    with pytest.raises(HailongError, match='access = "roster"'):
        links.make_links(open_survey, tmp_path / "out", "https://x.example.vn")
    s = load_survey(write_survey(tmp_path / "r", toml=TOML, roster_csv=ROSTER))
    with pytest.raises(HailongError, match="not https"):
        links.make_links(s, tmp_path / "out", "http://x.example.vn")


def test_cli_refuses_without_key(roster_survey, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "HAILONG_SIGNING_KEY"}
    done = subprocess.run(
        [sys.executable, "-m", "hailong", "links", str(roster_survey.path), "--base-url",
         "https://x.example.vn", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("hailong: error: set HAILONG_SIGNING_KEY")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
