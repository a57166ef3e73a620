"""QR codes: every image decodes (zxing-cpp) to the unit's URL; full QR, level M, 4-module
quiet zone; http refused; unchanged units skipped; the `hailong qr` command end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import zxingcpp
from conftest import SMALL_TOML, write_survey
from golive_fixture import ready
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hailong.collect.kit import make_qr_kit
from hailong.collect.qr import (
    BORDER,
    check_base_url,
    generate_qr_images,
    qr_matrix,
    qr_svg_inline,
    write_qr,
)
from hailong.errors import HailongError
from hailong.layout import unit_url
from hailong.survey.load import load_survey

BASE = "https://khaosat.hatinh.gov.vn"
ROOT = Path(__file__).resolve().parent.parent
SVG_NS = "{http://www.w3.org/2000/svg}"


def decode(image: Image.Image) -> zxingcpp.Barcode:
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"expected one code, found {len(found)}"
    return found[0]


def check_symbol(barcode: zxingcpp.Barcode, url: str) -> None:
    assert barcode.valid
    assert barcode.text == url
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode  # a full QR code, never Micro QR
    assert barcode.ec_level in ("M", "Q", "H")


def png_quiet_zone(path: Path, barcode: zxingcpp.Barcode) -> tuple[int, int]:
    """(modules of quiet zone, modules across the symbol) measured on the PNG itself."""
    image = Image.open(path).convert("L")
    version = int(barcode.extra["Version"])
    modules = 17 + 4 * version
    left = barcode.position.top_left.x
    # The top-left finder pattern is 7 modules of dark: its first row gives the module size.
    row = [image.getpixel((x, barcode.position.top_left.y + 1)) for x in range(image.width)]
    start = next(x for x, v in enumerate(row) if v < 128)
    end = next(x for x in range(start, image.width) if row[x] >= 128)
    box = (end - start) / 7
    assert start == left
    assert image.width == image.height == round((modules + 2 * BORDER) * box)
    # Every pixel of the quiet zone is white.
    margin = round(BORDER * box)
    pixels = image.load()
    for y in range(image.height):
        for x in list(range(margin)) + list(range(image.width - margin, image.width)):
            assert pixels[x, y] == 255
            assert pixels[y, x] == 255
    return round(left / box), modules


def svg_modules(path_data: str, size: int) -> list[list[bool]]:
    """The dark modules of segno's path: "M x y" and "m dx dy" move, "h n" strokes n modules
    (one module high, centred on the row's middle, so y is a row + 0.5)."""
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    commands = re.findall(r"([Mmh])(-?\d+(?:\.\d+)?)(?: (-?\d+(?:\.\d+)?))?", path_data)
    assert "".join(f"{c}{a}" + (f" {b}" if b else "") for c, a, b in commands) == path_data
    for command, a, b in commands:
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            row, start, length = y - 0.5, x, int(a)
            assert row == int(row) and start == int(start) and length >= 1
            for col in range(int(start), int(start) + length):
                assert not grid[int(row)][col]  # each module drawn once
                grid[int(row)][col] = True
            x += length
    return grid


def rasterise_svg(path: Path, scale: int = 8) -> tuple[Image.Image, int, str]:
    """Draw segno's SVG file (its module strokes) into an image: checks its structure and lets
    zxing-cpp decode it. Returns (image, modules across including quiet zone, title)."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + "svg"
    title = root.find(SVG_NS + "title").text
    group = root.find(SVG_NS + "g")
    assert group.get("transform") == "scale(10)"
    background, line = group.findall(SVG_NS + "path")
    w = int(root.get("width")) // 10
    assert int(root.get("height")) == w * 10
    assert (background.get("d"), background.get("fill")) == (f"M0 0h{w}v{w}h-{w}z", "#fff")
    assert line.get("stroke") == "#000"
    grid = svg_modules(line.get("d"), w)
    image = Image.new("L", (w * scale, w * scale), 255)
    draw = ImageDraw.Draw(image)
    for y, row in enumerate(grid):
        for x, dark in enumerate(row):
            if dark:
                assert BORDER <= x < w - BORDER and BORDER <= y < w - BORDER  # quiet zone
                draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1],
                               fill=0)
    return image, w, title


def test_every_unit_png_and_svg_decode_to_its_url(survey, tmp_path):
    written, skipped = generate_qr_images(survey, tmp_path, BASE + "/")
    assert (written, skipped) == (3, 0)
    folder = tmp_path / survey.id / "qr"
    for unit in survey.units:
        url = unit_url(BASE, survey.id, unit.code)
        assert url == f"{BASE}/thu-nghiem/u/{unit.code}/"
        png = folder / f"{unit.code}.png"
        barcode = decode(Image.open(png))
        check_symbol(barcode, url)
        assert barcode.ec_level == "M"
        quiet, modules = png_quiet_zone(png, barcode)
        assert quiet == BORDER
        assert 600 <= Image.open(png).width <= 1100  # large enough to print sharp
        image, across, title = rasterise_svg(folder / f"{unit.code}.svg")
        assert title == url
        assert across == modules + 2 * BORDER
        check_symbol(decode(image), url)
        assert os.stat(png).st_mode & 0o044 == 0o044  # readable by the web server


def test_short_and_long_urls_stay_full_qr(tmp_path):
    # Tiny data would fit a Micro QR symbol; qrcode must still make a full one.
    for url in ("https://a.vn/", "https://x.vn/" + "p" * 300):
        write_qr(url, tmp_path / "a.svg", tmp_path / "a.png")
        barcode = decode(Image.open(tmp_path / "a.png"))
        check_symbol(barcode, url)
        assert png_quiet_zone(tmp_path / "a.png", barcode)[0] == BORDER
        check_symbol(decode(rasterise_svg(tmp_path / "a.svg")[0]), url)


@settings(max_examples=12, deadline=None)
@given(code=st.from_regex(r"[A-Za-z0-9_-]{1,20}", fullmatch=True),
       survey_id=st.from_regex(r"[a-z0-9-]{1,24}", fullmatch=True))
def test_any_unit_code_round_trips(tmp_path_factory, code, survey_id):
    folder = tmp_path_factory.mktemp("qr")
    url = unit_url(BASE, survey_id, code)
    write_qr(url, None, folder / "x.png")
    check_symbol(decode(Image.open(folder / "x.png")), url)


def test_inline_svg_is_an_element_that_decodes():
    url = unit_url(BASE, "thu-nghiem", "X01")
    svg = qr_svg_inline(url, css_class="poster-qr", label="Mã QR: Xã Tiên Điền")
    assert svg.startswith("<svg ") and "<?xml" not in svg
    assert 'class="poster-qr"' in svg and 'aria-label="Mã QR: Xã Tiên Điền"' in svg
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.get("width") is None  # sized by CSS
    matrix = qr_matrix(url)
    assert root.get("viewBox") == f"0 0 {len(matrix)} {len(matrix)}"
    background, line = root.findall("path")
    assert background.get("fill") == "#fff" and line.get("stroke") == "#000"
    assert svg_modules(line.get("d"), len(matrix)) == matrix  # segno's drawing of this very code


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="abcXYZ0123456789/-._~ảĐ :%&<>\"'", min_size=0, max_size=300))
def test_any_url_decodes_back_identically_from_both_files(tmp_path_factory, path):
    """Byte, alphanumeric and numeric-looking data, UTF-8, markup characters, many versions."""
    folder = tmp_path_factory.mktemp("qr")
    url = "https://khaosat.hatinh.gov.vn/" + path
    write_qr(url, folder / "x.svg", folder / "x.png")
    barcode = decode(Image.open(folder / "x.png"))
    check_symbol(barcode, url)
    assert barcode.ec_level == "M"  # level M, never boosted
    assert png_quiet_zone(folder / "x.png", barcode)[0] == BORDER
    image, across, title = rasterise_svg(folder / "x.svg")
    assert title == url and across == len(qr_matrix(url))
    check_symbol(decode(image), url)


@pytest.mark.parametrize("base", ["http://khaosat.hatinh.gov.vn", "HTTP://x.vn"])
def test_http_is_refused_unless_allowed(base, survey, tmp_path):
    with pytest.raises(HailongError, match="not https.*--allow-http"):
        make_qr_kit(survey, tmp_path, base, posters=False)
    assert not (tmp_path / survey.id / "qr").exists()
    assert check_base_url(base, allow_http=True) == base
    assert "3 units" in make_qr_kit(survey, tmp_path, base, posters=False, allow_http=True)


def test_roster_survey_gets_no_public_posters(tmp_path):
    """Answers from a public poster carry no personal token: for a roster survey every one
    would be quarantined, so the kit refuses and points to `hailong links`."""
    toml = SMALL_TOML.replace('year = 2024\n', 'year = 2024\naccess = "roster"\n')
    survey = load_survey(write_survey(tmp_path / "htx", toml=toml,
                                      roster_csv="id,name,unit_code\nHTX-01,HTX Tiên Điền,X01\n"))
    out = tmp_path / "out"
    with pytest.raises(HailongError, match=r"access = \"roster\".*invalid token.*`hailong links ") as info:
        make_qr_kit(survey, out, BASE)
    assert "\n" not in str(info.value) and str(survey.path) in str(info.value)
    assert not out.exists()  # nothing drawn, nothing printed


def test_qr_command_refuses_a_roster_survey_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hailong", "qr", str(ROOT / "surveys" / "htx-2023"), "--base-url",
         "http://127.0.0.1:8000", "--allow-http", "--out", str(tmp_path / "out"), "--no-posters"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("hailong: error: survey 'htx-2023' has access = \"roster\"")
    assert "hailong links" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("base", ["khaosat.hatinh.gov.vn", "https://", "ftp://x.vn", "",
                                  "https://x .vn", "https://x.vn/?a=1", "https://x.vn/#top",
                                  "https://u:p@x.vn", "https://x.vn:port"])
def test_malformed_base_url_is_refused(base):
    with pytest.raises(HailongError, match="--base-url") as info:
        check_base_url(base, allow_http=True)
    assert "\n" not in str(info.value)


def test_unchanged_units_are_skipped_and_changes_redrawn(survey_dir, tmp_path):
    survey = load_survey(survey_dir)
    folder = tmp_path / survey.id / "qr"
    assert generate_qr_images(survey, tmp_path, BASE) == (3, 0)
    stamp = (folder / "X01.svg").stat().st_mtime_ns
    assert generate_qr_images(survey, tmp_path, BASE) == (0, 3)
    assert (folder / "X01.svg").stat().st_mtime_ns == stamp
    (folder / "X02.png").unlink()
    assert generate_qr_images(survey, tmp_path, BASE) == (1, 2)
    assert decode(Image.open(folder / "X02.png")).text.endswith("/u/X02/")
    # A new base URL changes every code.
    other = "https://dichvucong.hatinh.gov.vn/khao-sat"
    assert generate_qr_images(survey, tmp_path, other) == (3, 0)
    assert decode(Image.open(folder / "X01.png")).text == f"{other}/thu-nghiem/u/X01/"
    # A unit dropped from units.csv loses its images; a new one gets them.
    write_survey(survey_dir, units="code,name\nX01,Xã Tiên Điền\nX09,Xã Cổ Đạm\n")
    smaller = load_survey(survey_dir)
    assert generate_qr_images(smaller, tmp_path, other) == (1, 1)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "X01.png", "X01.svg", "X09.png", "X09.svg"]


def test_process_pool_draws_every_unit(tmp_path):
    units = "code,name\n" + "".join(f"U{i:04d},Xã số {i}\n" for i in range(150))
    survey = load_survey(write_survey(tmp_path / "lon", units=units))
    assert generate_qr_images(survey, tmp_path / "out", BASE, workers=2) == (150, 0)
    folder = tmp_path / "out" / survey.id / "qr"
    for i in range(150):  # every encoded URL of the kit decodes back, from both files
        url = unit_url(BASE, survey.id, f"U{i:04d}")
        check_symbol(decode(Image.open(folder / f"U{i:04d}.png")), url)
        image, _across, title = rasterise_svg(folder / f"U{i:04d}.svg", scale=4)
        assert title == url
        check_symbol(decode(image), url)
    assert len(list(folder.glob("*.svg"))) == len(list(folder.glob("*.png"))) == 150
    assert generate_qr_images(survey, tmp_path / "out", BASE, workers=2) == (0, 150)


def run_cli(*args: str, script: bool = False) -> subprocess.CompletedProcess:
    command = ([sys.executable, str(ROOT / "scripts" / "generate_qr.py")] if script
               else [sys.executable, "-m", "hailong", "qr"])
    return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_cli_qr_end_to_end_without_posters(survey_dir, tmp_path):
    ready(survey_dir)  # a public address: the go-live checks run first
    out = tmp_path / "out"
    done = run_cli(str(survey_dir), "--base-url", BASE, "--out", str(out), "--no-posters")
    assert done.returncode == 0, done.stderr
    assert "3 units" in done.stdout and "3 drawn" in done.stdout
    for code in ("X01", "X02", "X03"):
        check_symbol(decode(Image.open(out / "thu-nghiem" / "qr" / f"{code}.png")),
                     f"{BASE}/thu-nghiem/u/{code}/")
    assert not (out / "thu-nghiem" / "qr" / "posters.pdf").exists()
    again = run_cli(str(survey_dir), "--base-url", BASE, "--out", str(out), "--no-posters", script=True)
    assert again.returncode == 0, again.stderr
    assert "0 drawn, 3 unchanged" in again.stdout


def test_cli_refuses_http_with_one_line(survey_dir, tmp_path):
    done = run_cli(str(survey_dir), "--base-url", "http://x.vn", "--out", str(tmp_path), "--no-posters")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--allow-http" in done.stderr
    allowed = run_cli(str(survey_dir), "--base-url", "http://127.0.0.1:8000", "--out", str(tmp_path),
                      "--no-posters", "--allow-http")
    assert allowed.returncode == 0, allowed.stderr
    assert decode(Image.open(tmp_path / "thu-nghiem" / "qr" / "X03.png")).text == \
        "http://127.0.0.1:8000/thu-nghiem/u/X03/"


@pytest.mark.browser
def test_svg_files_decode_when_drawn_by_chromium(survey, tmp_path):
    """The SVG files as a browser (or a print shop's tool) draws them, not only as we parse them."""
    from browser import chromium

    generate_qr_images(survey, tmp_path, BASE)
    folder = tmp_path / survey.id / "qr"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 500, "height": 500})
        for unit in survey.units:
            page.goto((folder / f"{unit.code}.svg").as_uri())
            shot = tmp_path / f"{unit.code}-svg.png"
            page.screenshot(path=str(shot))
            check_symbol(decode(Image.open(shot)), unit_url(BASE, survey.id, unit.code))


