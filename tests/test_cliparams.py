"""What a Vietnamese user types on the command line: DD/MM/YYYY dates, 20.000 for twenty
thousand, 0,2; and click's own words in Vietnamese, with no English word left in them."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from hailong.cliparams import parse_day, parse_whole

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "hailong" / "locale" / "vi" / "LC_MESSAGES" / "hailong.po"
# names that stay as they are in Vietnamese text: products, formats, commands and the labels
# of English-only screens (Google Cloud console), the trade's units
KEEP = {"toml", "csv", "excel", "word", "notepad", "google", "apps", "script", "web", "app",
        "chromium", "chrome", "edge", "html", "css", "pdf", "svg", "png", "utf", "bom", "url",
        "https", "http", "zalo", "sheets", "sheet", "hailong", "json", "git", "rsync", "nginx",
        "github", "uuid", "cron", "exec", "dev", "api", "apis", "dpi", "windows", "macos",
        "linux", "python", "pip", "sudo", "apt", "install", "commit", "push", "symlink", "byte",
        "proxy", "iso", "readme", "cloud", "enable", "library", "services", "service",
        "accounts", "iam", "keys", "share", "viewer", "yyyy", "prog", "version", "choice",
        "values", "properties", "valueranges", "chia", "xem", "ssh", "pages", "sipas", "htx",
        "abcd"}  # abcd: the example of a weak key's step, as typed


def hailong_names() -> set[str]:
    """The words that are hailong's own names: commands, settings, values, columns."""
    from hailong.cli import cli
    from hailong.survey import config

    names = set(cli.commands) | {"true", "false", "first", "last", "scale", "choice", "text",
                                 "open", "roster", "tickets", "sample", "local", "apps_script",
                                 "git", "folder", "code", "name", "parent", "signal", "comment",
                                 "ticket", "dest", "type", "kind", "options", "keep", "min"}
    for section, keys in config.SECTIONS.items():
        names |= {section, *keys}
    names |= {*config.BLOCK_KEYS, *config.QUESTION_KEYS, *config.RESPONDENT_TYPES, *config.SIGNALS}
    from hailong.publish.deploy.settings import KINDS  # hailong.toml: [deploy.<name>] keys

    names |= {key for schema in KINDS.values() for key in schema} | {"public", "staff"}
    # response columns and their values (contract section 2), sample --reason values
    names |= {"channel", "online", "paper", "assisted", "entered_by", "entry",
              "refused", "unreachable", "ineligible"}
    return {n.lower() for n in names}


def english_words(msgid: str, msgstr: str) -> list[str]:
    """Words of the English source that come back, ASCII-only, in the Vietnamese text a person
    reads (setting names, commands, paths, {fields} and quoted values do not count)."""
    def plain(text: str) -> set[str]:
        text = re.sub(r"\{[^}]*\}|`[^`]*`|'[^']*'|\"[^\"]*\"|“[^”]*”|\[[^\]]*\]|"
                      r"\S*[./_=<>:@\\-]\S*|--\S+", " ", text)
        return {w.lower() for w in re.findall(r"(?<![\w])[A-Za-z]{3,}(?![\w])", text)}
    return sorted((plain(msgid) & plain(msgstr)) - KEEP - hailong_names())


def test_no_english_word_in_a_vietnamese_message():
    with open(PO, "rb") as fh:
        catalog = read_po(fh, locale="vi")
    found = {}
    for entry in catalog:
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not ids[0]:
            continue
        for s in strings:
            words = english_words(" ".join(ids), s)
            if words:
                found[ids[0]] = words
    assert not found, f"English words in {len(found)} Vietnamese message(s): {list(found.items())[:8]}"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HAILONG_LANG"}
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env=env)


ENGLISH = re.compile(r"\b(OPTIONS|COMMAND|ARGS|TEXT|INTEGER|FLOAT|RANGE|DATETIME|required|"
                     r"default|integer|range|not a valid|Usage|Options|Error)\b|x>=|%Y")


def test_help_and_errors_of_every_command_are_vietnamese():
    from hailong.cli import cli

    outputs = [_run("--help").stdout]
    outputs += [_run(name, "--help").stdout for name in cli.commands]
    for args in (["capacity", "surveys/pks02-2024", "--answers", "20,5", "--days", "3"],
                 ["tickets", "surveys/pks02-2024", "--count", "0"],
                 ["progress", "surveys/pks02-2024", "--date", "31/02/2024"],
                 ["serve", "surveys/pks02-2024", "--port", "99999"]):
        done = _run(*args)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        outputs.append(done.stderr)
    for text in outputs:
        assert not ENGLISH.search(text), ENGLISH.search(text).group(0) + " in:\n" + text
    assert "--date NGÀY" in _run("progress", "--help").stdout
    assert "SỐ" in _run("tickets", "--help").stdout and "ít nhất 1" in _run("tickets", "--help").stdout


def test_dates_and_numbers_as_vietnamese_write_them(tmp_path):
    done = _run("capacity", "surveys/pks02-2024", "--answers", "20.000", "--days", "3",
                "--peak-share", "0,2")
    assert done.returncode == 0, done.stderr
    assert "20.000 phiếu trong 3 ngày" in done.stdout
    assert parse_day("13/06/2024") == parse_day("2024-06-13") == dt.date(2024, 6, 13)
    assert parse_day("1/7/2025") == dt.date(2025, 7, 1)
    assert parse_day("31/02/2024") is None and parse_day("06/13/2024") is None


@given(st.integers(min_value=0, max_value=10 ** 15))
def test_a_number_with_thousands_dots_reads_back(n):
    grouped = f"{n:,}"
    assert parse_whole(grouped.replace(",", ".")) == n
    assert parse_whole(grouped.replace(",", " ")) == n
    assert parse_whole(str(n)) == n


@pytest.mark.parametrize("text", ["20,000.5", "2.00", "20.0000", "1.2.3", "", "abc", "1e3"])
def test_not_whole_numbers(text):
    assert parse_whole(text) is None
