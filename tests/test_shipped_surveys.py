"""The survey folders shipped under surveys/: they load, read as correct Vietnamese, and their
optional files (transactions, visitors, rosters) are well-formed and say what the plans need."""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from hailong.survey.load import load_survey
from hailong.survey.roster import load_roster
from hailong.survey.tables import parse_bool, read_table

ROOT = Path(__file__).resolve().parent.parent
SURVEYS = ROOT / "surveys"
SHIPPED = ["sipas-xa-2019", "sipas-xa-2020", "sipas-xa-2020-mau", "pks02-2024", "pks02-2024-ve", "htx-2022", "htx-2023",
           "sipas-ha-tinh-2026", "sipas-toan-quoc-2026"]
NATIONAL = "sipas-toan-quoc-2026"  # the one example collecting through a web app per province
ALLOWED_FILES = {"survey.toml", "units.csv", "roster.csv", "visitors.csv", "transactions.csv"}

TRANSACTION_COLUMNS = ["id", "unit_code", "respondent_type", "name", "address", "field",
                       "received_result", "channel", "province", "date"]
VISITOR_COLUMNS = ["unit_code", "date", "visitors"]
ROSTER_COLUMNS = ["id", "name", "unit_code", "tax_code", "district", "contact"]


def _vietnamese_letters() -> set[str]:
    """Every precomposed letter of the Vietnamese alphabet, both cases."""
    vowels = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    letters = {unicodedata.normalize("NFC", v + t) for v in vowels for t in tones}
    letters |= set("bcdđghklmnpqrstvx") | set("fjwz")  # f j w z: loanwords, codes
    return letters | {c.upper() for c in letters}


VIETNAMESE = _vietnamese_letters()
DIACRITIC = {c for c in VIETNAMESE if not c.isascii()}
PUNCTUATION = set(" ,.;:?!()-–…/\"'%0123456789’")  # ’: official names such as Ea H’leo


def survey(name: str):
    return load_survey(SURVEYS / name)


def texts_of(s) -> list[str]:
    """Every text a citizen, official or reader of the results sees."""
    out = [s.title, s.intro, s.organizer, s.scoring.unranked_label, *s.scale.labels]
    out += [b.label for b in s.bands]
    out += [b.title for b in s.blocks]
    for q in s.questions:
        out += [q.text, *q.options] + ([q.help] if q.help else [])
    out += [u.name for u in s.units] + [u.parent for u in s.units if u.parent]
    return out


