"""Reading responses files: every row kept with its row number, odd files never a crash."""

from __future__ import annotations

import csv
import io
import unicodedata

import pandas as pd
import pytest

from hailong.errors import HailongError
from hailong.responses import csv_bytes, read_responses

HEADER = ("submitted_at,response_id,survey_id,unit_code,respondent_type,respondent_key,device_id,"
          "ticket,started_at,q1,q2,q3,kenh,gop_y,comment")
ROW = "2024-06-12T08:00:00+07:00,r{n},thu-nghiem,X01,individual,,d{n},,,5,4,3,,,"


def write(tmp_path, text: str | bytes, name="raw.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_clean_file_keeps_row_numbers_and_text(tmp_path, survey):
    text = HEADER + "\n" + "\n".join(ROW.format(n=i) for i in range(3)) + "\n"
    read = read_responses(write(tmp_path, text), survey)
    assert list(read.frame.index) == [2, 3, 4]
    assert read.frame.loc[3, "response_id"] == "r1"
    assert read.frame.loc[2, "q3"] == "3"
    assert all(str(t) == "str" for t in read.frame.dtypes)
    assert read.rows_read == 3
    assert read.malformed.empty
    assert read.columns == HEADER.split(",")


def test_any_column_order_extra_columns_missing_columns(tmp_path, survey):
    text = "Unit_Code , ghi_chu_noi_bo,SUBMITTED_AT,q1\nx01,ok,2024-06-12 08:00,5\n"
    read = read_responses(write(tmp_path, text), survey)
    assert read.columns == ["unit_code", "ghi_chu_noi_bo", "submitted_at", "q1"]
    row = read.frame.loc[2]
    assert row["unit_code"] == "x01" and row["ghi_chu_noi_bo"] == "ok" and row["q1"] == "5"
    # canonical columns the file lacks are there, empty
    assert row["response_id"] == "" and row["q3"] == ""


def test_bom_crlf_and_decomposed_vietnamese(tmp_path, survey):
    nfd = unicodedata.normalize("NFD", "Người quen")
    assert nfd != "Người quen"
    text = "\ufeff" + HEADER + "\r\n" + ROW.format(n=1).replace(
        "3,,,", f"3,{nfd},,") + "\r\n"
    read = read_responses(write(tmp_path, text), survey)
    assert read.columns[0] == "submitted_at"
    assert read.frame.loc[2, "kenh"] == "Người quen"
    assert read.frame.loc[2, "comment"] == ""  # no stray \r


def test_quoted_commas_and_newlines_stay_in_their_cell(tmp_path, survey):
    text = HEADER + "\n" + ROW.format(n=1) + '"Tốt, nhanh\ndòng hai"\n' + ROW.format(n=2) + "\n"
    read = read_responses(write(tmp_path, text), survey)
    assert read.frame.loc[2, "comment"] == "Tốt, nhanh\ndòng hai"
    assert list(read.frame.index) == [2, 3]  # a spreadsheet row, not a physical line


def test_malformed_rows_become_quarantine_rows(tmp_path, survey):
    lines = [
        HEADER,
        ROW.format(n=1),                       # 2 good
        ROW.format(n=2) + ",extra,cells",      # 3 too many cells
        "2024-06-12T08:00:00+07:00,r3,,X01",   # 4 too few
        "",                                    # 5 blank line: not a response
        ROW.format(n=4).replace(",d4,", ',"d4,'),  # 6 a quote never closed
        ROW.format(n=5),                       # 7 good again
    ]
    read = read_responses(write(tmp_path, "\n".join(lines) + "\n"), survey)
    assert list(read.frame.index) == [2, 7]
    bad = read.malformed
    assert list(bad.index) == [3, 4, 6]
    assert "17 cells but the header has 15" in bad.loc[3, "reason"]
    assert bad.loc[3, "comment"] == ",extra,cells"  # nothing thrown away
    assert "4 cells" in bad.loc[4, "reason"]
    assert "quote" in bad.loc[6, "reason"]
    assert read.rows_read == 5


def test_broken_quote_at_end_of_file(tmp_path, survey):
    text = HEADER + "\n" + ROW.format(n=1) + '\n2024-06-12,"r2,X01\n'
    read = read_responses(write(tmp_path, text), survey)
    assert list(read.frame.index) == [2]
    assert list(read.malformed.index) == [3]


def test_header_only_file_has_no_rows(tmp_path, survey):
    read = read_responses(write(tmp_path, HEADER + "\n"), survey)
    assert read.rows_read == 0 and read.frame.empty


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("", "empty"),
    ("response_id,q1\nr1,5\n", "missing column(s) submitted_at, unit_code"),
    ("submitted_at,unit_code,unit_code\n", "appears twice"),
    ("submitted_at,unit_code\n2024-06-12,X\xe101\n".encode("latin-1"), "line 2: not UTF-8"),
])
def test_unreadable_files_are_one_line_errors(tmp_path, survey, content, message):
    path = tmp_path / "raw.csv"
    if content is not None:
        write(tmp_path, content)
    with pytest.raises(HailongError) as err:
        read_responses(path, survey)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_csv_bytes_round_trips_through_the_csv_module():
    frame = pd.DataFrame({
        "a": pd.Series(["x", "y,z", 'q"r', "", "ả"], dtype="str"),
        "b c": pd.Series(["1", "", "ả\nb", "\r", " s "], dtype="str"),
    })
    data = csv_bytes(frame).decode("utf-8")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[0] == ["a", "b c"]
    assert rows[1:] == frame.to_numpy().tolist()
    assert data.startswith("a,b c\nx,1\n")  # quotes only where needed
    assert csv_bytes(frame.iloc[:0]) == b"a,b c\n"


def test_both_readers_give_the_same_rows(tmp_path, survey, monkeypatch):
    """A clean file (pyarrow) and the same file with a blank line in it (csv module first)
    read alike, except for the row numbers the blank line shifts."""
    body = [ROW.format(n=i) for i in range(4)]
    body[1] = body[1] + '"Tốt, nhanh\nđúng hẹn"'
    clean = read_responses(write(tmp_path, HEADER + "\n" + "\n".join(body) + "\n", "a.csv"), survey)
    blank = read_responses(
        write(tmp_path, HEADER + "\n" + "\n".join(body[:2] + [""] + body[2:]) + "\n", "b.csv"), survey)
    assert clean.frame.index.tolist() == [2, 3, 4, 5]
    assert blank.frame.index.tolist() == [2, 3, 5, 6]
    pd.testing.assert_frame_equal(clean.frame.reset_index(drop=True),
                                  blank.frame.reset_index(drop=True))


def test_trailing_blank_lines_keep_the_fast_reader(tmp_path, survey, monkeypatch):
    from hailong import responses

    def fail(*args):
        raise AssertionError("the careful reader was not needed")

    monkeypatch.setattr(responses, "_careful_read", fail)
    text = HEADER + "\r\n" + ROW.format(n=1) + "\r\n\r\n\r\n"
    assert read_responses(write(tmp_path, text), survey).frame.index.tolist() == [2]


def test_header_without_a_line_end(tmp_path, survey):
    read = read_responses(write(tmp_path, HEADER), survey)
    assert read.rows_read == 0 and "q1" in read.frame.columns


def test_csv_bytes_in_slices_is_the_same_text():
    frame = pd.DataFrame({"a": pd.Series([str(i) for i in range(10)], dtype="str"),
                          "b": pd.Series(['x,"y"'] * 10, dtype="str")})
    expected = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert csv_bytes(frame, chunk_rows=3) == csv_bytes(frame) == expected
