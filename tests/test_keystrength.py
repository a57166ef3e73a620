"""The signing key's estimated strength (hailong.survey.keystrength): repeats, steps and
repeated stretches cost next to nothing; random keys of 128 bits and more pass."""

from __future__ import annotations

import secrets

from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.survey.keystrength import MIN_BITS, strength_bits


def test_patterns_score_low():
    for weak in ("k" * 32, "a" * 16, "abcdefghijklmnop", "0123456789876543210",
                 "hatinh2024hatinh2024hatinh2024", "bench-key-bench-key-bench-key-0123",
                 "ABABABABABABABABABAB", "Password1Password1Password1"):
        assert strength_bits(weak) < MIN_BITS, weak


def test_random_keys_score_high():
    for _ in range(300):
        assert strength_bits(secrets.token_urlsafe(32)) >= 200
        assert strength_bits(secrets.token_hex(16)) >= MIN_BITS
        assert strength_bits(secrets.token_urlsafe(16)) >= MIN_BITS


def test_empty_and_very_long_keys():
    assert strength_bits("") == 0
    long_key = secrets.token_urlsafe(3000)
    assert strength_bits(long_key) > 1000  # judged by its head, quickly


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=8), st.integers(4, 12))
def test_repeating_a_short_text_adds_little(piece, times):
    once, many = strength_bits(piece), strength_bits(piece * times)
    assert many <= once + 16  # where it was and how long: a few bits, not its characters