def load_generator():
    spec = importlib.util.spec_from_file_location("make_shipped_data", ROOT / "tests" / "make_shipped_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- every folder ------------------------------------------------------------------------------
def test_the_shipped_folders_are_the_expected_ones():
    assert sorted(p.name for p in SURVEYS.iterdir() if p.is_dir()) == sorted(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_folder_loads_and_holds_only_contract_files(name):
    s = survey(name)
    assert s.id == name
    assert {p.name for p in (SURVEYS / name).iterdir()} <= ALLOWED_FILES
    # runs out of the box; a district switches to apps_script (the national example starts there)
    assert s.collector.kind == ("apps_script" if name == NATIONAL else "local")
    assert all(q.id != "comment" for q in s.questions)
    assert s.scale_questions


@pytest.mark.parametrize("name", SHIPPED)
def test_files_are_nfc_utf8_without_mojibake(name):
    for path in (SURVEYS / name).iterdir():
        text = path.read_bytes().decode("utf-8")
        # a file hailong wrote (units.csv from `hailong new`) starts with a BOM, as every CSV
        # hailong writes; none has one anywhere else
        text = text.removeprefix("\ufeff")
        assert unicodedata.is_normalized("NFC", text), path
        assert "\r" not in text and "\ufeff" not in text, path
        for bad in ("Ã", "Æ", "Ä‘", "\ufffd"):  # UTF-8 read as Latin-1 / Windows-1252
            assert bad not in text, (path, bad)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_text_is_vietnamese_with_diacritics(name):
    s = survey(name)
    # the national example's names come from the official register, some without a diacritic
    # (Gia Lai, Xã Ea Kar): only its own texts must have them
    official = {t for u in s.units for t in (u.name, u.parent)} if name == NATIONAL else set()
    for text in texts_of(s):
        assert text, "empty text"
        assert unicodedata.is_normalized("NFC", text), text
        odd = {c for c in text if c not in VIETNAMESE and c not in PUNCTUATION}
        assert not odd, f"{text!r} has characters outside the Vietnamese alphabet: {odd}"
        if any(c.isalpha() for c in text) and len(text.split()) > 1 and text not in official:
            assert DIACRITIC & set(text), f"{text!r} has no Vietnamese diacritics"
    for q in s.questions:
        # Questions short enough to read on a cheap phone without scrolling sideways.
        assert len(q.text) <= 160, q.text
    assert s.scale.labels == ["Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng",
                              "Rất hài lòng"]


@pytest.mark.parametrize("name", SHIPPED)
def test_one_form_of_address_and_no_pointing_below_the_unit(name):
    s = survey(name)
    for text in texts_of(s):
        forms = set(re.findall(r"(?i)\bông\s*/\s*bà\b|\bông bà\b", text))
        assert forms <= {"Ông/Bà"}, f"{text!r}: address the reader as Ông/Bà"
    # the intro is shown under the unit's name: it may not say the unit is "below"
    assert not re.search(r"dưới đây|bên dưới", s.intro), s.intro



# -- sipas-toan-quoc-2026 ----------------------------------------------------------------------
def test_national_example_is_every_commune_each_province_its_own_collector():
    from hailong.collect.capacity import plan

    s = survey(NATIONAL)
    provinces = {u.parent for u in s.units}
    assert (len(s.units), len(provinces)) == (3321, 34)  # since 1 July 2025
    assert {(u.quota_individual, u.quota_organization) for u in s.units} == {(15, 10)}
    by_province = {}
    for u in s.units:
        assert u.collector_url.startswith("https://script.google.com/macros/s/"), u
        by_province.setdefault(u.parent, set()).add(u.collector_url)
    # one web app per province, no two provinces sharing one; a spreadsheet id for each
    assert all(len(urls) == 1 for urls in by_province.values())
    assert len(set().union(*by_province.values())) == 34 == len(s.sheets.spreadsheet_ids)
    assert len(set(s.sheets.spreadsheet_ids)) == 34
    # a million answers over the window fit in what the folder provides, by `hailong capacity`
    need = plan(len(s.response_columns), 1_000_000, len(s.days()))
    assert need.needed <= 34, need

# -- sipas-xa-2020 -----------------------------------------------------------------------------
def test_sipas_units_quotas_and_plan():
    s = survey("sipas-xa-2020")
    assert len(s.units) == 17
    names = [u.name for u in s.units]
    assert names[:2] == ["Thị trấn Tiên Điền", "Thị trấn Xuân An"]
    assert all(n.startswith("Xã ") for n in names[2:])
    assert {u.parent for u in s.units} == {"Huyện Nghi Xuân"}
    assert all((u.quota_individual, u.quota_organization) == (15, 10) for u in s.units)
    assert s.respondent_types == ["individual", "organization"]
    assert s.start.year == s.end.year == 2020 and s.start <= s.end
    assert [b.title for b in s.blocks] == [
        "Tiếp cận dịch vụ hành chính công",
        "Thủ tục hành chính",
        "Công chức trực tiếp giải quyết công việc",
        "Kết quả cung ứng dịch vụ hành chính công",
        "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị",
    ]
    per_block = Counter(q.block for q in s.scale_questions)
    assert all(4 <= per_block[b.id] <= 5 for b in s.blocks), per_block
    assert s.sampling.province == "Hà Tĩnh"
    assert s.sampling.fields == ["Hộ tịch", "Đất đai - Môi trường", "Lao động - Thương binh và Xã hội"]
    assert (s.sampling.start, s.sampling.end) == (dt.date(2020, 1, 2), dt.date(2020, 8, 31))


def _transactions():
    s = survey("sipas-xa-2020")
    table = read_table(s.optional_file("transactions.csv"), TRANSACTION_COLUMNS)
    return s, table


def _reasons(s, row) -> list[str]:
    """Why a transaction may not be sampled, by the contract's eligibility rules."""
    reasons = []
    day = dt.date.fromisoformat(row["date"])
    if not s.sampling.start <= day <= s.sampling.end:
        reasons.append("out_of_period")
    if not parse_bool(row["received_result"]):
        reasons.append("not_received")
    if row["channel"] != "direct":
        reasons.append(row["channel"])
    if row["province"] != s.sampling.province:
        reasons.append("other_province")
    if row["field"] not in s.sampling.fields:
        reasons.append("other_field")
    return reasons


def test_transactions_are_well_formed():
    s, table = _transactions()
    assert table.columns == TRANSACTION_COLUMNS
    ids = [r["id"] for r in table]
    assert len(ids) == len(set(ids))
    codes = set(s.unit_codes)
    for row in table:
        assert row["unit_code"] in codes
        assert row["respondent_type"] in s.respondent_types
        assert row["channel"] in {"direct", "online", "postal"}
        assert parse_bool(row["received_result"]) is not None
        dt.date.fromisoformat(row["date"])
        assert row["name"] and row["address"] and row["field"] and row["province"]
        assert row["province"] in row["address"]
    per_unit = Counter(r["unit_code"] for r in table)
    assert set(per_unit) == codes and min(per_unit.values()) >= 30  # several dozen per unit


def test_transactions_hold_every_kind_of_ineligible_row():
    s, table = _transactions()
    kinds = Counter()
    for row in table:
        for reason in _reasons(s, row):
            kinds[reason, row["respondent_type"]] += 1
    for kind, rtype in itertools.product(
        ["out_of_period", "not_received", "online", "postal", "other_province", "other_field"],
        ["individual", "organization"],
    ):
        assert kinds[kind, rtype] >= 1, (kind, rtype)
    # Rows that fail for one reason only, so each exclusion rule can be seen on its own.
    single = Counter(tuple(r) for r in (_reasons(s, row) for row in table) if len(r) == 1)
    assert len(single) == 6


def test_transactions_let_every_unit_meet_its_total_quota():
    s, table = _transactions()
    eligible = Counter((r["unit_code"], r["respondent_type"]) for r in table if not _reasons(s, r))
    for u in s.units:
        ind, org = eligible[u.code, "individual"], eligible[u.code, "organization"]
        assert ind + org >= 1.5 * u.quota, u.code  # the quota and a reserve list
    # The plan's transfer rule is needed both ways in the shipped data.
    assert any(eligible[u.code, "organization"] < u.quota_organization for u in s.units)
    assert any(eligible[u.code, "individual"] < u.quota_individual for u in s.units)


# -- pks02-2024 --------------------------------------------------------------------------------
def test_pks02_units_window_and_access():
    s = survey("pks02-2024")
    assert len(s.units) == 25
    assert len({u.name for u in s.units}) == 25
    assert s.access == "open" and s.respondent_types == ["individual"]
    assert s.days() == [dt.date(2024, 6, 12), dt.date(2024, 6, 13), dt.date(2024, 6, 14)]
    assert any("Chủ tịch UBND xã" in q.text for q in s.questions)


def test_pks02_visitors_cover_every_unit_and_day():
    s = survey("pks02-2024")
    table = read_table(s.optional_file("visitors.csv"), VISITOR_COLUMNS)
    assert table.columns == VISITOR_COLUMNS
    seen = Counter((r["unit_code"], dt.date.fromisoformat(r["date"])) for r in table)
    assert set(seen) == set(itertools.product(s.unit_codes, s.days()))
    assert set(seen.values()) == {1}
    counts = [table.integer(r, "visitors") for r in table]
    assert min(counts) > 0
    busy = {r["unit_code"] for r in table if table.integer(r, "visitors") > s.participation.busy_visitors}
    assert 3 <= len(busy) < len(s.units)  # some busy offices, not all


def test_pks02_tickets_variant_is_pks02_with_tickets():
    """The same questions, units and visitors as pks02-2024; only the access differs."""
    open_, ve = survey("pks02-2024"), survey("pks02-2024-ve")
    assert ve.access == "tickets" and not ve.dedupe.by_device  # the ticket, not the phone, limits
    assert ve.series is None  # not an earlier or later period of pks02
    assert ve.questions == open_.questions and ve.blocks == open_.blocks and ve.units == open_.units
    assert (SURVEYS / "pks02-2024-ve" / "visitors.csv").read_bytes() == \
        (SURVEYS / "pks02-2024" / "visitors.csv").read_bytes()


# -- htx-2022, htx-2023 ------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["htx-2022", "htx-2023"])
def test_htx_roster(name):
    s = survey(name)
    assert s.access == "roster" and s.respondent_types == ["organization"]
    assert s.dedupe.keep == "last"
    table = read_table(s.optional_file("roster.csv"), ["id", "name", "unit_code"], ROSTER_COLUMNS[3:])
    assert table.columns == ROSTER_COLUMNS
    members = load_roster(s)
    assert len(members) >= 36
    assert len({m.name for m in members}) == len(members)
    assert all(m.name.startswith("Hợp tác xã ") for m in members)
    assert all(len(m.tax_code) == 10 and m.tax_code.isdigit() for m in members)
    assert all(m.district and m.contact for m in members)
    per_unit = Counter(m.unit_code for m in members)
    assert set(per_unit) == set(s.unit_codes)  # every authority is rated by someone


def test_htx_years_form_one_series():
    old, new = survey("htx-2022"), survey("htx-2023")
    assert old.series == new.series == "htx"
    assert (old.year, new.year) == (2022, 2023)
    assert old.unit_codes == new.unit_codes
    assert [(q.id, q.block, q.type) for q in old.questions] == [(q.id, q.block, q.type) for q in new.questions]
    assert old.end < new.start and old.start.year == 2022 and new.start.year == 2023
    assert (old.start.month, old.start.day) != (new.start.month, new.start.day)
    # A cooperative keeps its roster id from one year to the next; some join, some leave.
    before = {m.id: m for m in load_roster(old)}
    after = {m.id: m for m in load_roster(new)}
    both = before.keys() & after.keys()
    assert len(both) > 0.7 * len(after)
    assert before.keys() - after.keys() and after.keys() - before.keys()
    assert all((before[i].name, before[i].unit_code) == (after[i].name, after[i].unit_code) for i in both)


# -- the generated files are what the generator makes -------------------------------------------
def test_generated_files_match_their_generator():
    generator = load_generator()
    files = generator.generated()
    assert files == generator.generated()  # deterministic
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} differs from tests/make_shipped_data.py; rerun it"
        )
