"""Signing and checking tickets (hailong.survey.tickets): every rule of contract section 6."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.survey import tickets

KEY = b"k" * 32
DAY = dt.date(2024, 6, 12)


def ticket(unit="X01", day=DAY, serial=1, survey="thu-nghiem", key=KEY):
    return tickets.sign(survey, unit, day, serial, key)


def check(text, unit="X01", used=DAY, survey="thu-nghiem", key=KEY):
    return tickets.check(survey, unit, text, used, key)


def test_shape_twelve_unconfusable_characters():
    t = ticket()
    assert len(t) == 12 and set(t) <= set(tickets.ALPHABET)
    assert not set("ILOU") & set(tickets.ALPHABET)
    assert tickets.SIG_CHARS * 5 >= 40
    assert tickets.display(t) == f"{t[:4]}-{t[4:8]}-{t[8:]}"


def test_valid_ticket_gives_its_date_and_serial():
    got = check(ticket(serial=37))
    assert (got.ok, got.date, got.serial) == (True, DAY, 37)
    # used on a later day of the window: still its own date
    later = check(ticket(serial=37), used=DAY + dt.timedelta(days=2))
    assert (later.ok, later.date) == (True, DAY)


def test_typed_in_lower_case_with_spaces_and_dashes():
    t = ticket()
    typed = " " + t[:4].lower() + " " + t[4:8].lower() + "-" + t[8:] + " "
    assert check(typed).ok
    assert check(tickets.display(t)).ok


def test_confusable_letters_typed_for_digits():
    t = ticket(serial=1)  # serial 1 puts a '1' (and the day number a digit) in clear
    typed = t.replace("0", "O").replace("1", "l")
    assert check(typed).ok


def test_forged_signature():
    t = ticket()
    last = tickets.ALPHABET[(tickets.ALPHABET.index(t[-1]) + 1) % 32]
    assert check(t[:-1] + last) == tickets.Checked(False, "signature")
    assert not check("0000" + "A" * 8).ok


def test_truncated_or_padded():
    t = ticket()
    assert check(t[:-1]).why == "shape"
    assert check(t + "A").why == "shape"
    assert check("").why == "missing"
    assert check("   ").why == "missing"
    assert check(None).why == "missing"
    assert check("ABCD-EFGH-JKM!").why == "shape"


def test_other_unit_other_survey_other_key():
    t = ticket(unit="X01")
    assert check(t, unit="X02").why == "signature"
    assert check(t, survey="khac").why == "signature"
    assert check(t, key=b"j" * 32).why == "signature"


def test_unit_code_case_does_not_matter():
    assert check(ticket(unit="x01"), unit="X01").ok


def test_other_day_and_used_before_its_date():
    t = ticket(day=DAY)
    # the same serial of another day is another ticket
    assert ticket(day=DAY + dt.timedelta(days=1)) != t
    # used the day before it was issued
    early = check(t, used=DAY - dt.timedelta(days=1))
    assert (early.ok, early.why, early.date) == (False, "early", DAY)
    # a ticket of tomorrow checked today is not valid either
    assert check(ticket(day=DAY + dt.timedelta(days=1))).why == "early"


def test_a_ticket_lasts_127_days():
    t = ticket()
    assert check(t, used=DAY + dt.timedelta(days=tickets.DAYS - 1)).ok
    assert not check(t, used=DAY + dt.timedelta(days=tickets.DAYS)).ok


def test_serial_range():
    assert check(ticket(serial=tickets.MAX_SERIAL)).serial == tickets.MAX_SERIAL
    for bad in (0, tickets.MAX_SERIAL + 1):
        with pytest.raises(HailongError):
            ticket(serial=bad)


def test_issue_date_read_back_without_key():
    t = ticket(day=DAY)
    assert tickets.issue_date(t, DAY + dt.timedelta(days=5)) == DAY
    assert tickets.issue_date("nope", DAY) is None


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)),
       st.integers(1, tickets.MAX_SERIAL), st.integers(0, tickets.DAYS - 1),
       st.sampled_from(["X01", "a-b_c", "Ủy ban"]))
def test_round_trip_and_uniqueness(day, serial, later, unit):
    t = tickets.sign("s", unit, day, serial, KEY)
    got = tickets.check("s", unit, t.lower(), day + dt.timedelta(days=later), KEY)
    assert (got.ok, got.date, got.serial) == (True, day, serial)
    if serial > 1:
        assert tickets.sign("s", unit, day, serial - 1, KEY) != t
