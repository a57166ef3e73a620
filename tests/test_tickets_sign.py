"""Signing and checking tickets (hailong.survey.tickets): every rule of contract section 6 (v3:
14 characters, a 30-bit number beside a 40-bit signature, the issue day found by trying days)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.survey import tickets

KEY = b"Zq3vN8-xT1rWc0yLp6uKe9sJb4hGa7mD"  # a strong key, as `hailong tickets` requires
DAY = dt.date(2024, 6, 12)


def ticket(unit="X01", day=DAY, number=1, survey="thu-nghiem", key=KEY):
    return tickets.sign(survey, unit, day, number, key)


def check(text, unit="X01", used=DAY, survey="thu-nghiem", key=KEY, **window):
    return tickets.check(survey, unit, text, used, key, **window)


def test_shape_fourteen_unconfusable_characters():
    t = ticket()
    assert len(t) == 14 == tickets.LENGTH and set(t) <= set(tickets.ALPHABET)
    assert not set("ILOU") & set(tickets.ALPHABET)
    assert tickets.SIG_CHARS * 5 >= 40 and tickets.NUMBER_BITS >= 30
    assert tickets.display(t) == f"{t[:5]}-{t[5:9]}-{t[9:]}"


def test_valid_ticket_gives_its_date_and_number():
    got = check(ticket(number=37))
    assert (got.ok, got.date, got.number) == (True, DAY, 37)
    # used on a later day of the window: still its own date
    later = check(ticket(number=37), used=DAY + dt.timedelta(days=2))
    assert (later.ok, later.date) == (True, DAY)


def test_typed_in_lower_case_with_spaces_and_dashes():
    t = ticket()
    typed = " " + t[:4].lower() + " " + t[4:8].lower() + "-" + t[8:] + " "
    assert check(typed).ok
    assert check(tickets.display(t)).ok


def test_confusable_letters_typed_for_digits():
    t = ticket(number=1)  # number 1 writes 00000 1 in clear
    typed = t.replace("0", "O").replace("1", "l")
    assert check(typed).ok


def test_forged_signature():
    t = ticket()
    last = tickets.ALPHABET[(tickets.ALPHABET.index(t[-1]) + 1) % 32]
    assert check(t[:-1] + last) == tickets.Checked(False, "signature")
    assert not check("000000" + "A" * 8).ok


def test_truncated_or_padded():
    t = ticket()
    assert check(t[:-1]).why == "shape"
    assert check(t + "A").why == "shape"
    assert check(t[:12]).why == "shape"  # the 12 characters of a v1 ticket are not a ticket now
    assert check("").why == "missing"
    assert check("   ").why == "missing"
    assert check(None).why == "missing"
    assert check("ABCDE-FGHJ-KMN!").why == "shape"


def test_other_unit_other_survey_other_key():
    t = ticket(unit="X01")
    assert check(t, unit="X02").why == "signature"
    assert check(t, survey="khac").why == "signature"
    assert check(t, key=KEY[::-1]).why == "signature"


def test_unit_code_case_does_not_matter():
    assert check(ticket(unit="x01"), unit="X01").ok


def test_other_day_and_used_before_its_date():
    t = ticket(day=DAY)
    # the same number of another day is another ticket
    assert ticket(day=DAY + dt.timedelta(days=1)) != t
    # used the day before it was issued: early when the window reaches its day
    early = check(t, used=DAY - dt.timedelta(days=1), last=DAY + dt.timedelta(days=3))
    assert (early.ok, early.why, early.date) == (False, "early", DAY)
    # without a window to look ahead in, a ticket of tomorrow is simply not valid today
    assert check(ticket(day=DAY + dt.timedelta(days=1))).why == "signature"


def test_days_are_looked_for_inside_the_window_only():
    t = ticket(day=DAY)
    assert check(t, used=DAY + dt.timedelta(days=3), first=DAY).ok
    assert not check(t, used=DAY + dt.timedelta(days=3), first=DAY + dt.timedelta(days=1)).ok
    assert check(t, used=DAY + dt.timedelta(days=tickets.DAYS - 1)).ok
    assert not check(t, used=DAY + dt.timedelta(days=tickets.DAYS)).ok


def test_number_range():
    assert check(ticket(number=tickets.NUMBERS - 1)).number == tickets.NUMBERS - 1
    assert check(ticket(number=0)).number == 0
    for bad in (-1, tickets.NUMBERS):
        with pytest.raises(HailongError):
            ticket(number=bad)


def test_number_read_back_without_key():
    assert tickets.number_of(ticket(number=12345)) == 12345
    assert tickets.number_of("nope") is None


@given(st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31)),
       st.integers(0, tickets.NUMBERS - 1), st.integers(0, 20),
       st.sampled_from(["X01", "a-b_c", "Ủy ban"]))
def test_round_trip_and_uniqueness(day, number, later, unit):
    t = tickets.sign("s", unit, day, number, KEY)
    got = tickets.check("s", unit, t.lower(), day + dt.timedelta(days=later), KEY)
    assert (got.ok, got.date, got.number) == (True, day, number)
    assert tickets.sign("s", unit, day, (number + 1) % tickets.NUMBERS, KEY) != t
