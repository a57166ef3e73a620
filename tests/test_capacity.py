"""`hailong capacity`: the arithmetic on hand-worked examples, and the command."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import SMALL_TOML, write_survey

from hailong.cli import cli
from hailong.collect import capacity as cap
from hailong.survey.load import load_survey


def test_a_million_answers_in_a_month():
    # 15 columns: 8,000,000 / 15 = 533,333 rows, less the header: 533,332 per spreadsheet,
    # so 1,000,000 answers need 2; the peak hour: 1,000,000 / 30 × 0.2 / 3600 = 1.85 a second,
    # a web app takes min(30 / 2.0, 1 / 0.5) = 2 a second, planned at half: 1 → 2 web apps
    c = cap.plan(columns=15, answers=1_000_000, days=30, peak_share=0.2)
    assert (c.rows_per_spreadsheet, c.spreadsheets_for_cells) == (533_332, 2)
    assert c.peak_per_second == pytest.approx(1.851852, rel=1e-6)
    assert (c.per_app_limit, c.apps_for_peak, c.needed) == (2.0, 2, 2)
    assert c.peak_each == pytest.approx(0.925926, rel=1e-6)


def test_ten_million_answers_in_a_year_are_bound_by_cells():
    # 26 columns: floor(8,000,000 / 26) − 1 = 307,691 rows; 10,000,000 / 307,691 = 32.5 → 33;
    # peak 10,000,000 / 365 × 0.25 / 3600 = 1.90 a second → 2 web apps; cells decide: 33
    c = cap.plan(columns=26, answers=10_000_000, days=365, peak_share=0.25)
    assert (c.rows_per_spreadsheet, c.spreadsheets_for_cells, c.apps_for_peak) == (307_691, 33, 2)
    assert c.needed == 33
    assert c.peak_each == pytest.approx(10_000_000 / 365 * 0.25 / 3600 / 33)


def test_a_short_busy_survey_is_bound_by_the_peak():
    # 100,000 answers in one day, half of them in one hour: 13.9 a second, at 1 a second
    # planned per web app → 14 web apps,
    # though one spreadsheet would hold every cell
    c = cap.plan(columns=15, answers=100_000, days=1, peak_share=0.5)
    assert c.spreadsheets_for_cells == 1
    assert c.peak_per_second == pytest.approx(13.888889, rel=1e-6)
    assert (c.apps_for_peak, c.needed) == (14, 14)


def test_exactly_full_spreadsheets_need_no_extra_one():
    c = cap.plan(columns=15, answers=2 * 533_332, days=30)
    assert c.spreadsheets_for_cells == 2
    assert cap.plan(columns=15, answers=2 * 533_332 + 1, days=30).spreadsheets_for_cells == 3


def test_command_reports_in_vietnamese(tmp_path, vietnamese):
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML)
    assert len(load_survey(folder).response_columns) == 18  # with channel, entered_by, entry (v3)
    result = CliRunner().invoke(cli, ["capacity", str(folder), "--answers", "1000000", "--days", "30"])
    assert result.exit_code == 0, result.output
    # 8,000,000 usable cells / 18 columns = 444,443 answers a spreadsheet (one header row)
    assert "444.443 phiếu mỗi bảng tính → cần 3 bảng tính" in result.output
    assert "Giờ cao điểm: 1,85 phiếu/giây" in result.output
    assert "Cần 3 bảng tính" in result.output and "0,62 phiếu/giây" in result.output


@pytest.mark.parametrize("args", [["--answers", "0", "--days", "3"],
                                  ["--answers", "10", "--days", "3", "--peak-share", "1.5"]])
def test_command_refuses_impossible_figures(tmp_path, args):
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML)
    result = CliRunner().invoke(cli, ["capacity", str(folder), *args])
    assert result.exit_code != 0
