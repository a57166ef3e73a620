"""hailong.collect.pdf without a browser: Chromium's failures become one clear line; PDFs merge and
split page for page. (Printing with the real Chromium is tested in test_posters.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from hailong.collect.pdf import html_to_pdf, merge_pdfs, page_count, split_pdf
from hailong.errors import HailongError


def fake_chromium(tmp_path: Path, monkeypatch, body: str) -> None:
    script = tmp_path / "chromium"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(0o755)
    monkeypatch.setenv("HAILONG_CHROMIUM", str(script))


def page(tmp_path: Path, name: str, widths: list[int]) -> Path:
    writer = PdfWriter()
    for width in widths:
        writer.add_blank_page(width=width, height=842)
    path = tmp_path / name
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def widths(path: Path) -> list[int]:
    return [int(RectangleObject(p.mediabox).width) for p in PdfReader(str(path)).pages]


def test_a_failing_chromium_is_one_line_with_its_message(tmp_path, monkeypatch):
    fake_chromium(tmp_path, monkeypatch,
                  'echo "[1:1:ERROR:dbus/bus.cc] Failed to connect to the bus" >&2\n'
                  'echo "ERROR: cannot open display" >&2\nexit 3')
    html = tmp_path / "a.html"
    html.write_text("<p>Xin chào</p>", encoding="utf-8")
    with pytest.raises(HailongError) as info:
        html_to_pdf(html, tmp_path / "out" / "a.pdf")
    message = str(info.value)
    assert "\n" not in message and "exit 3" in message and "cannot open display" in message
    assert not (tmp_path / "out" / "a.pdf").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no temporary file left


def test_a_chromium_that_writes_no_pdf_is_an_error(tmp_path, monkeypatch):
    fake_chromium(tmp_path, monkeypatch, "exit 0")
    html = tmp_path / "a.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(HailongError, match="could not print"):
        html_to_pdf(html, tmp_path / "a.pdf")


def test_a_hanging_chromium_is_stopped(tmp_path, monkeypatch):
    pidfile = tmp_path / "helper.pid"
    # The fake browser starts a helper process, as Chromium does; both must be stopped.
    fake_chromium(tmp_path, monkeypatch, f"sleep 30 &\necho $! > {pidfile}\nwait")
    html = tmp_path / "a.html"
    html.write_text("<p>x</p>", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(HailongError, match="took more than 1 s"):
        html_to_pdf(html, tmp_path / "a.pdf", timeout=1)
    assert time.monotonic() - started < 10
    assert stopped(pidfile)


def alive(stat: Path) -> bool:
    try:
        return stat.read_text().split(") ", 1)[1][0] != "Z"  # a zombie is dead, awaiting reaping
    except (FileNotFoundError, ProcessLookupError):
        return False


def stopped(pidfile: Path) -> bool:
    """Whether the process whose pid the fake browser wrote is gone within 5 s."""
    helper = Path("/proc") / pidfile.read_text().strip() / "stat"
    deadline = time.monotonic() + 5
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not alive(helper)


def test_missing_html_and_empty_list(tmp_path):
    with pytest.raises(HailongError, match="not found"):
        html_to_pdf(tmp_path / "nope.html", tmp_path / "a.pdf")
    with pytest.raises(HailongError, match="nothing to print"):
        html_to_pdf([], tmp_path / "a.pdf")


def test_merge_and_split_keep_page_order(tmp_path):
    first = page(tmp_path, "a.pdf", [500, 501])
    second = page(tmp_path, "b.pdf", [502])
    merged = merge_pdfs([first, second], tmp_path / "all" / "merged.pdf")
    assert widths(merged) == [500, 501, 502] and page_count(merged) == 3
    assert os.stat(merged).st_mode & 0o044 == 0o044
    targets = [tmp_path / "one" / f"{code}.pdf" for code in ("X01", "X02", "X03")]
    split_pdf(merged, targets)
    assert [widths(t) for t in targets] == [[500], [501], [502]]
    with pytest.raises(HailongError, match="has 3 pages, expected 2"):
        split_pdf(merged, targets[:2])


def test_a_pdf_with_an_update_section_splits_and_merges(tmp_path):
    """An incrementally updated file (a second cross-reference section), as editors save them."""
    updated = tmp_path / "updated.pdf"
    data = page(tmp_path, "p.pdf", [500, 501]).read_bytes()
    xref = int(data.rsplit(b"startxref", 1)[1].split()[0])
    trailer = data.rsplit(b"trailer", 1)[1].split(b">>", 1)[0]
    root, size = (re.search(key + rb"\s+(\d+)", trailer).group(1) for key in (rb"/Root", rb"/Size"))
    updated.write_bytes(data + b"xref\n0 1\n0000000000 65535 f \ntrailer\n<</Size %s /Root %s 0 R"
                        b" /Prev %d>>\nstartxref\n%d\n%%%%EOF\n" % (size, root, xref, len(data)))
    targets = [tmp_path / "u1.pdf", tmp_path / "u2.pdf"]
    split_pdf(updated, targets)
    assert [widths(t) for t in targets] == [[500], [501]]
    assert widths(merge_pdfs([updated, targets[1]], tmp_path / "m.pdf")) == [500, 501, 501]


def test_split_and_merged_pages_render_with_their_own_content(tmp_path):
    """Pages with text in a font: every split file and the merged file render (pdftoppm) to
    the page's size and carry their own page's text (pdftotext)."""
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("poppler-utils is installed by .ci/run")
        pytest.skip("needs poppler-utils")
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica")})
    for i, width in enumerate((300, 400, 500)):
        sheet = writer.add_blank_page(width=width, height=200)
        content = DecodedStreamObject()
        content.set_data(b"BT /F1 24 Tf 20 100 Td (Trang %d) Tj ET" % (i + 1))
        sheet.replace_contents(content)
        sheet[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): font})})
    source = tmp_path / "three.pdf"
    with open(source, "wb") as fh:
        writer.write(fh)
    targets = [tmp_path / "one" / f"{i}.pdf" for i in range(3)]
    split_pdf(source, targets)
    merged = merge_pdfs([targets[2], source, targets[0]], tmp_path / "merged.pdf")
    assert page_count(merged) == 5 and [page_count(t) for t in targets] == [1, 1, 1]
    expected = [(500, 3), (300, 1), (400, 2), (500, 3), (300, 1)]
    for number, (width, text) in enumerate(expected, start=1):
        for pdf, at in ((merged, number), (targets[text - 1], 1)):
            shot = tmp_path / f"{pdf.stem}-{at}"
            subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", "-f", str(at), "-l",
                            str(at), str(pdf), str(shot)], check=True)
            with Image.open(shot.with_suffix(".png")) as image:
                assert image.size == (width, 200)
                assert image.convert("L").getextrema()[0] < 128  # the text is drawn
            words = subprocess.run(["pdftotext", "-f", str(at), "-l", str(at), str(pdf), "-"],
                                   capture_output=True, text=True, check=True).stdout
            assert words.split() == ["Trang", str(text)]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(300, 900), min_size=1, max_size=6), min_size=1, max_size=5))
def test_split_then_merge_gives_every_page_back_in_order(tmp_path_factory, files):
    folder = tmp_path_factory.mktemp("pdfs")
    parts = [page(folder, f"{i}.pdf", sizes) for i, sizes in enumerate(files)]
    pages = [folder / f"page-{i}.pdf" for i in range(sum(map(len, files)))]
    merged = merge_pdfs(parts, folder / "all.pdf")
    split_pdf(merged, pages)
    assert [w for p in pages for w in widths(p)] == [w for sizes in files for w in sizes]
    assert widths(merge_pdfs(pages, folder / "again.pdf")) == widths(merged)


# -- the kept-open browser (hailong.collect.printer), with fake browsers --------------------------

def test_a_printer_whose_browser_fails_is_one_line_with_its_message(tmp_path, monkeypatch):
    from hailong.collect.printer import Printer

    fake_chromium(tmp_path, monkeypatch,
                  'echo "[1:1:ERROR:dbus/bus.cc] Failed to connect to the bus" >&2\n'
                  'echo "ERROR: cannot open display" >&2\nexit 3')
    with pytest.raises(HailongError) as info:
        Printer()
    message = str(info.value)
    assert "\n" not in message and "exit 3" in message and "cannot open display" in message


def test_a_hanging_printer_is_stopped_with_its_helpers(tmp_path, monkeypatch):
    from hailong.collect.printer import Printer

    pidfile = tmp_path / "helper.pid"
    fake_chromium(tmp_path, monkeypatch, f"sleep 30 &\necho $! > {pidfile}\nwait")
    started = time.monotonic()
    with pytest.raises(HailongError, match="took more than 1 s"):
        Printer(timeout=1)
    assert time.monotonic() - started < 10
    assert stopped(pidfile)
