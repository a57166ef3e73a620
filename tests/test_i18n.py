"""Vietnamese first, English on request (contract v2, section 3): every message id has a
Vietnamese translation in the catalog, the committed .mo is the compiled .po, and a command
speaks Vietnamese by default and English with HAILONG_LANG=en, one line on stderr on error."""

from __future__ import annotations

import os
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from hailong import i18n

REPO = Path(__file__).resolve().parent.parent
PO = REPO / "hailong" / "locale" / "vi" / "LC_MESSAGES" / "hailong.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]",
                        re.IGNORECASE)


def extracted() -> list[str]:
    """Every message id in hailong's code, as `make messages` extracts it with Babel."""
    ids = []
    for _file, _line, message, _comments, _context in extract_from_dir(
            REPO / "hailong", keywords=KEYWORDS, method_map=[("**.py", "python")]):
        ids.append(message)
    return ids


def catalog():
    with open(PO, "rb") as fh:
        return read_po(fh, locale="vi")


def fields(text: str) -> list[str]:
    return sorted(f[1] for f in string.Formatter().parse(text) if f[1] is not None)


def words(text: str) -> list[str]:
    """The words of a message a person reads: no {fields}, `commands`, paths or setting names."""
    text = re.sub(r"\{[^}]*\}|`[^`]*`|'[^']*'|\"[^\"]*\"|\S*[./_=\[\]<>:]\S*", " ", text)
    return re.findall(r"[A-Za-z]{3,}", text)


def test_every_message_has_a_vietnamese_translation():
    cat = catalog()
    missing, plain = [], []
    for message in extracted():
        msgid = message if isinstance(message, str) else message[0]
        entry = cat.get(msgid)
        translation = entry.string if entry is not None else ""
        if isinstance(translation, tuple):
            translation = translation[0]
        if not translation:
            missing.append(msgid)
        elif len(words(msgid)) >= 2 and not VIETNAMESE.search(translation):
            plain.append(msgid)  # sentences for people need their diacritics
    assert not missing, f"no Vietnamese for {len(missing)} message(s), run `make messages`: {missing[:5]}"
    assert not plain, f"Vietnamese without diacritics: {plain[:5]}"


def test_translations_keep_every_field():
    for entry in catalog():
        if not entry.id or not entry.string:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not any("{" in i for i in ids):
            continue
        wanted = set().union(*(fields(i) for i in ids))
        for s in strings:
            assert set(fields(s)) <= wanted and (len(ids) > 1 or set(fields(s)) == wanted), entry.id


def test_committed_mo_is_the_compiled_po():
    """gettext reads the .mo: one compiled from an older .po would show old texts."""
    def same(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    po = {same(m.id): same(m.string) for m in catalog() if m.id}
    with open(MO, "rb") as fh:
        mo = {same(m.id): same(m.string) for m in read_mo(fh) if m.id}
    assert mo == po, "run `make messages` (it compiles the .mo files)"


def test_language_from_the_environment(monkeypatch):
    message = "{path}: file not found"
    monkeypatch.delenv("HAILONG_LANG", raising=False)
    assert i18n.language() == "vi"
    assert i18n._(message, path="a.csv") == "a.csv: không tìm thấy tệp"
    for value, lang in (("en", "en"), ("en_US.UTF-8", "en"), ("vi-VN", "vi"), ("fr", "vi")):
        monkeypatch.setenv("HAILONG_LANG", value)
        assert i18n.language() == lang
    monkeypatch.setenv("HAILONG_LANG", "en")
    assert i18n._(message, path="a.csv") == "a.csv: file not found"


def test_quarantine_reasons_in_the_staff_language(monkeypatch, tmp_path):
    import pandas as pd
    from conftest import write_survey

    from hailong.score.validate import validate
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path / "s"))
    row = {"submitted_at": "hôm qua", "response_id": "r1", "unit_code": "X01", "q1": "9",
           "q3": "4"}
    frame = pd.DataFrame({k: pd.Series([v], dtype="str") for k, v in row.items()})
    monkeypatch.delenv("HAILONG_LANG")
    _, quarantine = validate(frame, survey)
    assert quarantine["reason"].tolist() == ["q1: câu trả lời '9' nằm ngoài 1..5 (0 hoặc để trống: "
                                             "không có ý kiến)"]
    assert quarantine["reason_code"].tolist() == ["bad_answer"]
    _, quarantine = validate(frame.assign(q1="4"), survey)
    assert quarantine["reason"].tolist() == ["submitted_at 'hôm qua' không phải là ngày giờ hợp lệ "
                                             "(dùng ISO 8601, ví dụ 2024-06-12T08:15:00+07:00)"]


