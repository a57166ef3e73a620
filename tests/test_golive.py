"""The go-live check (contract v3, section 3): every problem that would lose answers or
mislead, one line each with its fix; the print commands refuse for a public address."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SMALL_TOML, SMALL_UNITS, STRONG_KEY, write_survey
from golive_fixture import EXEC_URL, ready

from hailong import golive
from hailong.collect.build import build_site
from hailong.collect.qr import generate_qr_images
from hailong.errors import HailongError
from hailong.survey import keycheck
from hailong.survey.load import load_survey
from hailong.survey.new import new_survey

ROOT = Path(__file__).resolve().parent.parent
BASE = "https://khaosat.example.gov.vn"
KEY = STRONG_KEY


def hailong(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hailong", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, env={**os.environ, **(env or {})})


def kinds(survey, out, base=BASE, today=None) -> list[str]:
    return [p.kind for p in golive.problems(survey, out, base, today)]


@pytest.fixture
def fresh(tmp_path):
    """What the issue found: `new --template pks02 --province "Nghệ An"`, as made today."""
    folder = tmp_path / "pks02-nghe-an"
    new_survey(folder, "pks02", "Nghệ An")
    return folder


def test_new_survey_fails_the_check_for_the_collector_and_the_marks(fresh, tmp_path):
    done = hailong("check", str(fresh), "--base-url", BASE, "--out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout
    lines = done.stdout.strip().splitlines()
    assert lines[0] == "pks02-nghe-an: 2 problems to fix before going live:"
    assert lines[1].startswith('- survey.toml: [collector] kind = "local" but the pages are for '
                               f"{BASE}") and "apps_script" in lines[1]
    assert re.search(r"5 lines still marked 'SỬA' \(lines [\d, ]+\)", lines[2])
    assert len(lines) == 3 and done.stderr == ""


def test_new_marks_the_collector_and_never_sets_a_window_already_over(fresh):
    text = (fresh / "survey.toml").read_text(encoding="utf-8")
    collector = text.split("[collector]", 1)[1].split("\nkind", 1)[0]
    assert "SỬA:" in collector and "apps_script" in collector
    survey = load_survey(fresh)
    assert survey.start >= dt.datetime.now(survey.tz).date()
    late = new_survey(fresh.parent / "late", "pks02", None, today=dt.date(2026, 12, 6))
    assert "2027-06-12" in late  # this year's June is over: next year's


def test_print_commands_refuse_for_a_public_address_in_one_line(fresh, tmp_path):
    out = tmp_path / "out"
    for args in (["qr", str(fresh), "--base-url", BASE, "--no-posters"],
                 ["build", str(fresh), "--base-url", BASE]):
        done = hailong(*args, "--out", str(out))
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
        assert 'kind = "local"' in done.stderr
    assert not out.exists()  # nothing made: no poster can post to ../../../api/responses
    # a test address is not public: nothing is checked
    done = hailong("qr", str(fresh), "--base-url", "http://127.0.0.1:8000", "--allow-http",
                   "--no-posters", "--out", str(out))
    assert done.returncode == 0, done.stderr


def test_a_ready_survey_passes(survey_dir, tmp_path):
    ready(survey_dir)
    done = hailong("check", str(survey_dir), "--base-url", BASE, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == "thu-nghiem: ready to go live: no problem found"


def test_check_speaks_vietnamese_by_default(fresh, tmp_path, vietnamese):
    done = hailong("check", str(fresh), "--base-url", BASE, "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert "vấn đề cần sửa trước khi triển khai" in done.stdout
    assert "mọi phiếu gửi từ áp phích sẽ bị mất" in done.stdout


def test_window_over_started_and_letter_deadline(tmp_path):
    survey = load_survey(ready(write_survey(tmp_path / "s"), days_ahead=-3))
    assert kinds(survey, tmp_path) == ["started"]
    assert kinds(survey, tmp_path, today=survey.end + dt.timedelta(days=1)) == ["over"]
    assert kinds(survey, tmp_path, today=survey.start) == []
    message = golive.problems(survey, tmp_path, BASE, survey.end + dt.timedelta(days=1))[0].message
    assert survey.end.strftime("%d/%m/%Y") in message  # the day as people write it


def test_roster_letters_whose_deadline_passed(tmp_path, monkeypatch):
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')
    folder = ready(write_survey(tmp_path / "s", toml=toml,
                                roster_csv="id,name,unit_code\nHTX-01,HTX Tiên Điền,X01\n"))
    survey = load_survey(folder)
    after = survey.end + dt.timedelta(days=2)
    assert kinds(survey, tmp_path, today=after) == ["over", "deadline"]
    with pytest.raises(HailongError, match="ended on"):
        golive.refuse_for_print(survey, BASE, tmp_path, "links", today=after)


def test_apps_script_addresses_must_be_web_app_exec_urls(tmp_path):
    folder = ready(write_survey(tmp_path / "s"))
    path = folder / "survey.toml"
    dev = EXEC_URL.replace("/exec", "/dev")
    path.write_text(path.read_text(encoding="utf-8").replace(EXEC_URL, dev), encoding="utf-8")
    survey = load_survey(folder)
    found = golive.problems(survey, tmp_path, BASE)
    assert [p.kind for p in found] == ["exec"] and dev in found[0].message
    for good in (EXEC_URL, "https://script.google.com/a/hatinh.gov.vn/macros/s/AKfycbx0123456789abcdefgh/exec"):
        assert golive.EXEC_URL.match(good)
    for bad in ("https://script.google.com/home/projects/1abc/edit", dev,
                "https://docs.google.com/spreadsheets/d/1abc/edit", "http://script.google.com/macros/s/"
                "AKfycbx0123456789abcdefgh/exec"):
        assert not golive.EXEC_URL.match(bad)


def test_units_with_an_abolished_district_or_no_real_name(tmp_path):
    units = SMALL_UNITS.replace("Xã Tiên Điền", "X01").replace(",Nghi Xuân,", ",Huyện Nghi Xuân,")
    folder = ready(write_survey(tmp_path / "s", units=units))
    survey = load_survey(folder)
    found = [p.message for p in golive.problems(survey, tmp_path, BASE) if p.kind == "unit"]
    assert any("no real name (unit X01)" in m for m in found)
    assert any("abolished on 1 July 2025" in m and "Huyện Nghi Xuân" in m for m in found)
    assert golive._abolished("Thành phố Hà Tĩnh", {"thành phố hà nội"})  # a district-level city
    assert not golive._abolished("Thành phố Hà Nội", {"thành phố hà nội"})
    assert golive._abolished("Tỉnh Quảng Bình", set()) and not golive._abolished("Hà Tĩnh", set())


def test_a_key_that_does_not_match_the_key_check(tmp_path, monkeypatch):
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
    survey = load_survey(ready(write_survey(tmp_path / "s", toml=toml)))
    monkeypatch.delenv("HAILONG_SIGNING_KEY", raising=False)
    assert kinds(survey, tmp_path) == ["key"]
    monkeypatch.setenv("HAILONG_SIGNING_KEY", KEY)
    assert kinds(survey, tmp_path) == []
    folder = tmp_path / survey.id / "tickets"
    folder.mkdir(parents=True)
    (folder / keycheck.KEY_CHECK).write_text(keycheck.key_check(b"another key, 32 bytes long......"))
    found = golive.problems(survey, tmp_path, BASE)
    assert [p.kind for p in found] == ["key"] and "key-check.txt" in found[0].message


def test_qr_codes_and_site_built_for_another_address(tmp_path):
    survey = load_survey(ready(write_survey(tmp_path / "s")))
    out = tmp_path / "out"
    generate_qr_images(survey, out, "https://old.example.vn")
    build_site([survey], out, base_url="https://old.example.vn")
    assert kinds(survey, out, "https://old.example.vn") == []
    found = golive.problems(survey, out, BASE)
    assert [p.kind for p in found] == ["built", "built"]
    assert "hailong qr" in found[0].message and "hailong build" in found[1].message
    assert all("https://old.example.vn" in p.message for p in found)
    build_site([survey], out)  # a preview for hailong serve: no address at all
    assert [p.message for p in golive.problems(survey, out, "https://old.example.vn")] == [
        f"{survey_page(out)}: the site was built without --base-url (a preview for hailong serve); "
        "run `hailong build` again with --base-url https://old.example.vn"]


def survey_page(out: Path) -> Path:
    return out / "site" / "thu-nghiem" / "u" / "X01" / "index.html"


def test_no_traceback_from_a_window_to_9999(tmp_path):
    folder = write_survey(tmp_path / "s", toml=SMALL_TOML.replace('end = "2024-06-14"',
                                                                    'end = "9999-12-31"'))
    done = hailong("score", str(folder), "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1
    assert "window.end = '9999-12-31' is not a real survey day" in done.stderr