def test_inline_svg_reuses_a_file_only_when_it_encodes_the_same_url(tmp_path):
    url = unit_url(BASE, "thu-nghiem", "X01")
    write_qr(url, tmp_path / "X01.svg", None)
    fresh = qr_svg_inline(url, label="Xã Tiên Điền")
    assert qr_svg_inline(url, label="Xã Tiên Điền", svg_file=tmp_path / "X01.svg") == fresh
    other = unit_url(BASE, "thu-nghiem", "X02")
    reused = qr_svg_inline(other, svg_file=tmp_path / "X01.svg")  # stale file: drawn anew
    assert reused == qr_svg_inline(other)
    assert qr_svg_inline(url, svg_file=tmp_path / "missing.svg") == qr_svg_inline(url)


def test_png_pixels_are_the_modules_and_print_ten_cm_wide():
    import io

    import numpy as np

    from hailong.collect.qr import png_bytes, qr_code, qr_matrix

    url = unit_url(BASE, "thu-nghiem", "X01")
    matrix = qr_matrix(url)
    image = Image.open(io.BytesIO(png_bytes(qr_code(url))))
    image.load()
    box = image.width // len(matrix)
    assert image.mode == "1" and image.width == image.height == box * len(matrix)
    dark = np.array(image.convert("L")) < 128
    assert (dark == np.repeat(np.repeat(np.array(matrix), box, axis=0), box, axis=1)).all()
    assert abs(image.width / image.info["dpi"][0] * 2.54 - 10) < 0.05
