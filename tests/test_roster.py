"""roster.csv loading, completion per unit and district, and the follow-up list."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SMALL_TOML, write_survey

from hailong.errors import HailongError
from hailong.survey import roster
from hailong.survey.load import load_survey
from hailong.survey.tokens import sign

TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
ROSTER = """\
id,name,unit_code,tax_code,district,contact
H1,HTX Nông nghiệp Tiên Điền,X01,3000111111,Nghi Xuân,0912 000 001
H2,HTX Dịch vụ Xuân An,x02,3000222222,Nghi Xuân,0912 000 002
H3,HTX Thủy sản Cương Gián,X02,,Can Lộc,
H4,HTX Bình An,X01,,Can Lộc,ông Nam 0912 000 004
"""


def _survey(tmp_path, text=ROSTER):
    return load_survey(write_survey(tmp_path / "s", toml=TOML, roster_csv=text))


def test_load_roster(tmp_path):
    members = roster.load_roster(_survey(tmp_path))
    assert [m.id for m in members] == ["H1", "H2", "H3", "H4"]
    assert members[1].unit_code == "X02"  # matched case-insensitively, stored as in units.csv
    assert members[0].contact == "0912 000 001" and members[2].tax_code == ""


@pytest.mark.parametrize(("text", "message"), [
    ("id,name,unit_code\nH1,A,X01\nH1,B,X02\n", r"roster.csv row 3, column 'id'.*duplicate id 'H1'.*row 2"),
    ("id,name,unit_code\nH1,A,X09\n", r"roster.csv row 2, column 'unit_code'.*'X09'"),
    ("id,name,unit_code\n,A,X01\n", r"roster.csv row 2, column 'id'.*empty"),
    ("id,name,unit_code\nH/1,A,X01\n", r"row 2, column 'id'.*letters"),
    ("id,name,unit_code\nH1,,X01\n", r"row 2, column 'name'"),
    ("id,name\nH1,A\n", r"roster.csv row 1: missing column.*unit_code"),
    ("id,name,unit_code\n", r"roster.csv: no rows"),
])
def test_roster_errors(tmp_path, text, message):
    with pytest.raises(HailongError, match=message):
        roster.load_roster(_survey(tmp_path, text))


def test_missing_roster(tmp_path):
    s = load_survey(write_survey(tmp_path / "s", toml=TOML))
    with pytest.raises(HailongError, match="roster.csv is missing"):
        roster.load_roster(s)


def test_answered_completion_and_pending(tmp_path):
    s = _survey(tmp_path)
    members = roster.load_roster(s)
    key = b"k"
    accepted = pd.DataFrame({"respondent_key": [sign(s.id, "H1", key), sign(s.id, "H3", key),
                                                 sign(s.id, "ZZ", key), "", None]})
    done = roster.answered_ids(members, accepted)
    assert done == {"H1", "H3"}  # ZZ is not on the roster
    c = roster.completion(members, done)
    rows = [tuple(r) for r in c.itertuples(index=False)]
    assert rows == [
        ("X01", "Can Lộc", 1, 0, "0.00"),
        ("X01", "Nghi Xuân", 1, 1, "100.00"),
        ("X02", "Can Lộc", 1, 1, "100.00"),
        ("X02", "Nghi Xuân", 1, 0, "0.00"),
        ("X01", "total", 2, 1, "50.00"),
        ("X02", "total", 2, 1, "50.00"),
        ("total", "Can Lộc", 2, 1, "50.00"),
        ("total", "Nghi Xuân", 2, 1, "50.00"),
        ("total", "total", 4, 2, "50.00"),
    ]
    pending = roster.not_answered(members, done)
    assert pending["id"].tolist() == ["H4", "H2"]
    assert pending.loc[0, "contact"] == "ông Nam 0912 000 004"


def test_percent_rounding():
    assert roster.percent(1, 3) == "33.33"
    assert roster.percent(2, 3) == "66.67"
    assert roster.percent(1, 8) == "12.50"
    assert roster.percent(0, 0) == ""
