"""Shared fixtures: small survey folders written inline, in the tests' temporary folder."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from hypothesis import settings

# A test's speed is measured in bench/, not here: on CI's two shared cores a case that takes
# 2 ms can take 400 ms once, and hypothesis would call that a flaky failure.
settings.register_profile("hailong", deadline=None)
settings.load_profile("hailong")

SMALL_TOML = """\
id = "thu-nghiem"
title = "Khảo sát thử nghiệm"
year = 2024
respondent_types = ["individual", "organization"]

[window]
start = "2024-06-12"
end = "2024-06-14"

[[blocks]]
id = "tiep-can"
title = "Tiếp cận dịch vụ"

[[blocks]]
id = "ket-qua"
title = "Kết quả giải quyết"
weight = 2

[[questions]]
id = "q1"
block = "tiep-can"
text = "Nơi ngồi chờ có đủ chỗ ngồi không?"

[[questions]]
id = "q2"
block = "tiep-can"
text = "Trang thiết bị phục vụ có đầy đủ không?"

[[questions]]
id = "q3"
block = "ket-qua"
text = "Kết quả giải quyết có đúng quy định không?"
required = true

[[questions]]
id = "kenh"
block = "ket-qua"
text = "Ông/Bà biết đến dịch vụ qua kênh nào?"
type = "choice"
options = ["Loa phát thanh", "Người quen", "Khác"]

[[questions]]
id = "gop_y"
block = "ket-qua"
text = "Ý kiến khác"
type = "text"
"""

SMALL_UNITS = """\
code,name,parent,quota_individual,quota_organization
X01,Xã Tiên Điền,Nghi Xuân,15,10
X02,Xã Xuân An,Nghi Xuân,15,10
X03,Thị trấn Xuân Hải,Nghi Xuân,15,10
"""


# A signing key as `python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one:
# hailong refuses keys of repeats and steps ("k" * 32), so tests use this one (or the fixture).
STRONG_KEY = "u0Qh7Rk2-VbN9xWcE4tYpL1sZ_gA6mJd3fHq8oKiT5e"


@pytest.fixture
def strong_key(monkeypatch) -> str:
    """HAILONG_SIGNING_KEY set to STRONG_KEY for the test; the key's text."""
    monkeypatch.setenv("HAILONG_SIGNING_KEY", STRONG_KEY)
    return STRONG_KEY


def write_survey(folder: Path, toml: str = SMALL_TOML, units: str = SMALL_UNITS, **files: str) -> Path:
    """Write a survey folder; extra keyword arguments become files (roster_csv= -> roster.csv)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "survey.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    (folder / "units.csv").write_text(units, encoding="utf-8")
    for name, text in files.items():
        (folder / name.replace("_csv", ".csv").replace("_toml", ".toml")).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def english_messages(monkeypatch):
    """Tests read hailong's messages in English (HAILONG_LANG=en), as their assertions were
    written; tests/test_i18n.py checks the Vietnamese default and the catalog itself."""
    monkeypatch.setenv("HAILONG_LANG", "en")


@pytest.fixture
def vietnamese(english_messages, monkeypatch):
    """For a test that checks a message as staff read it: the default language, Vietnamese."""
    monkeypatch.delenv("HAILONG_LANG")


@pytest.fixture
def survey_dir(tmp_path: Path) -> Path:
    return write_survey(tmp_path / "thu-nghiem")


@pytest.fixture
def survey(survey_dir: Path):
    from hailong.survey.load import load_survey

    return load_survey(survey_dir)


def pytest_collection_modifyitems(config, items):
    """Tests that belong to one process model only are deselected in the other, so a run
    skips nothing: CI installs everything else the tests need."""
    windows_like = os.environ.get("HAILONG_WINDOWS_LIKE") == "1"
    drop = [i for i in items
            if (i.get_closest_marker("windows_like") and not windows_like)
            or (i.get_closest_marker("not_windows_like") and windows_like)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [i for i in items if i not in drop]


def edited_texts(edits) -> list[str]:
    """Each (form, [(position, character), …]) as its form with those characters put in
    (positions past the end left out): texts near a known form, for the date-time readers."""
    texts = []
    for form, changes in edits:
        chars = list(form)
        for at, char in changes:
            if at < len(chars):
                chars[at] = char
        texts.append("".join(chars))
    return texts
