"""Personal links: signed URLs, QR codes decoded back, printed letters, and the refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey
from golive_fixture import ready

from hailong.errors import HailongError
from hailong.field import links
from hailong.survey import roster, tokens
from hailong.survey.load import load_survey

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
    assert roster.check_keys(roster_survey, pd.Series([token])).tolist() == [True]
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
    ready(roster_survey.path)  # a public address: the go-live checks run first, the key's too
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


# -- the address: --base-url, or base_url in survey.toml ----------------------------------------
def test_base_url_from_survey_toml_when_not_given(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    toml = TOML.replace('year = 2024\n', 'year = 2024\nbase_url = "https://ks.hatinh.gov.vn/"\n')
    survey = load_survey(write_survey(tmp_path / "s", toml=toml, roster_csv=ROSTER))
    out = tmp_path / "out"
    links.make_links(survey, out)  # no --base-url: survey.toml's
    table = pd.read_csv(out / survey.id / "links" / "links.csv", dtype=str)
    assert table["url"].str.startswith("https://ks.hatinh.gov.vn/thu-nghiem/u/").all()
    # --base-url, when given, wins
    links.make_links(survey, out, "https://other.example.vn")
    table = pd.read_csv(out / survey.id / "links" / "links.csv", dtype=str)
    assert table["url"].str.startswith("https://other.example.vn/thu-nghiem/u/").all()


def test_refuses_without_any_base_url(roster_survey, tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    assert roster_survey.base_url == ""
    for given in (None, "", "  "):
        with pytest.raises(HailongError, match="give --base-url or set base_url in survey.toml") as info:
            links.make_links(roster_survey, tmp_path / "out", given)
        assert "\n" not in str(info.value)
    assert not (tmp_path / "out").exists()


def test_a_bad_base_url_in_survey_toml_is_named_as_such(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    toml = TOML.replace('year = 2024\n', 'year = 2024\nbase_url = "http://ks.hatinh.gov.vn"\n')
    survey = load_survey(write_survey(tmp_path / "s", toml=toml, roster_csv=ROSTER))
    with pytest.raises(HailongError, match=r"survey\.toml: base_url 'http://ks.hatinh.gov.vn' is not https"):
        links.make_links(survey, tmp_path / "out")


# -- the signing key may not change under letters already made ----------------------------------
def test_another_key_is_refused_while_letters_exist(roster_survey, tmp_path, monkeypatch):
    """A different HAILONG_SIGNING_KEY would silently remake every letter, after which `score`
    quarantines every answer from the letters already sent: refused, in one line, until the
    links folder is deleted on purpose."""
    out = tmp_path / "out"
    folder = out / roster_survey.id / "links"
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    links.make_links(roster_survey, out, "https://x.example.vn")
    stored = (folder / "key-check.txt").read_text(encoding="utf-8")
    assert stored == links.key_check(KEY.encode()) + "\n" and len(stored.strip()) == 16
    assert KEY not in stored
    before = (folder / "links.csv").read_bytes()
    links.make_links(roster_survey, out, "https://x.example.vn")  # the same key: made again
    assert (folder / "links.csv").read_bytes() == before

    monkeypatch.setenv("HAILONG_SIGNING_KEY", "another-key-that-is-also-long-enough-987")
    with pytest.raises(HailongError) as info:
        links.make_links(roster_survey, out, "https://x.example.vn")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{folder / 'key-check.txt'}: ")
    assert "signed with another HAILONG_SIGNING_KEY" in message and "invalid token" in message
    assert f"delete {folder}" in message
    assert (folder / "links.csv").read_bytes() == before  # nothing replaced

    shutil.rmtree(folder)  # starting over, knowingly
    links.make_links(roster_survey, out, "https://x.example.vn")
    assert (folder / "links.csv").read_bytes() != before
    assert (folder / "key-check.txt").read_text(encoding="utf-8").strip() == links.key_check(
        b"another-key-that-is-also-long-enough-987")


def test_key_check_reveals_nothing_of_the_key():
    a, b = links.key_check(KEY.encode()), links.key_check((KEY + "x").encode())
    assert a != b and len(a) == 16 and int(a, 16) >= 0
    assert a == links.key_check(KEY.encode())  # the same key, the same check


# -- the reminder to build the pages the links open ---------------------------------------------
def test_summary_reminds_to_build_the_site(roster_survey, tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    out = tmp_path / "out"
    summary = links.make_links(roster_survey, out, "https://x.example.vn")
    note = summary.splitlines()[-1]
    assert note.startswith("note: the links open pages that are not built yet")
    assert f"`hailong build {roster_survey.path} --base-url https://x.example.vn --out {out}`" in note
    (out / "site" / roster_survey.id).mkdir(parents=True)  # built
    assert "hailong build" not in links.make_links(roster_survey, out, "https://x.example.vn")


# -- the letter's header: the organizer's place name is never split ----------------------------
@pytest.mark.parametrize(("text", "kept"), [
    ("Liên minh Hợp tác xã tỉnh Hà Tĩnh", "Liên minh Hợp\u00a0tác\u00a0xã tỉnh\u00a0Hà\u00a0Tĩnh"),
    ("LIÊN MINH HỢP TÁC XÃ TỈNH HÀ TĨNH", "LIÊN MINH HỢP\u00a0TÁC\u00a0XÃ TỈNH\u00a0HÀ\u00a0TĨNH"),
    ("Liên minh Hợp tác xã Việt Nam", "Liên minh Hợp\u00a0tác\u00a0xã Việt Nam"),
    ("Ủy ban nhân dân huyện Nghi Xuân", "Ủy ban nhân dân huyện\u00a0Nghi\u00a0Xuân"),
    ("UBND thị xã Hồng Lĩnh", "UBND thị\u00a0xã\u00a0Hồng\u00a0Lĩnh"),
    ("Ủy ban nhân dân thành phố Hồ Chí Minh", "Ủy ban nhân dân thành\u00a0phố\u00a0Hồ\u00a0Chí\u00a0Minh"),
    ("UBND xã Tiên Điền, huyện Nghi Xuân", "UBND xã\u00a0Tiên\u00a0Điền, huyện\u00a0Nghi\u00a0Xuân"),
    ("Sở Nội vụ", "Sở Nội vụ"),
    ("", ""),
])
def test_place_names_are_kept_whole(text, kept):
    assert links.keep_names_whole(text) == kept


# the lines (tops of the boxes) a phrase of the organizer is printed on, and the organizer's lines
LINES_OF_JS = """phrase => {
  const org = document.querySelector('.letter .org');
  const text = org.firstChild;
  const at = text.data.replace(/\\s/g, ' ').indexOf(phrase);
  const range = document.createRange();
  range.setStart(text, at);
  range.setEnd(text, at + phrase.length);
  const tops = Array.from(range.getClientRects()).map(r => Math.round(r.top));
  const line = parseFloat(getComputedStyle(org).lineHeight);
  return {tops: Array.from(new Set(tops)), lines: Math.round(org.getBoundingClientRect().height / line)};
}"""


@pytest.mark.browser
def test_letter_header_keeps_the_place_name_on_one_line(tmp_path):
    """«LIÊN MINH HỢP TÁC XÃ TỈNH HÀ / TĨNH» was printed: the place name must stay on one line."""
    from browser import chromium

    survey = load_survey(ROOT / "surveys" / "htx-2023")
    assert survey.organizer == "Liên minh Hợp tác xã tỉnh Hà Tĩnh"
    entry = {"id": "HTX-01", "name": "Hợp tác xã Nông nghiệp Tiên Điền", "tax_code": "", "district": "",
             "unit": survey.units[0].name, "url": "https://x.example.vn/htx-2023/u/X/?t=HTX-01.abc",
             "svg": "<svg></svg>"}
    page_file = tmp_path / "letter.html"
    page_file.write_text(links.letters_html(survey, [entry]), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.emulate_media(media="print")
        page.goto(page_file.as_uri())
        place = page.evaluate(LINES_OF_JS, "tỉnh Hà Tĩnh")
        cooperative = page.evaluate(LINES_OF_JS, "Hợp tác xã")
        page.screenshot(path=str(tmp_path / "letter-header.png"))
    assert len(place["tops"]) == 1 and len(cooperative["tops"]) == 1, (place, cooperative)
    assert place["lines"] == 2 and cooperative["tops"][0] < place["tops"][0]  # two lines, in order


LETTER = '''
[letter]
number = "125/UBND-VP"
place = "Nghi Xuân"
date = "2026-02-05"
signer_title = "KT. CHỦ TỊCH\\nPHÓ CHỦ TỊCH"
signer_name = "Nguyễn Văn Bình"
'''


@pytest.mark.parametrize("day,line", [((2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
                                      ((2026, 12, 1), "ngày 01 tháng 12 năm 2026"),
                                      ((2026, 3, 15), "ngày 15 tháng 3 năm 2026")])
def test_date_line_as_an_official_letter_writes_it(day, line):
    import datetime as dt

    assert links.date_line("Hà Tĩnh", dt.date(*day)) == f"Hà Tĩnh, {line}"
    assert links.date_line("", dt.date(*day)) == line


def test_url_pieces_break_only_after_a_slash():
    base, token = links.url_pieces("https://ks.example.vn/htx-2023/u/X01/?t=HTX-01.abc%2Bd")
    assert "".join(base) + token == "https://ks.example.vn/htx-2023/u/X01/?t=HTX-01.abc%2Bd"
    assert all(p.endswith("/") for p in base) and token == "?t=HTX-01.abc%2Bd"


def test_the_letter_has_number_date_line_signer_and_an_unbroken_token(tmp_path, monkeypatch):
    from browser import chromium
    from pypdf import PdfReader

    survey = load_survey(write_survey(tmp_path / "s", toml=TOML + LETTER, roster_csv=ROSTER))
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    # a long address: the link must wrap, and only after a '/'
    base = "https://khaosat-hai-long.so-noi-vu.ubnd.tinh-ha-tinh.example.gov.vn/cac-cuoc-khao-sat"
    links.make_links(survey, tmp_path / "out", base)
    folder = tmp_path / "out" / survey.id / "links"
    text = " ".join(PdfReader(str(folder / "letters" / "HTX-01.pdf")).pages[0].extract_text().split())
    for expected in ("Số: 125/UBND-VP", "Nghi Xuân, ngày 05 tháng 02 năm 2026", "KT. CHỦ TỊCH",
                     "PHÓ CHỦ TỊCH", "Nguyễn Văn Bình"):
        assert expected in text, expected
    assert text.index("PHÓ CHỦ TỊCH") < text.index("Nguyễn Văn Bình")
    url = pd.read_csv(folder / "links.csv", dtype=str).loc[0, "url"]
    entry = {"id": "HTX-01", "name": "Hợp tác xã Nông nghiệp Tiên Điền", "tax_code": "",
             "district": "", "unit": "Xã Tiên Điền", "url": url, "svg": "<svg></svg>"}
    page_file = tmp_path / "letter.html"
    page_file.write_text(links.letters_html(survey, [entry]), encoding="utf-8")
    with chromium() as browser:
        page = browser.new_page()
        page.emulate_media(media="print")
        page.goto(page_file.as_uri())
        assert page.locator(".url").evaluate("e => e.getClientRects().length") == 1
        lines = page.locator(".url").evaluate(
            "e => Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight))")
        assert lines >= 2  # the address did wrap ...
        assert page.locator(".url .token").evaluate("e => e.getClientRects().length") == 1  # ... not in the token
        assert page.locator(".url").inner_text().replace("\n", "") == url


def test_without_a_letter_section_the_number_is_left_to_fill(roster_survey, tmp_path, monkeypatch):
    import datetime as dt

    entry = {"id": "HTX-01", "name": "HTX", "tax_code": "", "district": "", "unit": "Xã",
             "url": "https://x.example.vn/s/u/X/?t=HTX-01.abc", "svg": "<svg></svg>"}
    html = links.letters_html(roster_survey, [entry], dt.date(2026, 12, 1))
    assert "Số: " in html and "ngày 01 tháng 12 năm 2026" in html


def test_a_bad_letter_date_is_named(tmp_path):
    with pytest.raises(HailongError, match="letter.date"):
        load_survey(write_survey(tmp_path / "s", toml=TOML + '\n[letter]\ndate = "05/02/2026"\n',
                                 roster_csv=ROSTER))
