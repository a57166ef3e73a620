"""The fake Sheets server answers google-api-python-client the way Google does."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest
from fake_sheets import FakeSheets, Formula, col_letters, col_number, split_range


@pytest.fixture
def fake():
    with FakeSheets() as server:
        yield server


@pytest.fixture
def api(fake):
    from google.auth.credentials import AnonymousCredentials
    from googleapiclient.discovery import build

    return build("sheets", "v4", credentials=AnonymousCredentials(), static_discovery=True,
                 cache_discovery=False, client_options={"api_endpoint": fake.url})


def test_a1_helpers():
    assert [col_letters(n) for n in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
    assert all(col_number(col_letters(n)) == n for n in range(1, 2000))
    assert split_range("'Tab ''x'''!A1:B2") == ("Tab 'x'", "A1:B2")
    assert split_range("Responses!2:20001") == ("Responses", "2:20001")
    assert split_range("A1:B2") == (None, "A1:B2")


def test_values_get_shapes(fake, api):
    fake.add_spreadsheet("s1", {"Responses": [["a", "b", "c"], ["1", None, ""], [], ["x", 2, True, None]]})
    values = api.spreadsheets().values()
    got = values.get(spreadsheetId="s1", range="Responses!A1:C10").execute()
    # trailing empty cells and rows dropped; an empty row inside stays []; everything formatted
    assert got == {"range": "Responses!A1:C10", "majorDimension": "ROWS",
                   "values": [["a", "b", "c"], ["1"], [], ["x", "2", "TRUE"]]}
    got = values.get(spreadsheetId="s1", range="Responses!2:5000",
                     valueRenderOption="UNFORMATTED_VALUE").execute()
    assert got["range"] == "Responses!A2:Z1000"  # clipped to the grid (1000 x 26)
    assert got["values"] == [["1"], [], ["x", 2, True]]
    empty = values.get(spreadsheetId="s1", range="Responses!A50:C60").execute()
    assert "values" not in empty and empty["range"] == "Responses!A50:C60"
    cols = values.get(spreadsheetId="s1", range="Responses!A1:C4", majorDimension="COLUMNS").execute()
    assert cols["values"] == [["a", "1", "", "x"], ["b", "", "", "2"], ["c", "", "", "TRUE"]]


def test_batch_get_dates_and_quoted_tabs(fake, api):
    when = dt.datetime(2024, 6, 12, 12, 0)
    fake.add_spreadsheet("s1", {"Phiếu 'mới'": [["t"], [when]]})
    answer = api.spreadsheets().values().batchGet(
        spreadsheetId="s1", ranges=["'Phiếu ''mới'''!1:1", "'Phiếu ''mới'''!2:3"],
        valueRenderOption="UNFORMATTED_VALUE").execute()
    assert answer["spreadsheetId"] == "s1"
    assert [r["range"] for r in answer["valueRanges"]] == ["'Phiếu ''mới'''!A1:Z1", "'Phiếu ''mới'''!A2:Z3"]
    assert answer["valueRanges"][1]["values"] == [[45455.5]]  # serial number by default
    formatted = api.spreadsheets().values().batchGet(
        spreadsheetId="s1", ranges=["'Phiếu ''mới'''!A2"], valueRenderOption="UNFORMATTED_VALUE",
        dateTimeRenderOption="FORMATTED_STRING").execute()
    assert formatted["valueRanges"][0]["values"] == [["6/12/2024 12:00:00"]]


def test_append_user_entered_and_raw(fake, api):
    fake.add_spreadsheet("s1", {"Responses": [["h1", "h2"]]})
    values = api.spreadsheets().values()
    answer = values.append(spreadsheetId="s1", range="Responses!A1", valueInputOption="USER_ENTERED",
                           insertDataOption="INSERT_ROWS",
                           body={"values": [["'=1+1", "=1+1"], ["0912", "text"]]}).execute()
    assert answer["updates"] == {"spreadsheetId": "s1", "updatedRange": "Responses!A2:B3",
                                 "updatedRows": 2, "updatedColumns": 2, "updatedCells": 4}
    assert answer["tableRange"] == "Responses!A1:Z1"
    rows = fake.tab("s1").rows
    assert rows[1][0] == "=1+1" and isinstance(rows[1][1], Formula) and rows[2][0] == 912
    values.append(spreadsheetId="s1", range="Responses", valueInputOption="RAW",
                  body={"values": [["=2", "0912"]]}).execute()
    assert fake.tab("s1").rows[3] == ["=2", "0912"]
    shown = values.get(spreadsheetId="s1", range="Responses!A2:B4", valueRenderOption="FORMULA").execute()
    assert shown["values"] == [["=1+1", "=1+1"], [912, "text"], ["=2", "0912"]]


def test_spreadsheets_get(fake, api):
    fake.add_spreadsheet("s1", {"Responses": [["a"]], "Units": []}, time_zone="Asia/Bangkok")
    answer = api.spreadsheets().get(spreadsheetId="s1").execute()
    assert answer["properties"]["timeZone"] == "Asia/Bangkok"
    assert [s["properties"]["title"] for s in answer["sheets"]] == ["Responses", "Units"]
    assert answer["sheets"][0]["properties"]["gridProperties"] == {"rowCount": 1000, "columnCount": 26}


def test_errors_have_googles_shape(fake):
    fake.add_spreadsheet("private", {"Responses": []}, viewers={"a@example.org"})
    for path, code, status in [("v4/spreadsheets/none/values/A1", 404, "NOT_FOUND"),
                               ("v4/spreadsheets/private/values/A1", 403, "PERMISSION_DENIED"),
                               ("v4/spreadsheets/private", 403, "PERMISSION_DENIED")]:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(fake.url + path, timeout=5)
        assert err.value.code == code
        body = json.loads(err.value.read())
        assert body["error"]["code"] == code and body["error"]["status"] == status
        assert body["error"]["message"]
    fake.add_spreadsheet("s1", {"Responses": []})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(fake.url + "v4/spreadsheets/s1/values/Nope%211%3A1", timeout=5)
    assert err.value.code == 400
    assert json.loads(err.value.read())["error"]["message"] == "Unable to parse range: Nope!1:1"


def test_faults_and_request_count(fake, api):
    from googleapiclient.errors import HttpError

    fake.add_spreadsheet("s1", {"Responses": [["a"]]})
    fake.inject("status", status=429, after=1)
    request = api.spreadsheets().values().get(spreadsheetId="s1", range="A1")
    request.execute()
    with pytest.raises(HttpError) as err:
        api.spreadsheets().values().get(spreadsheetId="s1", range="A1").execute()
    assert err.value.resp.status == 429 and "Quota exceeded" in str(err.value)
    api.spreadsheets().values().get(spreadsheetId="s1", range="A1").execute()
    assert fake.request_count == 3


def test_a_range_starting_below_the_grid_is_refused_as_google_does(fake, api):
    from googleapiclient.errors import HttpError

    fake.add_spreadsheet("s1", {"Responses": [["h"], *[[f"r{i}"] for i in range(1500)]]})
    assert fake.tab("s1").row_count == 1501  # the grid grew to hold every row
    values = api.spreadsheets().values()
    inside = values.batchGet(spreadsheetId="s1", ranges=["'Responses'!1501:21500"]).execute()
    assert inside["valueRanges"][0]["range"] == "Responses!A1501:Z1501"  # ends beyond: clipped
    assert inside["valueRanges"][0]["values"] == [["r1499"]]
    with pytest.raises(HttpError) as err:
        values.batchGet(spreadsheetId="s1", ranges=["'Responses'!1:1", "'Responses'!1502:21501"]).execute()
    assert err.value.resp.status == 400
    assert json.loads(err.value.content) == {"error": {
        "code": 400, "status": "INVALID_ARGUMENT",
        "message": "Range ('Responses'!1502:21501) exceeds grid limits. Max rows: 1501, max columns: 26"}}
    with pytest.raises(HttpError) as err:
        values.get(spreadsheetId="s1", range="Responses!AA1:AB2").execute()
    assert "exceeds grid limits" in str(err.value)
    # a new tab's empty grid rows can be read: 1000 rows, whatever holds data
    fake.add_spreadsheet("s2", {"Responses": [["h"]]})
    assert "values" not in values.get(spreadsheetId="s2", range="Responses!1000:1000").execute()


def test_appends_grow_the_grid_and_deleted_rows_shrink_it(fake, api):
    fake.add_spreadsheet("s1", {"Responses": [["h"], *[[i] for i in range(998)]]})
    values = api.spreadsheets().values()
    values.append(spreadsheetId="s1", range="Responses", valueInputOption="RAW",
                  body={"values": [["a"]]}).execute()  # row 1000: the last empty grid row
    assert fake.tab("s1").row_count == 1000
    values.append(spreadsheetId="s1", range="Responses", valueInputOption="RAW",
                  body={"values": [["b"], ["c"]]}).execute()
    assert fake.tab("s1").row_count == 1002  # each row past the grid grows it
    fake.add_spreadsheet("s2", {"Responses": [["h"]]})
    values.append(spreadsheetId="s2", range="Responses", valueInputOption="RAW",
                  insertDataOption="INSERT_ROWS", body={"values": [["a"]]}).execute()
    assert fake.tab("s2").row_count == 1001 and fake.tab("s2").rows == [["h"], ["a"]]
    fake.delete_rows("s1", 2, 600)
    assert fake.tab("s1").row_count == 402 and fake.tab("s1").rows[1] == [600]


def test_spreadsheets_get_honours_the_fields_mask(fake, api):
    fake.add_spreadsheet("s1", {"Responses": [["a"]] * 1200, "Units": []}, time_zone="Asia/Bangkok")
    answer = api.spreadsheets().get(
        spreadsheetId="s1",
        fields="properties.timeZone,sheets.properties(title,gridProperties.rowCount)").execute()
    assert answer == {"properties": {"timeZone": "Asia/Bangkok"},
                      "sheets": [{"properties": {"title": "Responses", "gridProperties": {"rowCount": 1200}}},
                                 {"properties": {"title": "Units", "gridProperties": {"rowCount": 1000}}}]}
    with pytest.raises(Exception, match="Invalid field selection"):
        api.spreadsheets().get(spreadsheetId="s1", fields="sheets(properties").execute()
