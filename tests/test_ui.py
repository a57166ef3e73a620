"""Progress bars: drawn on a terminal, nothing at all anywhere else (cron keeps its summary)."""

from __future__ import annotations

import io
import sys

from click.testing import CliRunner
from conftest import write_survey

from hailong import ui
from hailong.cli import cli


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_when_not_a_terminal(capsys):
    with ui.steps("Chấm điểm", 3) as advance:
        for _ in range(3):
            advance()
    assert capsys.readouterr() == ("", "")


def test_a_bar_on_a_terminal(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    monkeypatch.delenv("HAILONG_NO_PROGRESS", raising=False)
    with ui.steps("Vẽ mã QR", 4) as advance:
        advance(4)
    assert "Vẽ mã QR" in screen.getvalue() and "4/4" in screen.getvalue()
    monkeypatch.setenv("HAILONG_NO_PROGRESS", "1")
    screen.seek(0)
    screen.truncate()
    with ui.steps("Vẽ mã QR", 4) as advance:
        advance(4)
    assert screen.getvalue() == ""


def test_score_in_cron_prints_its_summary_only(tmp_path):
    folder = write_survey(tmp_path / "s")
    raw = tmp_path / "raw.csv"
    raw.write_text("submitted_at,unit_code,q1,q2,q3\n2024-06-12T09:00:00+07:00,X01,5,4,4\n",
                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["score", str(folder), "--responses", str(raw),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("read 1 rows: 1 accepted")
    assert "Scoring" not in result.output and "Chấm điểm" not in result.output
