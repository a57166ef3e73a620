"""hailong.collect.pdf without a browser: Chromium's failures become one clear line; PDFs merge and
split page for page. (Printing with the real Chromium is tested in test_posters.py.)"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
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
    helper = Path("/proc") / pidfile.read_text().strip() / "stat"
    deadline = time.monotonic() + 5
    while alive(helper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(helper)


def alive(stat: Path) -> bool:
    try:
        return stat.read_text().split(") ", 1)[1][0] != "Z"  # a zombie is dead, awaiting reaping
    except (FileNotFoundError, ProcessLookupError):
        return False


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
