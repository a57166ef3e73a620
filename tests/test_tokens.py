"""Signed roster tokens: valid, forged, replayed, other-survey, missing."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SMALL_TOML, STRONG_KEY, write_survey
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.survey import roster, tokens

KEY = STRONG_KEY.encode()
ROSTER = "id,name,unit_code\nHTX1,HTX Tiên Điền,X01\nHTX2,HTX Xuân An,X02\n"


@pytest.fixture
def roster_survey(tmp_path):
    from hailong.survey.load import load_survey

    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
    return load_survey(write_survey(tmp_path / "s", toml=toml, roster_csv=ROSTER))


def test_token_shape_and_roster_id():
    token = tokens.sign("thu-nghiem", "HTX1", KEY)
    rid, sig = token.rsplit(".", 1)
    assert rid == "HTX1"
    assert len(sig) == 22 and all(c.isalnum() or c in "-_" for c in sig)
    assert tokens.roster_id_of(token) == "HTX1"
    assert tokens.roster_id_of("no-dot") is None
    assert tokens.roster_id_of("HTX1.short") is None


def test_dotted_roster_id_round_trips():
    token = tokens.sign("s", "3000.12", KEY)
    assert tokens.roster_id_of(token) == "3000.12"
    assert tokens.verify("s", token, KEY)


def test_sign_is_deterministic_and_key_dependent():
    assert tokens.sign("s", "A", KEY) == tokens.sign("s", "A", KEY)
    assert tokens.sign("s", "A", KEY) != tokens.sign("s", "A", b"other key")
    assert tokens.sign("s", "A", KEY) != tokens.sign("s2", "A", KEY)


def test_check_keys_each_case(roster_survey, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", STRONG_KEY)
    good = tokens.sign("thu-nghiem", "HTX1", KEY)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    other_survey = tokens.sign("other-survey", "HTX1", KEY)
    other_key = tokens.sign("thu-nghiem", "HTX2", b"stolen")
    not_on_roster = tokens.sign("thu-nghiem", "HTX9", KEY)
    swapped = "HTX2." + good.split(".")[1]  # signature of HTX1 under HTX2's id
    keys = pd.Series([good, good, forged, other_survey, other_key, not_on_roster, swapped, "",
                      None, float("nan"), " " + good + " "], index=range(10, 21))
    result = roster.check_keys(roster_survey, keys)
    assert list(result.index) == list(range(10, 21))
    # the replayed token (second copy) still verifies: dedupe's respondent rule handles it
    assert result.tolist() == [True, True, False, False, False, False, False, False, False,
                               False, True]
    assert result.dtype == bool


def test_check_keys_needs_the_key(roster_survey, monkeypatch):
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    with pytest.raises(HailongError, match="set HAILONG_SIGNING_KEY"):
        roster.check_keys(roster_survey, pd.Series(["x"]))


def test_signing_key_blank_is_refused(monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", "   ")
    with pytest.raises(HailongError, match="HAILONG_SIGNING_KEY"):
        tokens.signing_key()


@given(st.text(alphabet="ABCXYZ0123456789_-.", min_size=1, max_size=20),
       st.integers(min_value=0, max_value=21), st.sampled_from("AQgw-_09"))
def test_any_single_character_change_fails(rid, pos, ch):
    token = tokens.sign("s", rid, KEY)
    sig_start = len(token) - 22
    i = sig_start + pos
    if token[i] == ch:
        return
    tampered = token[:i] + ch + token[i + 1:]
    assert tokens.verify("s", token, KEY)
    assert not tokens.verify("s", tampered, KEY)


def test_scoring_quarantines_bad_tokens_and_dedupes_replays(roster_survey, tmp_path, monkeypatch):
    """Through the real score stage: forged, other-survey and missing tokens are quarantined as
    `invalid token`; a replayed token (a second answer of one cooperative) is a respondent
    duplicate."""
    from hailong.score.pipeline import score

    monkeypatch.setenv("HAILONG_SIGNING_KEY", STRONG_KEY)
    good = tokens.sign("thu-nghiem", "HTX1", KEY)
    rows = [
        ("a", "X01", good, "d1"),
        ("b", "X01", good, "d2"),                                   # replay by the same member
        ("c", "X01", good[:-1] + ("x" if good[-1] != "x" else "y"), "d3"),  # forged
        ("d", "X02", tokens.sign("khac", "HTX2", KEY), "d4"),       # other survey
        ("e", "X02", "", "d5"),                                     # missing
    ]
    header = "submitted_at,response_id,survey_id,unit_code,respondent_type,respondent_key,device_id,q3\n"
    body = "".join(f"2024-06-12T09:0{i}:00+07:00,{r},thu-nghiem,{u},organization,{k},{d},4\n"
                   for i, (r, u, k, d) in enumerate(rows))
    source = tmp_path / "responses-in.csv"
    source.write_text(header + body, encoding="utf-8")
    summary = score(roster_survey, tmp_path / "out", responses=source)
    # 3 of 5 rows fail: the summary asks whether the signing key is the letters' key
    assert "3 of 5 rows have an invalid personal link" in summary
    data = tmp_path / "out" / "thu-nghiem" / "data"
    accepted = pd.read_csv(data / "responses.csv", dtype=str)
    quarantine = pd.read_csv(data / "quarantine.csv", dtype=str)
    duplicates = pd.read_csv(data / "duplicates.csv", dtype=str)
    assert accepted["response_id"].tolist() == ["a"]  # dedupe.keep = "first" by default
    assert dict(zip(quarantine.response_id, quarantine.reason, strict=True)) == {
        "c": "invalid token", "d": "invalid token", "e": "invalid token"}
    assert duplicates[["response_id", "rule", "kept_response_id"]].values.tolist() == [
        ["b", "respondent", "a"]]
    completion = pd.read_csv(data / "completion.csv", dtype=str, keep_default_na=False)
    total = completion[(completion.unit_code == "total") & (completion.district == "total")]
    assert total[["eligible", "answered", "percent"]].values.tolist() == [["2", "1", "50.00"]]


def test_check_keys_with_units_rejects_another_units_page(roster_survey, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", STRONG_KEY)
    t1 = tokens.sign("thu-nghiem", "HTX1", KEY)  # HTX1 rates X01
    keys = pd.Series([t1, t1, t1, t1], index=[3, 4, 5, 6])
    units = pd.Series(["X01", " x01", "X02", "ZZ"], index=[3, 4, 5, 6])
    assert roster.check_keys(roster_survey, keys, units=units).tolist() == [True, True, False, False]
    assert roster.check_keys(roster_survey, keys).tolist() == [True] * 4


def test_signing_key_too_short_is_refused(monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", "k")
    with pytest.raises(HailongError, match="too short"):
        tokens.signing_key()


@pytest.mark.parametrize("weak", ["k" * 32, "aaaaaaaaaaaaaaaaaaaa", "abcdefghijklmnopqrstuvwxyz012345",
                                  "hatinh2024hatinh2024hatinh2024",
                                  "bench-key-bench-key-bench-key-0123"])
def test_a_key_of_repeats_or_steps_is_refused_with_how_to_make_one(monkeypatch, weak):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", weak)
    with pytest.raises(HailongError) as err:
        tokens.signing_key()
    message = str(err.value)
    assert "\n" not in message and "too easy to guess" in message
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message


def test_a_random_key_is_accepted(strong_key):
    assert tokens.signing_key() == strong_key.encode()


def test_a_weak_key_still_checks_what_it_signed(monkeypatch):
    """Slips and letters already handed out under a weak key keep counting: only making new
    ones is refused (a new key would void them all)."""
    monkeypatch.setenv("HAILONG_SIGNING_KEY", "hatinh2024hatinh2024hatinh2024")
    assert tokens.signing_key(making=False) == b"hatinh2024hatinh2024hatinh2024"
    with pytest.raises(HailongError, match="too easy to guess"):
        tokens.signing_key()