def run(*args: str, lang: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HAILONG_LANG"}
    if lang is not None:
        env["HAILONG_LANG"] = lang
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True,
                          text=True, env=env, timeout=60, cwd=REPO)


@pytest.mark.parametrize("lang, error, usage", [
    (None, "hailong: lỗi: /không-có: không có thư mục khảo sát này",
     "hailong: lỗi: Thiếu tham số 'SURVEY_DIR'. (xem 'hailong score --help')"),
    ("en", "hailong: error: /không-có: no such survey folder",
     "hailong: error: Missing argument 'SURVEY_DIR'. (see 'hailong score --help')"),
])
def test_an_error_is_one_line_in_either_language(lang, error, usage):
    bad = run("score", "/không-có", lang=lang)
    assert bad.returncode == 1 and bad.stderr == error + "\n" and bad.stdout == ""
    missing = run("score", lang=lang)
    assert missing.returncode == 2 and missing.stderr == usage + "\n"


def test_help_is_vietnamese_by_default_and_english_on_request():
    vi = run("score", "--help", lang=None).stdout
    assert "Cách dùng: hailong score" in vi and "Kiểm tra, loại trùng lặp, tính điểm" in vi
    assert "Hiện hướng dẫn này và thoát." in vi and "Thư mục kết quả" in vi
    en = run("score", "--help", lang="en").stdout
    assert "Usage: hailong score" in en and "Validate, dedupe, score and rank" in en
    top = run("--help", lang=None).stdout
    assert "khảo sát sự hài lòng bằng mã QR" in top and "Lệnh" in top


def test_the_score_summary_in_vietnamese(tmp_path):
    from conftest import write_survey

    folder = write_survey(tmp_path / "s")
    answers = tmp_path / "a.csv"
    answers.write_text("submitted_at,unit_code,q1,q3\n2024-06-12T08:00:00+07:00,X01,5,4\n"
                       "2024-06-12T08:00:00+07:00,X99,5,4\n", encoding="utf-8")
    done = run("score", str(folder), "--responses", str(answers), "--out", str(tmp_path / "o"),
               lang=None)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Đã đọc 2 dòng: 1 hợp lệ, 1 bị loại, 0 trùng lặp; 3 đơn vị")
    assert "để biết các dòng bị loại và lý do" in done.stdout
    assert len(done.stdout.splitlines()) >= 2  # the summary, then where the rejected rows are


def test_the_collector_guide_has_a_vietnamese_version_in_step():
    """collector/README.vi.md follows README.md: the same sections and the same commands, so
    district IT reading either deploys the same way."""
    def parts(name: str):
        text = (REPO / "collector" / name).read_text("utf-8")
        blocks = re.findall(r"```[a-z]*\n(.*?)```", text, re.S)
        sections = re.findall(r"^## ", text, re.M)
        return [b for b in blocks if not b.startswith("citizen") and "điện thoại" not in b], sections

    en_blocks, en_sections = parts("README.md")
    vi_blocks, vi_sections = parts("README.vi.md")
    assert len(vi_sections) == len(en_sections)
    strip = re.compile(r"\s+#.*$", re.M)  # comments in code may be translated
    assert [strip.sub("", b) for b in vi_blocks] == [strip.sub("", b) for b in en_blocks]
    assert VIETNAMESE.search((REPO / "collector" / "README.vi.md").read_text("utf-8"))


def test_no_function_hides_the_gettext_underscore():
    """`for a, _ in …` inside a function of a module that imports `_` makes `_` local to the
    whole function: a message translated earlier in it then fails (UnboundLocalError)."""
    import ast

    hidden = []
    for path in (REPO / "hailong").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        if not any(isinstance(n, ast.ImportFrom) and n.module == "hailong.i18n"
                   and any(a.name == "_" for a in n.names) for n in ast.walk(tree)):
            continue
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            inner = {id(m) for n in ast.walk(fn)
                     if isinstance(n, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp)
                     for m in ast.walk(n)}
            hidden += [f"{path.name}:{n.lineno}" for n in ast.walk(fn)
                       if isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store)
                       and id(n) not in inner]
    assert hidden == []
