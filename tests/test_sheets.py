"""hailong.ingest.sheets: the real google-api-python-client against the fake Sheets server."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import SMALL_TOML, write_survey
from fake_sheets import FakeSheets, generated_rows, response_header
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.ingest import sheets
from hailong.ingest.rawstore import RawStore
from hailong.layout import Layout
from hailong.survey.load import load_survey

SA_EMAIL = "hailong-pull@hailong-test.iam.gserviceaccount.com"


def make_survey(folder: Path, ids: list[str] | str = "sheet-a", tab: str = "Responses"):
    toml = SMALL_TOML + f"\n[sheets]\nspreadsheet_id = {json.dumps(ids)}\nrange = {json.dumps(tab)}\n"
    return load_survey(write_survey(folder, toml=toml))


@pytest.fixture
def survey(tmp_path: Path):
    return make_survey(tmp_path / "survey")


@pytest.fixture
def questions(survey) -> list[str]:
    return [q.id for q in survey.questions]


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr(sheets, "_sleep", slept.append)
    return slept


@pytest.fixture
def fake(monkeypatch, sleeps):
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setattr(sheets, "TIMEOUT", 1.0)
    with FakeSheets() as server:
        monkeypatch.setenv("SHEETS_API_ENDPOINT", server.url)
        yield server


def run_pull(survey, out: Path) -> str:
    store = RawStore(Layout(out, survey.id), survey.response_columns)
    return sheets.pull_sheets(survey, out, store)


def raw_rows(survey, out: Path) -> list[dict[str, str]]:
    path = Layout(out, survey.id).raw_csv
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def sheet_ids(rows: list[list]) -> list[str]:
    return [r[1] for r in rows]


# -- reading ------------------------------------------------------------------------------------
def test_full_pull_reads_every_row_in_one_request(fake, survey, questions, tmp_path):
    rows = generated_rows(45, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    summary = run_pull(survey, tmp_path / "out")
    got = raw_rows(survey, tmp_path / "out")
    assert [r["response_id"] for r in got] == sheet_ids(rows)
    assert got[1] == {
        "submitted_at": "2024-06-12T00:01:00+07:00", "response_id": "r-00000001",
        "survey_id": "thu-nghiem", "unit_code": "X02", "respondent_type": "individual",
        "respondent_key": "", "device_id": "d-00000001", "ticket": "",
        "started_at": "2024-06-12T00:01:00+07:00", "channel": "", "entered_by": "", "entry": "",
        "q1": "3", "q2": "4", "q3": "5", "kenh": "1", "gop_y": "2", "comment": "",
    }
    assert got[0]["comment"] == "góp ý 0"
    assert fake.request_count == 1
    assert "45 new" in summary and "1 request" in summary


def test_blocks_and_requests(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 10)
    rows = generated_rows(45, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)
    # header + rows 2-11 (full); the grid's size (1000 rows); two blocks a call: 12-31, 32-51
    # (short: the end)
    assert fake.request_count == 4
    ranges = [p for _, p in fake.requests]
    assert "ranges=%27Responses%27%211%3A11&" in ranges[0]
    assert "valueRenderOption=UNFORMATTED_VALUE" in ranges[0]
    assert "ranges=%27Responses%27%2112%3A21&ranges=%27Responses%27%2122%3A31&" in ranges[2]


def test_incremental_pull_and_nothing_new_is_one_request(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 10)
    rows = generated_rows(20, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    out = tmp_path / "out"
    run_pull(survey, out)
    fake.requests.clear()
    assert "0 new" in run_pull(survey, out)
    assert fake.request_count == 1
    # the header and rows 21-31: row 21, the last pulled, is sure to be inside the grid
    assert "ranges=%27Responses%27%211%3A1&ranges=%27Responses%27%2121%3A31&" in fake.requests[0][1]
    more = generated_rows(12, questions, start=20)
    fake.extend("sheet-a", more)
    fake.requests.clear()
    assert "12 new" in run_pull(survey, out)
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(rows + more)
    assert fake.request_count == 3  # rows 22-31 were a full block; the grid's size; 32-51
    fake.requests.clear()
    run_pull(survey, out)
    assert fake.request_count == 1
    assert len(raw_rows(survey, out)) == 32


def test_nothing_new_on_a_sheet_past_a_new_tabs_1000_rows_is_one_request(fake, survey, questions, tmp_path):
    # Google grows the grid row by row once the first 1000 are used, so the grid ends at the
    # last answer and a range starting below it is refused (400 "exceeds grid limits")
    rows = generated_rows(1500, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    assert fake.tab("sheet-a").row_count == 1501
    out = tmp_path / "out"
    run_pull(survey, out)
    fake.requests.clear()
    summary = run_pull(survey, out)
    assert "0 new" in summary and "1 request" in summary
    assert fake.request_count == 1
    fake.extend("sheet-a", generated_rows(2, questions, start=1500))  # appendRow: the grid grows
    assert fake.tab("sheet-a").row_count == 1503
    fake.requests.clear()
    assert "2 new" in run_pull(survey, out)
    assert fake.request_count == 1
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(
        rows + generated_rows(2, questions, start=1500))


@pytest.mark.parametrize("n", [40, 45, 50])
def test_a_long_pull_never_asks_below_the_grid(fake, survey, questions, tmp_path, monkeypatch, n):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 10)
    rows = generated_rows(n, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]}, row_count=1)
    assert fake.tab("sheet-a").row_count == n + 1  # the grid ends at the last answer
    out = tmp_path / "out"
    run_pull(survey, out)
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(rows)
    paths = [p for _, p in fake.requests]
    # header + rows 2-11; the grid's size; then two blocks a call up to the grid's last row
    assert "ranges=%27Responses%27%211%3A11&" in paths[0]
    assert "fields=properties.timeZone%2Csheets.properties%28title%2CgridProperties.rowCount%29" in paths[1]
    assert f"%3A{n + 1}&" in paths[-1]  # the last range ends at the grid's last row
    assert fake.request_count == 2 + -(-(n - 10) // 20)
    fake.requests.clear()
    run_pull(survey, out)
    assert fake.request_count == 1


def test_rows_deleted_below_what_was_pulled_warn_instead_of_failing(fake, survey, questions, tmp_path):
    rows = generated_rows(1200, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    out = tmp_path / "out"
    run_pull(survey, out)
    fake.delete_rows("sheet-a", 2, 500)  # against the rules: the grid now ends at row 701
    summary = run_pull(survey, out)
    assert "0 new" in summary
    assert ("warning: spreadsheet sheet-a, tab 'Responses' has 700 rows below the header, but 1200 "
            "were pulled from it before") in summary
    assert len(raw_rows(survey, out)) == 1200


def test_rows_deleted_during_a_pull_make_it_read_the_grid_again(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 10)
    rows = generated_rows(45, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]}, row_count=1)
    real_append = RawStore.append
    calls = {"n": 0}

    def append_then_delete(self, source, columns, block):
        calls["n"] += 1
        if calls["n"] == 2:  # someone deletes the last 12 rows after the grid size was read
            fake.delete_rows("sheet-a", 35, 12)
        return real_append(self, source, columns, block)

    monkeypatch.setattr(RawStore, "append", append_then_delete)
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows[:33])
    bad = [p for _, p in fake.requests]
    assert sum("fields=" in p for p in bad) == 2  # the grid's size, then again after the 400


def test_ragged_rows_reordered_header_and_extra_column(fake, survey, tmp_path):
    header = ["response_id", "submitted_at", "survey_id", "unit_code", "respondent_type",
              "respondent_key", "device_id", "ticket", "started_at", "q3", "q2", "q1", "kenh",
              "gop_y", "comment", "ghi_chu_noi_bo"]
    fake.add_spreadsheet("sheet-a", {"Responses": [
        header,
        ["a1", "2024-06-12T09:00:00+07:00", "thu-nghiem", "X01"],  # everything after unit_code empty
        ["a2", "2024-06-12T09:05:00+07:00", "thu-nghiem", "X02", "", "", "", "", "", 5, "", 4],
        [],  # an empty row between answers stays a (blank) row
        ["a3", "2024-06-12T09:09:00+07:00", "thu-nghiem", "X03", "organization", "k", "d", "t",
         "s", 1, 2, 3, "Khác", "ổn", "tốt", "đã gọi lại"],
    ]})
    run_pull(survey, tmp_path / "out")
    got = raw_rows(survey, tmp_path / "out")
    assert len(got) == 4
    assert got[0]["response_id"] == "a1" and got[0]["q1"] == "" and got[0]["comment"] == ""
    assert (got[1]["q3"], got[1]["q2"], got[1]["q1"]) == ("5", "", "4")
    assert set(got[2].values()) == {""}
    assert got[3]["ghi_chu_noi_bo"] == "đã gọi lại" and got[3]["q3"] == "1" and got[3]["comment"] == "tốt"
    path = Layout(tmp_path / "out", survey.id).raw_csv
    assert path.read_text("utf-8").splitlines()[0].endswith(",comment,ghi_chu_noi_bo")


def test_empty_sheet_and_header_only(fake, survey, questions, tmp_path):
    fake.add_spreadsheet("sheet-a", {"Responses": []})
    assert "0 new" in run_pull(survey, tmp_path / "out")
    assert fake.request_count == 1
    assert raw_rows(survey, tmp_path / "out") == []
    fake.extend("sheet-a", [response_header(questions)])
    assert "0 new" in run_pull(survey, tmp_path / "out")
    fake.extend("sheet-a", generated_rows(3, questions))
    assert "3 new" in run_pull(survey, tmp_path / "out")
    assert len(raw_rows(survey, tmp_path / "out")) == 3


def test_serial_number_dates_use_the_spreadsheet_time_zone(fake, survey, questions, tmp_path):
    rows = generated_rows(2, questions)
    rows[0][0] = dt.datetime(2024, 6, 12, 8, 30, 15)  # a real date cell: read as a serial number
    rows[1][8] = dt.datetime(2024, 6, 13, 23, 59, 59)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]},
                         time_zone="Asia/Bangkok")
    run_pull(survey, tmp_path / "out")
    got = raw_rows(survey, tmp_path / "out")
    assert got[0]["submitted_at"] == "2024-06-12T08:30:15+07:00"
    assert got[1]["started_at"] == "2024-06-13T23:59:59+07:00"
    assert got[1]["submitted_at"] == rows[1][0]  # text stays as written
    gets = [p for _, p in fake.requests if "values" not in p]
    assert len(gets) == 1 and "fields=properties.timeZone" in gets[0]


def test_two_spreadsheets_into_one_raw_file(fake, tmp_path):
    survey = make_survey(tmp_path / "survey", ["tinh-a", "tinh-b"])
    qs = [q.id for q in survey.questions]
    a, b = generated_rows(7, qs), generated_rows(5, qs, start=100)
    fake.add_spreadsheet("tinh-a", {"Responses": [response_header(qs), *a]})
    fake.add_spreadsheet("tinh-b", {"Responses": [response_header(qs), *b]})
    out = tmp_path / "out"
    summary = run_pull(survey, out)
    assert "tinh-a: 7 new" in summary and "tinh-b: 5 new" in summary
    more_b = generated_rows(2, qs, start=200)
    fake.extend("tinh-b", more_b)
    fake.requests.clear()
    run_pull(survey, out)
    assert fake.request_count == 2  # one per spreadsheet
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(a + b + more_b)
    store = RawStore(Layout(out, survey.id), survey.response_columns)
    assert store.rows_from("sheets:tinh-a:Responses") == 7
    assert store.rows_from("sheets:tinh-b:Responses") == 7


def test_tab_name_with_spaces_and_quote(fake, tmp_path):
    survey = make_survey(tmp_path / "survey", "sheet-a", tab="Phiếu trả lời 'mới'")
    qs = [q.id for q in survey.questions]
    rows = generated_rows(3, qs)
    fake.add_spreadsheet("sheet-a", {"Phiếu trả lời 'mới'": [response_header(qs), *rows]})
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)


def test_warnings_near_the_cell_limit_unnamed_cells_and_a_cleared_tab(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "CELL_LIMIT", 100)
    rows = generated_rows(5, questions)
    rows[2] += ["", "", "lạc cột"]  # a cell right of the header's last column
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    summary = run_pull(survey, tmp_path / "out")
    assert "warning: spreadsheet sheet-a holds about 90 cells, close to Google's limit of 10 million" in summary
    assert "warning: spreadsheet sheet-a: cells right of the last named column" in summary
    assert len(raw_rows(survey, tmp_path / "out")) == 5
    fake.tab("sheet-a").rows.clear()
    summary = run_pull(survey, tmp_path / "out")
    assert "tab 'Responses' is empty, but 5 rows were pulled from it before" in summary
    assert len(raw_rows(survey, tmp_path / "out")) == 5


# -- errors -------------------------------------------------------------------------------------
def test_not_shared_anonymous(fake, survey, questions, tmp_path):
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions)]},
                         viewers={"someone@example.org"})
    with pytest.raises(HailongError, match=r"spreadsheet sheet-a is not shared with the service account"):
        run_pull(survey, tmp_path / "out")


def test_sheets_api_not_enabled(fake, survey, questions, tmp_path):
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions)]})
    fake.inject("status", status=403, message=(
        "Google Sheets API has not been used in project 123456 before or it is disabled. Enable it "
        "by visiting https://console.developers.google.com/apis/api/sheets.googleapis.com/overview"))
    with pytest.raises(HailongError, match=r"the Google Sheets API is not enabled .* Library → Google Sheets API → Enable"):
        run_pull(survey, tmp_path / "out")


def test_time_zone_unreadable_falls_back_to_the_survey_time_zone(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "NUM_RETRIES", 0)
    rows = generated_rows(1, questions)
    rows[0][0] = dt.datetime(2024, 6, 12, 8, 30)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject("status", status=500, after=1)  # the spreadsheets.get after the read fails
    summary = run_pull(survey, tmp_path / "out")
    assert raw_rows(survey, tmp_path / "out")[0]["submitted_at"] == "2024-06-12T08:30:00+07:00"
    assert "could not read its time zone (HttpError)" in summary


def test_wrong_spreadsheet_id(fake, survey, tmp_path):
    with pytest.raises(HailongError, match=r"no spreadsheet with id sheet-a: check \[sheets\] spreadsheet_id"):
        run_pull(survey, tmp_path / "out")


def test_wrong_tab_name(fake, survey, questions, tmp_path):
    fake.add_spreadsheet("sheet-a", {"Trang tính1": [response_header(questions)]})
    with pytest.raises(HailongError, match=r"has no tab named 'Responses': set \[sheets\] range"):
        run_pull(survey, tmp_path / "out")


def test_header_missing_columns_named(fake, survey, questions, tmp_path):
    header = [c for c in response_header(questions) if c not in ("unit_code", "q3")]
    fake.add_spreadsheet("sheet-a", {"Responses": [header, ["x"] * len(header)]})
    with pytest.raises(HailongError, match=r"row 1 lacks the column\(s\) unit_code, q3;"):
        run_pull(survey, tmp_path / "out")
    assert raw_rows(survey, tmp_path / "out") == []


def test_header_row_empty_above_data(fake, survey, questions, tmp_path):
    fake.add_spreadsheet("sheet-a", {"Responses": [[], *generated_rows(2, questions)]})
    with pytest.raises(HailongError, match="row 1 is empty but rows below it hold data"):
        run_pull(survey, tmp_path / "out")


def test_no_spreadsheet_configured(fake, tmp_path):
    survey = make_survey(tmp_path / "survey", [])
    with pytest.raises(HailongError, match=r"\[sheets\] spreadsheet_id is empty"):
        run_pull(survey, tmp_path / "out")


def test_credentials_missing_or_unreadable(monkeypatch, survey, tmp_path):
    monkeypatch.delenv("SHEETS_API_ENDPOINT", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with pytest.raises(HailongError, match="GOOGLE_APPLICATION_CREDENTIALS is not set"):
        run_pull(survey, tmp_path / "out")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "nowhere.json"))
    with pytest.raises(HailongError, match=r"nowhere.json, which does not exist"):
        run_pull(survey, tmp_path / "out")
    bad = tmp_path / "key.json"
    bad.write_text("{not json", "utf-8")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(bad))
    with pytest.raises(HailongError, match=r"key.json: cannot read the service-account key \(it is not valid JSON\)"):
        run_pull(survey, tmp_path / "out")
    bad.write_text('{"type": "authorized_user", "client_id": "x"}', "utf-8")
    with pytest.raises(HailongError, match=r"not a service-account key"):
        run_pull(survey, tmp_path / "out")
    bad.write_text('{"type": "service_account", "client_email": "a@b"}', "utf-8")
    with pytest.raises(HailongError, match=r"incomplete or damaged"):
        run_pull(survey, tmp_path / "out")


def service_account_key(path: Path, token_uri: str) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "hailong-test", "private_key_id": "k1",
        "private_key": pem, "client_email": SA_EMAIL, "client_id": "1",
        "token_uri": token_uri,
    }), "utf-8")
    return path


def test_service_account_signs_in_and_403_names_its_email(fake, survey, questions, tmp_path, monkeypatch):
    key = service_account_key(tmp_path / "sa.json", fake.url + "token")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key))
    rows = generated_rows(4, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]},
                         viewers={"chuyenvien@example.org"})
    with pytest.raises(HailongError) as err:
        run_pull(survey, tmp_path / "out")
    assert f"not shared with {SA_EMAIL}: open it in Google Sheets" in str(err.value)
    fake.books["sheet-a"].viewers.add(SA_EMAIL)
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)
    assert fake.token_requests >= 1


# -- failures on the way ---------------------------------------------------------------------
@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_statuses_are_retried(fake, survey, questions, tmp_path, sleeps, status):
    rows = generated_rows(5, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject("status", status=status, times=2)
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)
    assert fake.request_count == 3
    assert len(sleeps) == 2


def test_dropped_connection_and_slow_answer_are_retried(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 2)
    rows = generated_rows(5, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject("drop")
    fake.inject("slow", delay=1.5, after=1)  # the client gives up after TIMEOUT = 1 s
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)


def test_gives_up_with_a_clear_message_then_resumes(fake, survey, questions, tmp_path, sleeps, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 3)
    rows = generated_rows(10, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject("status", status=500, times=10_000, after=1)
    with pytest.raises(HailongError, match=r"Google Sheets did not answer for spreadsheet sheet-a \(HTTP 500, 4 tries\); rows pulled so far are kept"):
        run_pull(survey, tmp_path / "out")
    assert len(raw_rows(survey, tmp_path / "out")) == 3  # the first block, complete
    expected = sheets.CALL_ATTEMPTS * (sheets.NUM_RETRIES + 1)
    assert fake.request_count == 1 + expected
    assert sleeps.count(sheets.BACKOFF) == 1 and sleeps.count(sheets.BACKOFF * 4) == 1
    fake.clear_faults()
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)


def test_interrupted_at_every_request_then_rerun_has_every_row_once(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 4)
    monkeypatch.setattr(sheets, "CALL_ATTEMPTS", 1)
    monkeypatch.setattr(sheets, "NUM_RETRIES", 0)
    rows = generated_rows(23, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]}, row_count=1)
    run_pull(survey, tmp_path / "whole")
    calls = fake.request_count
    assert calls == 5  # header + rows 2-5; the grid's size (24); rows 6-13, 14-21, 22-24
    for k in range(calls):
        out = tmp_path / f"cut-{k}"
        fake.clear_faults()
        fake.inject("drop", times=10, after=k)
        with pytest.raises(HailongError):
            run_pull(survey, out)
        fake.clear_faults()
        run_pull(survey, out)
        assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(rows), k


def test_killed_while_writing_a_block_then_rerun_has_every_row_once(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 4)
    rows = generated_rows(11, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    out = tmp_path / "out"
    real_append = RawStore.append
    calls = {"n": 0}

    def dying_append(self, source, columns, block):
        calls["n"] += 1
        if calls["n"] == 2:  # half of the second block reaches the disk, then the process dies
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write("2024-06-12T00:04:00+07:00,r-00000004,thu-nghiem,X0")
            raise KeyboardInterrupt
        return real_append(self, source, columns, block)

    monkeypatch.setattr(RawStore, "append", dying_append)
    with pytest.raises(KeyboardInterrupt):
        run_pull(survey, out)
    monkeypatch.setattr(RawStore, "append", real_append)
    run_pull(survey, out)
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(rows)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=4),
       block=st.integers(min_value=1, max_value=4), grid=st.sampled_from([1, 12, 1000]))
def test_any_sequence_of_appends_and_pulls_mirrors_the_sheet(fake, survey, questions, tmp_path_factory,
                                                             monkeypatch, batches, block, grid):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", block)
    out = tmp_path_factory.mktemp("out")
    sid = f"s-{len(fake.books)}"
    survey.sheets.values["spreadsheet_ids"] = [sid]
    # grid 1: it ends at the last answer, as on a tab past its first 1000 rows
    fake.add_spreadsheet(sid, {"Responses": [response_header(questions)]}, row_count=grid)
    written: list[list] = []
    for n in batches:
        more = generated_rows(n, questions, start=len(written))
        fake.extend(sid, more)
        written += more
        run_pull(survey, out)
        assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(written)


# -- pieces -------------------------------------------------------------------------------------
def test_rate_limiter_keeps_to_sixty_a_minute(monkeypatch):
    now = [0.0]
    waited: list[float] = []

    def fake_sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(sheets, "_sleep", fake_sleep)
    limiter = sheets.RateLimiter(per_minute=60, clock=lambda: now[0])
    for _ in range(60):
        limiter.wait()
        now[0] += 0.1
    assert waited == []
    limiter.wait()  # the 61st within the minute waits until the first is 60 s old
    assert waited == [pytest.approx(54.0)]
    times = list(limiter.sent)
    assert len(times) == 60 and times[-1] - times[0] < 60


def test_cells_as_text():
    assert [sheets._text(v) for v in ["x", 4, 4.0, 4.5, True, False, None]] == \
        ["x", "4", "4", "4.5", "TRUE", "FALSE", ""]
    from zoneinfo import ZoneInfo

    assert sheets._serial_to_iso(45455.5, ZoneInfo("Asia/Ho_Chi_Minh")) == "2024-06-12T12:00:00+07:00"


def test_date_cells_and_a_long_pull_share_one_spreadsheets_get(fake, survey, questions, tmp_path, monkeypatch):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 2)
    rows = generated_rows(5, questions)
    rows[0][0] = dt.datetime(2024, 6, 12, 8, 30)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]}, row_count=1)
    run_pull(survey, tmp_path / "out")
    got = raw_rows(survey, tmp_path / "out")
    assert [r["response_id"] for r in got] == sheet_ids(rows)
    assert got[0]["submitted_at"] == "2024-06-12T08:30:00+07:00"
    gets = [p for _, p in fake.requests if "values" not in p]
    assert len(gets) == 1  # time zone and grid size in one answer
    assert fake.request_count == 3  # header + rows 2-3; that get; rows 4-5, 6


# -- answers that are not the data --------------------------------------------------------------
WRONG_SHAPES = [[], "valueRanges", {"valueRanges": "x"}, {}, {"valueRanges": [{"values": "x"}]},
                {"valueRanges": [{"values": [1, 2]}]}, {"valueRanges": [{"values": [[{"a": 1}]]}]},
                {"valueRanges": [None]}]
BAD_ANSWERS = [("truncated", None, "cut short"), ("html", None, "HTML page"),
               ("redirect", None, "HTML page"), ("empty", None, "empty answer"),
               *(("shape", s, "not the shape") for s in WRONG_SHAPES)]


@pytest.mark.parametrize(("kind", "payload", "said"), BAD_ANSWERS)
def test_bad_answers_end_in_one_line_raw_untouched_and_a_rerun_pulls_the_rest(
        fake, survey, questions, tmp_path, sleeps, kind, payload, said):
    out = tmp_path / "out"
    rows = generated_rows(12, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows[:5]]})
    run_pull(survey, out)
    raw = Layout(out, survey.id).raw_csv
    before = raw.read_bytes()
    fake.extend("sheet-a", rows[5:])
    fake.inject(kind, payload=payload, times=10_000)
    with pytest.raises(HailongError) as caught:
        run_pull(survey, out)
    message = str(caught.value)
    assert "\n" not in message and "sheet-a" in message and said in message, message
    assert "rows pulled so far are kept" in message and "proxy" in message
    assert raw.read_bytes() == before
    fake.clear_faults()
    run_pull(survey, out)
    assert [r["response_id"] for r in raw_rows(survey, out)] == sheet_ids(rows)


@pytest.mark.parametrize(("kind", "payload"), [("truncated", None), ("html", None),
                                               ("shape", {"valueRanges": []}), ("empty", None)])
def test_a_bad_answer_once_is_retried(fake, survey, questions, tmp_path, kind, payload):
    rows = generated_rows(6, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject(kind, payload=payload)
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)


@pytest.mark.parametrize("meta", [[], {"sheets": "x"}, {"sheets": [{"properties": {
    "title": "Responses", "gridProperties": {"rowCount": "nhiều"}}}]}])
def test_a_bad_grid_size_answer_is_one_line(fake, survey, questions, tmp_path, sleeps, monkeypatch, meta):
    monkeypatch.setattr(sheets, "BLOCK_ROWS", 3)
    rows = generated_rows(10, questions)
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *rows]})
    fake.inject("shape", payload=meta, times=10_000, after=1)  # the spreadsheets.get
    with pytest.raises(HailongError, match="not the shape"):
        run_pull(survey, tmp_path / "out")
    assert len(raw_rows(survey, tmp_path / "out")) == 3  # the first block, complete
    fake.clear_faults()
    run_pull(survey, tmp_path / "out")
    assert [r["response_id"] for r in raw_rows(survey, tmp_path / "out")] == sheet_ids(rows)


def test_date_cells_that_no_date_can_hold_are_kept_as_text(fake, survey, questions, tmp_path):
    header = response_header(questions)
    rows = generated_rows(3, questions)
    rows[0][0], rows[1][0], rows[2][8] = 1e300, float("inf"), 10**400
    fake.add_spreadsheet("sheet-a", {"Responses": [header]})
    fake.inject("shape", payload={"valueRanges": [{"values": [header, *rows]}]})
    run_pull(survey, tmp_path / "out")
    got = raw_rows(survey, tmp_path / "out")
    assert [g["submitted_at"] for g in got[:2]] == [str(int(1e300)), "inf"]  # text; score quarantines it
    assert got[2]["started_at"] == str(10**400)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["valueRanges", "values", "range", "sheets", "x"]), inner,
                        max_size=3), max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=JSON | st.builds(lambda v: {"valueRanges": [{"values": v}]}, JSON))
def test_any_json_answer_is_rows_or_one_clear_line(fake, survey, questions, tmp_path_factory, payload):
    out = tmp_path_factory.mktemp("out")
    fake.books.pop("sheet-a", None)
    fake.clear_faults()
    fake.add_spreadsheet("sheet-a", {"Responses": [response_header(questions), *generated_rows(2, questions)]})
    fake.inject("shape", payload=payload, times=10_000)
    try:
        run_pull(survey, out)
    except HailongError as exc:
        assert "\n" not in str(exc)
        assert len(raw_rows(survey, out)) == 0
