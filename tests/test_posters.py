"""Posters: printed by headless Chromium, one A4 page per unit, Vietnamese text intact, and the
QR code on the printed page decodes (zxing-cpp on a pdftoppm rendering)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from conftest import SMALL_TOML, write_survey
from golive_fixture import ready
from PIL import Image

from hailong.errors import HailongError
from hailong.layout import unit_url
from hailong.survey.load import load_survey

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BASE = "https://khaosat.hatinh.gov.vn"
ROOT = Path(__file__).resolve().parent.parent
DPI = 150


@pytest.fixture(autouse=True)
def _needs_chromium():
    from browser import CHROMIUM

    if not os.path.exists(CHROMIUM) or not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("Chromium and poppler-utils are installed by .ci/run")
        pytest.skip("needs chromium and poppler-utils")


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    done = subprocess.run(["pdftotext", "-layout", *pages, str(pdf), "-"], capture_output=True,
                          text=True, check=True)
    return unicodedata.normalize("NFC", done.stdout)


def pdf_info(pdf: Path) -> dict[str, str]:
    done = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)


def render_page(pdf: Path, page: int, target: Path) -> Path:
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", "-f", str(page), "-l",
                    str(page), str(pdf), str(target.with_suffix(""))], check=True)
    return target


def save_screenshot(path: Path) -> None:
    folder = os.environ.get("HAILONG_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(folder) / path.name)


def test_posters_one_a4_page_per_unit_scannable_and_in_vietnamese(survey, tmp_path):
    from hailong.collect.kit import make_qr_kit

    summary = make_qr_kit(survey, tmp_path, BASE)
    assert "3 A4 pages" in summary
    folder = tmp_path / survey.id / "qr"
    combined = folder / "posters.pdf"
    info = pdf_info(combined)
    assert int(info["Pages"]) == len(survey.units) == 3
    assert "A4" in info["Page size"]
    for number, unit in enumerate(survey.units, start=1):
        url = unit_url(BASE, survey.id, unit.code)
        single = folder / "posters" / f"{unit.code}.pdf"
        assert int(pdf_info(single)["Pages"]) == 1
        text = pdf_text(combined, number)
        assert unit.name in text  # e.g. "Xã Tiên Điền", diacritics intact
        assert text == pdf_text(single)
        assert "Khảo sát thử nghiệm" in text
        assert "Mở Zalo hoặc máy ảnh của điện thoại, quét mã QR." in text
        assert "Trả lời 5 câu hỏi, mất khoảng 1 phút." in text
        assert "Không cần đăng nhập, không thu thập họ tên." in text
        assert url.removeprefix("https://") in text and "https://" not in text
        png = render_page(combined, number, tmp_path / f"poster-{unit.code}.png")
        image = Image.open(png)
        assert abs(image.width / DPI * 25.4 - 210) < 1  # A4 width in mm
        found = zxingcpp.read_barcodes(image)
        assert [b.text for b in found] == [url]
        assert found[0].format == zxingcpp.BarcodeFormat.QRCode and found[0].ec_level == "M"
        corners = found[0].position
        width_mm = (corners.top_right.x - corners.top_left.x) / DPI * 25.4
        assert width_mm >= 80  # scans from a metre away on a cheap phone camera
    assert "Xã Tiên Điền" in pdf_text(combined, 1)
    save_screenshot(tmp_path / "poster-X01.png")


def test_unchanged_posters_are_not_printed_again(survey, tmp_path):
    from hailong.collect.posters import make_posters

    make_posters(survey, tmp_path, BASE)
    combined = tmp_path / survey.id / "qr" / "posters.pdf"
    stamp = combined.stat().st_mtime_ns
    assert make_posters(survey, tmp_path, BASE).startswith("Posters: unchanged")
    assert combined.stat().st_mtime_ns == stamp
    assert not make_posters(survey, tmp_path, "https://other.gov.vn").startswith("Posters: unchanged")
    assert "other.gov.vn/thu-nghiem/u/X02/" in pdf_text(combined, 2)


def test_batches_merge_in_order_and_long_names_fit_one_page(tmp_path):
    from hailong.collect.posters import make_posters

    names = ["Trung tâm Phục vụ hành chính công tỉnh Hà Tĩnh - chi nhánh huyện Nghi Xuân",
             "Xã Tiên Điền", "Ủy ban nhân dân thị trấn Xuân An", "Xã Cổ Đạm", "Phường Bắc Hồng"]
    units = "code,name,parent\n" + "".join(f"U{i},{n},Nghi Xuân\n" for i, n in enumerate(names))
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\norganizer = "Ủy ban nhân dân tỉnh Hà Tĩnh"')
    survey = load_survey(write_survey(tmp_path / "s", toml=toml, units=units))
    make_posters(survey, tmp_path, BASE, batch=2)  # three Chromium calls, merged
    combined = tmp_path / survey.id / "qr" / "posters.pdf"
    assert int(pdf_info(combined)["Pages"]) == 5
    for number, name in enumerate(names, start=1):
        text = " ".join(pdf_text(combined, number).split())
        assert "ỦY BAN NHÂN DÂN TỈNH HÀ TĨNH" in text
        assert f"/u/U{number - 1}/" in text
        assert " ".join(name.split()[:3]) in text
    png = render_page(combined, 1, tmp_path / "poster-long-name.png")
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(png))] == [
        unit_url(BASE, survey.id, "U0")]
    save_screenshot(png)


def test_every_split_and_merged_poster_renders_and_scans_to_its_unit(tmp_path):
    """Chromium's batches cut into one file per unit and merged (pypdf): page counts, and every
    page of both renders (pdftoppm) with the QR code of its own unit (zxing-cpp)."""
    from hailong.collect.posters import make_posters

    units = "code,name\n" + "".join(f"P{i},Xã số {i}\n" for i in range(5))
    survey = load_survey(write_survey(tmp_path / "s", units=units))
    make_posters(survey, tmp_path, BASE, batch=2)  # batches of 2, 2 and 1 page
    folder = tmp_path / survey.id / "qr"
    combined = folder / "posters.pdf"
    assert int(pdf_info(combined)["Pages"]) == 5
    assert sorted(p.name for p in (folder / "posters").iterdir()) == [f"P{i}.pdf" for i in range(5)]
    for number, unit in enumerate(survey.units, start=1):
        url = unit_url(BASE, survey.id, unit.code)
        single = folder / "posters" / f"{unit.code}.pdf"
        assert int(pdf_info(single)["Pages"]) == 1
        for pdf, page in ((combined, number), (single, 1)):
            png = render_page(pdf, page, tmp_path / f"{pdf.stem}-{page}.png")
            assert [b.text for b in zxingcpp.read_barcodes(Image.open(png))] == [url]


def test_missing_chromium_is_one_clear_error(survey, tmp_path, monkeypatch):
    import hailong.collect.pdf
    from hailong.collect.posters import make_posters

    monkeypatch.setenv("HAILONG_CHROMIUM", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(hailong.collect.pdf, "DEFAULT_CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(HailongError, match="apt-get install chromium"):
        make_posters(survey, tmp_path, BASE)
    assert not (tmp_path / survey.id / "qr" / "posters.pdf").exists()


def test_html_to_pdf_concatenates_several_files(tmp_path):
    from hailong.collect.pdf import html_to_pdf

    files = []
    for i, word in enumerate(["Hợp tác xã Đồng Tiến", "Hợp tác xã Phú Lộc"]):
        files.append(tmp_path / f"{i}.html")
        files[-1].write_text(f'<!doctype html><meta charset="utf-8"><style>@page{{size:A4}}</style>'
                             f"<p>{word}</p>", encoding="utf-8")
    pdf = html_to_pdf(files, tmp_path / "letters" / "all.pdf")
    assert int(pdf_info(pdf)["Pages"]) == 2
    assert "Hợp tác xã Đồng Tiến" in pdf_text(pdf, 1) and "Hợp tác xã Phú Lộc" in pdf_text(pdf, 2)
    with pytest.raises(HailongError, match="not found"):
        html_to_pdf(tmp_path / "missing.html", tmp_path / "x.pdf")


def test_cli_qr_with_posters_end_to_end(survey_dir, tmp_path):
    ready(survey_dir)  # a public address: the go-live checks run first
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate_qr.py"), str(survey_dir),
                           "--base-url", BASE, "--out", str(out)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    folder = out / "thu-nghiem" / "qr"
    assert int(pdf_info(folder / "posters.pdf")["Pages"]) == 3
    assert sorted(p.name for p in (folder / "posters").iterdir()) == ["X01.pdf", "X02.pdf", "X03.pdf"]
    assert "Thị trấn Xuân Hải" in pdf_text(folder / "posters" / "X03.pdf")


NAMES = ["Xã Tiên Điền", "Trung tâm Phục vụ hành chính công xã",
         "Bộ phận một cửa Ủy ban nhân dân thị trấn Xuân Hải",
         "Trung tâm Phục vụ hành chính công tỉnh Hà Tĩnh - chi nhánh Nghi Xuân",
         "Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính Ủy ban nhân dân thị trấn Xuân An"]


@pytest.mark.parametrize("title", [
    "Khảo sát thử nghiệm năm 2024",
    "Khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước năm 2024",
    "Khảo sát mức độ hài lòng của hợp tác xã đối với sự hỗ trợ phát triển kinh tế tập thể của các "
    "cơ quan nhà nước tỉnh Hà Tĩnh năm 2022",
])
def test_nothing_is_pushed_off_the_sheet(tmp_path, title):
    """Long unit names and titles: every line, down to the thanks, stays inside the margins."""
    import re

    from hailong.collect.posters import make_posters

    toml = SMALL_TOML.replace('title = "Khảo sát thử nghiệm"',
                              f'title = "{title}"\norganizer = "Ủy ban nhân dân tỉnh Hà Tĩnh"')
    units = "code,name,parent\n" + "".join(f"U{i},{n},Huyện Nghi Xuân\n" for i, n in enumerate(NAMES))
    survey = load_survey(write_survey(tmp_path / "s", toml=toml, units=units))
    make_posters(survey, tmp_path, BASE)
    combined = tmp_path / survey.id / "qr" / "posters.pdf"
    assert int(pdf_info(combined)["Pages"]) == len(NAMES)
    boxes = subprocess.run(["pdftotext", "-bbox", str(combined), "-"], capture_output=True,
                           text=True, check=True).stdout
    bottom_margin_pt = 841.9 - 10 / 25.4 * 72  # 10 mm above the A4 sheet's edge
    for number, page in enumerate(boxes.split("<page ")[1:], start=1):
        words = re.findall(r'yMax="([\d.]+)">([^<]*)<', page)
        assert words[-1][1] == "Ông/Bà!", f"page {number} does not end with the thanks"
        assert max(float(y) for y, _ in words) < bottom_margin_pt, f"page {number} overflows"
        png = render_page(combined, number, tmp_path / f"p{number}.png")
        found = zxingcpp.read_barcodes(Image.open(png))
        assert [b.text for b in found] == [unit_url(BASE, survey.id, f"U{number - 1}")]
        width_mm = (found[0].position.top_right.x - found[0].position.top_left.x) / DPI * 25.4
        assert width_mm >= 80


@pytest.mark.not_windows_like  # Windows prints with a browser per file (html_to_pdf)
def test_one_printer_prints_several_files_as_the_command_line_does(tmp_path):
    """The kept-open browser: two documents in a row, A4 from the CSS, Vietnamese intact, no
    accessibility tags (split and merge would drop them), and the same text as --print-to-pdf."""
    from hailong.collect.pdf import html_to_pdf
    from hailong.collect.printer import Printer

    files = []
    for i, word in enumerate(["Hợp tác xã Đồng Tiến", "Thị trấn Xuân Hải"]):
        files.append(tmp_path / f"{i}.html")
        files[-1].write_text(f'<!doctype html><meta charset="utf-8"><style>@page{{size:A4;margin:0}}'
                             f"</style><p>{word}</p><p style='break-before:page'>2</p>",
                             encoding="utf-8")
    with Printer() as printer:
        for i, html in enumerate(files):
            printer.print(html, tmp_path / "out" / f"{i}.pdf")
        with pytest.raises(HailongError, match="not found"):
            printer.print(tmp_path / "missing.html", tmp_path / "x.pdf")
    for i, word in enumerate(["Hợp tác xã Đồng Tiến", "Thị trấn Xuân Hải"]):
        pdf = tmp_path / "out" / f"{i}.pdf"
        info = pdf_info(pdf)
        assert int(info["Pages"]) == 2 and "A4" in info["Page size"] and info["Tagged"].strip() == "no"
        assert word in pdf_text(pdf, 1)
    html_to_pdf(files[1], tmp_path / "cli.pdf")
    assert pdf_text(tmp_path / "cli.pdf") == pdf_text(tmp_path / "out" / "1.pdf")
