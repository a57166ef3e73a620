"""hailong.ingest.shards: many spreadsheets pulled at once, each on its own fake Sheets server,
with the real google-api-python-client; quotas, 429s and one spreadsheet failing."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from fake_sheets import FakeSheets, Router, generated_rows, response_header

from hailong.errors import HailongError
from hailong.ingest import shards, sheets
from hailong.ingest.pull import pull
from hailong.layout import Layout
from hailong.survey.load import load_survey

IDS = ["tinh-ha-tinh", "tinh-nghe-an", "tinh-quang-tri"]


@pytest.fixture
def clock(monkeypatch):
    """A fake clock that sleeping moves on, shared by all threads: quotas cost no real time."""
    now = [1000.0]
    slept: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            slept.append(seconds)
            now[0] += max(seconds, 0.0)

    monkeypatch.setattr(sheets, "_sleep", sleep)
    return now, slept


@pytest.fixture
def servers(monkeypatch, clock):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setattr(sheets, "TIMEOUT", 5.0)
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 10)
    fakes = [FakeSheets() for _ in IDS]
    with Router(fakes) as router:
        monkeypatch.setenv("SHEETS_API_ENDPOINT", router.url)
        yield router


def make_survey(folder: Path, ids: list[str]):
    toml = SMALL_TOML + ('\n[collector]\nkind = "apps_script"\n'
                         'url = "https://script.google.com/macros/s/AKfycbx/exec"\n'
                         f"[sheets]\nspreadsheet_id = {ids!r}\n".replace("'", '"'))
    return load_survey(write_survey(folder, toml=toml))


def _survey(tmp_path: Path):
    return make_survey(tmp_path / "s", ids=IDS)


def _fill(router, survey, sizes: list[int]) -> dict[str, list[str]]:
    """Each spreadsheet on its own server with `sizes[i]` rows; {id: response ids}."""
    questions = [q.id for q in survey.questions]
    made = {}
    start = 0
    for fake, sid, n in zip(router.servers, IDS, sizes, strict=True):
        rows = generated_rows(n, questions, start=start)
        start += n
        fake.add_spreadsheet(sid, {"Responses": [response_header(questions), *rows]})
        made[sid] = [r[1] for r in rows]
    return made


def _raw_ids(survey, out: Path) -> list[str]:
    with open(Layout(out, survey.id).raw_csv, newline="", encoding="utf-8") as fh:
        return [r["response_id"] for r in csv.DictReader(fh)]


def test_every_spreadsheet_lands_once_and_pulls_overlap(servers, tmp_path, clock):
    survey = _survey(tmp_path)
    for fake in servers.servers:  # each answer takes a moment, as Google's do
        fake.inject("slow", times=50, delay=0.05)
    made = _fill(servers, survey, [35, 22, 41])
    out = tmp_path / "out"
    summary = pull(survey, out)
    got = _raw_ids(survey, out)
    assert sorted(got) == sorted(i for ids in made.values() for i in ids)
    for sid, ids in made.items():  # each spreadsheet's rows in its own order
        assert [i for i in got if i in set(ids)] == ids
        assert f"{sid}: {len(ids)} new" in summary
    assert servers.most_in_flight >= 2  # read at the same time, not one after the other
    # a second pull copies nothing again: one request per spreadsheet
    before = sum(f.request_count for f in servers.servers)
    assert "pulled 0 new row(s)" in pull(survey, out)
    assert sum(f.request_count for f in servers.servers) - before == len(IDS)


def test_never_more_requests_a_minute_than_the_quota(servers, tmp_path, clock):
    survey = _survey(tmp_path)
    _fill(servers, survey, [95, 80, 120])  # blocks of 10 rows: about 20 requests in all
    limiter = shards.QuotaLimiter(limits=(5, 300), clock=lambda: clock[0][0])
    from hailong.ingest.rawstore import RawStore

    out = tmp_path / "out"
    store = RawStore(Layout(out, survey.id), survey.response_columns)
    shards.pull_sheets(survey, out, store, limiter=limiter)
    sent = limiter.log
    assert len(sent) == sum(f.request_count for f in servers.servers) > 10
    for i, t in enumerate(sent):  # any 60 s window holds at most 5 requests
        assert sum(1 for u in sent[i:] if u - t < 60.0) <= 5
    assert len(_raw_ids(survey, out)) == 95 + 80 + 120


def test_429_backs_off_and_completes(servers, tmp_path, clock):
    survey = _survey(tmp_path)
    made = _fill(servers, survey, [12, 12, 12])
    servers.servers[1].inject("status", status=429, times=3)
    out = tmp_path / "out"
    pull(survey, out)
    assert sorted(_raw_ids(survey, out)) == sorted(i for ids in made.values() for i in ids)
    _, slept = clock
    assert slept and all(s > 0 for s in slept)  # it waited before trying again


def test_one_spreadsheet_failing_does_not_stop_the_others_and_a_rerun_completes(
        servers, tmp_path, clock, monkeypatch):
    monkeypatch.setattr(sheets, "NUM_RETRIES", 0)
    survey = _survey(tmp_path)
    made = _fill(servers, survey, [25, 30, 18])
    broken = servers.servers[2]
    broken.inject("status", status=503, times=100)
    out = tmp_path / "out"
    with pytest.raises(HailongError) as caught:
        pull(survey, out)
    message = str(caught.value)
    assert message.startswith("1 of 3 spreadsheets could not be pulled (tinh-quang-tri: ")
    assert "run the pull again" in message and "\n" not in message
    got = _raw_ids(survey, out)
    assert sorted(got) == sorted(made["tinh-ha-tinh"] + made["tinh-nghe-an"])
    broken.clear_faults()
    assert "tinh-quang-tri: 18 new" in pull(survey, out)
    assert sorted(_raw_ids(survey, out)) == sorted(i for ids in made.values() for i in ids)


def test_each_failure_is_named_and_one_cause_for_all_is_said_once(servers, tmp_path, clock,
                                                                   monkeypatch):
    survey = make_survey(tmp_path / "s", ids=["khong-co-1", "khong-co-2"])
    with pytest.raises(HailongError, match=r"^2 of 2 spreadsheets could not be pulled "
                       r"\(khong-co-1: no spreadsheet with id khong-co-1.*; khong-co-2: no "
                       r"spreadsheet with id khong-co-2.*nothing was pulled: run the pull again"):
        pull(survey, tmp_path / "out")
    monkeypatch.delenv("SHEETS_API_ENDPOINT")  # and no key file: every thread fails the same way
    with pytest.raises(HailongError, match=r"^GOOGLE_APPLICATION_CREDENTIALS is not set;"):
        pull(survey, tmp_path / "out")


def test_quota_limiter_waits_for_the_oldest_request_to_age(clock):
    now, slept = clock
    limiter = shards.QuotaLimiter(limits=(60, 3), clock=lambda: now[0])
    for _ in range(3):
        limiter.wait()
    assert slept == []
    now[0] += 10
    limiter.wait()  # the fourth in a minute waits until the first is 60 s old
    assert slept == [50.0]
    assert limiter.log == [1000.0, 1000.0, 1000.0, 1060.0]
