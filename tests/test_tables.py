"""Dates of the hand-edited tables (hailong.survey.tables.parse_date, contract v2)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.survey.tables import parse_date


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)))
def test_every_written_form_of_a_day_is_that_day(day):
    forms = [day.isoformat(), day.strftime("%d/%m/%Y"), f"{day.day}/{day.month}/{day.year:04d}",
             f" {day.day:02d}/{day.month}/{day.year:04d} "]
    assert {parse_date(f) for f in forms} == {day}


@pytest.mark.parametrize("text", ["", "12-06-2024", "2024/06/12", "31/02/2024", "12/13/2024",
                                  "12/06/24", "20240612", "2024-W24-3", "hôm nay", "12/06/2024 08:00"])
def test_anything_else_is_not_a_date(text):
    assert parse_date(text) is None


def test_day_first_not_month_first():
    # Vietnamese settings: 03/04/2024 is 3 April, never 4 March
    assert parse_date("03/04/2024") == dt.date(2024, 4, 3)
