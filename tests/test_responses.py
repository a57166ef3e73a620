"""Reading responses files: every row kept with its row number, odd files never a crash."""

from __future__ import annotations

import csv
import io
import unicodedata

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.cells import restore, safe
from hailong.errors import HailongError
from hailong.ingest.responses import read_responses
from hailong.score.queries import csv_bytes

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
    ("submitted_at,unit_code,q\xe11\n2024-06-12,X01,5\n".encode("latin-1"), "line 1: not UTF-8"),
    # the header is row 1 however it is broken: a quote closed mid-cell, a quote never closed
    ('submitted_at,"unit_code"x,q1\n2024-06-12,X01,5\n', "raw.csv row 1: the header cannot be read"),
    ('submitted_at,unit_code,"q1\n2024-06-12,X01,5\n', "raw.csv row 1: the header cannot be read"),
    # an export of another survey: not one of this survey's scale questions is there
    ("submitted_at,unit_code,x1,x2\n2024-06-12,X01,5,4\n",
     "raw.csv row 1: none of the survey's question columns is in the header; it needs q1, q2, q3 "
     "but has submitted_at, unit_code, x1, x2"),
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
    data = csv_bytes(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert rows[0] == ["a", "b c"]
    assert [[restore(c) for c in row] for row in rows[1:]] == frame.to_numpy().tolist()
    assert data.startswith("a,b c\nx,1\n")  # quotes only where needed
    assert csv_bytes(frame.iloc[:0]) == b"\xef\xbb\xbfa,b c\n"


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
    from hailong.ingest import responses

    def fail(*args):
        raise AssertionError("the careful reader was not needed")

    monkeypatch.setattr(responses, "careful_read", fail)
    text = HEADER + "\r\n" + ROW.format(n=1) + "\r\n\r\n\r\n"
    assert read_responses(write(tmp_path, text), survey).frame.index.tolist() == [2]


def test_header_without_a_line_end(tmp_path, survey):
    read = read_responses(write(tmp_path, HEADER), survey)
    assert read.rows_read == 0 and "q1" in read.frame.columns


def test_csv_bytes_in_slices_is_the_same_text():
    frame = pd.DataFrame({"a": pd.Series([str(i) for i in range(10)], dtype="str"),
                          "b": pd.Series(['x,"y"'] * 10, dtype="str")})
    expected = frame.to_csv(index=False, lineterminator="\n").encode("utf-8-sig")
    assert csv_bytes(frame.iloc[:3]) + csv_bytes(frame.iloc[3:]).split(b"\n", 1)[1] == csv_bytes(frame) == expected


def test_cr_only_line_ends_are_line_ends(tmp_path, survey):
    """Old Mac / Excel exports end lines with a lone CR."""
    rows = [ROW.format(n=1), ROW.format(n=2).replace(",,,", ',"dòng một\rdòng hai",,'),
            ROW.format(n=3)]
    read = read_responses(write(tmp_path, "\r".join([HEADER, *rows]) + "\r"), survey)
    assert read.columns == HEADER.split(",")
    assert read.frame.index.tolist() == [2, 3, 4] and read.malformed.empty
    assert read.frame.loc[4, "response_id"] == "r3"
    assert read.frame.loc[3, "kenh"] == "dòng một\ndòng hai"


def test_a_cell_far_over_what_collectors_take_sets_its_row_aside(tmp_path, survey):
    """Collectors take 2,000 characters; a cell of hundreds of KB is damage, and carrying it
    through score cost memory many times its size. Its row is malformed, cut for showing."""
    from hailong.ingest.records import MAX_CELL, SHOWN

    fine = "dài " * (MAX_CELL // 8)  # long, but under the cap: a cell like any other
    long = "rất dài " * 40_000  # 320 KB
    for blank in ("", "\n"):  # the fast reader, and (after a blank line) the careful one
        text = (HEADER + "\n" + ROW.format(n=1) + long + "\n" + blank + ROW.format(n=2) + fine
                + "\n" + ROW.format(n=3) + '"' + long.replace(" ", "\n") + '"\n')
        read = read_responses(write(tmp_path, text), survey)
        rows = [2, 3 + len(blank), 4 + len(blank)]
        assert read.frame.index.tolist() == [rows[1]] and read.frame.loc[rows[1], "comment"] == fine
        assert read.malformed.index.tolist() == [rows[0], rows[2]]
        for row in (rows[0], rows[2]):
            got = read.malformed.loc[row]
            assert got["response_id"] == f"r{rows.index(row) + 1}"
            assert len(got["comment"]) == SHOWN + 1 and got["comment"].endswith("…")
            assert "far longer" in got["reason"] and "raw.csv" in got["reason"], got["reason"]
        assert read.rows_read == 3
    header = HEADER + "," + "x" * 200_000  # a long header cell: one more (ignored) column
    read = read_responses(write(tmp_path, header + "\n" + ROW.format(n=1) + ",a\n"), survey)
    assert read.columns[-1] == "x" * 200_000 and read.frame.index.tolist() == [2]


def test_a_quote_that_never_closes_costs_one_line_however_long_the_file(tmp_path, survey, monkeypatch):
    from hailong.ingest import records

    monkeypatch.setattr(records, "MAX_RECORD", 4096)  # the csv module gathers no more for a record
    rows = [ROW.format(n=i) for i in range(2000)]
    rows[5] = rows[5].replace(",individual,", ',"individual,')
    text = HEADER + "\n" + "\n".join(rows) + "\n\n"
    read = read_responses(write(tmp_path, text), survey)
    assert read.malformed.index.tolist() == [7]
    assert "never closes" in read.malformed.loc[7, "reason"]
    assert len(read.frame) == 1999 and read.rows_read == 2000


def test_a_row_that_is_not_utf8_is_set_aside_not_the_file(tmp_path, survey):
    lines = [
        HEADER.encode(),
        ROW.format(n=1).encode(),                                          # 2 good
        ROW.format(n=2).replace("X01", "X\xe101").encode("latin-1"),        # 3 one bad byte
        (ROW.format(n=3) + '"dòng một\ndòng \xe1 hai"').encode("utf-8").replace(
            "\xe1".encode(), b"\xe1"),                                       # 4 bad, two lines
        ROW.format(n=4).encode(),                                          # 5 good
    ]
    read = read_responses(write(tmp_path, b"\n".join(lines) + b"\n"), survey)
    assert read.frame.index.tolist() == [2, 5]
    bad = read.malformed
    assert bad.index.tolist() == [3, 4] and read.rows_read == 4
    assert bad.loc[3, "reason"].startswith("not UTF-8 text (byte 0xe1)")
    assert bad.loc[3, "unit_code"] == "X\ufffd01"  # as read, the bad byte shown as �
    assert bad.loc[3, "response_id"] == "r2"  # still split into its cells
    assert bad.loc[4, "comment"] == "dòng một\ndòng \ufffd hai"


def test_concatenated_exports_bom_and_repeated_header(tmp_path, survey):
    """Two exports joined together: the second BOM is dropped and its header set aside."""
    first = "\ufeff" + HEADER + "\r\n" + ROW.format(n=1) + "\r\n"
    second = "\ufeff" + HEADER + "\r\n" + ROW.format(n=2) + "\r\n"
    read = read_responses(write(tmp_path, first + second), survey)
    assert read.frame.index.tolist() == [2, 4]
    assert read.frame.loc[4, "submitted_at"] == "2024-06-12T08:00:00+07:00"
    assert read.malformed.index.tolist() == [3]
    assert read.malformed.loc[3, "reason"].startswith("repeated header")
    assert read.malformed.loc[3, "q1"] == "q1"  # as read
    # a header of another export, with other columns, is named as such too
    other = HEADER.replace("q1,q2", "q2,q1")
    read = read_responses(write(tmp_path, HEADER + "\n" + other + "\n" + ROW.format(n=1) + "\n"),
                          survey)
    assert read.malformed.loc[2, "reason"].startswith("repeated header, with other columns")
    read = read_responses(write(tmp_path, HEADER + "\n" + other + ",x\n" + ROW.format(n=1) + "\n"),
                          survey)
    assert read.malformed.loc[2, "reason"].startswith("repeated header, with another number")
    assert read.frame.index.tolist() == [3]


def test_trailing_empty_cells_past_the_header_are_dropped(tmp_path, survey):
    """Excel writes one more (empty) cell on some rows; a non-empty extra cell is still wrong."""
    lines = [HEADER, ROW.format(n=1) + ",", ROW.format(n=2), ROW.format(n=3) + ", ,",
             ROW.format(n=4) + ",x"]
    read = read_responses(write(tmp_path, "\n".join(lines) + "\n"), survey)
    assert read.frame.index.tolist() == [2, 3, 4]
    assert read.frame["response_id"].tolist() == ["r1", "r2", "r3"]
    assert read.frame.loc[2, "comment"] == ""
    assert all(str(t) == "str" for t in read.frame.dtypes)
    assert read.malformed.index.tolist() == [5]
    assert "16 cells but the header has 15" in read.malformed.loc[5, "reason"]


def test_missing_question_columns_are_listed(tmp_path, survey):
    read = read_responses(write(tmp_path, "submitted_at,unit_code,q1,kenh\n2024-06-12,X01,5,\n"),
                          survey)
    assert read.missing_questions == ["q2", "q3", "gop_y"]
    assert read.frame.loc[2, "q2"] == ""
    full = read_responses(write(tmp_path, HEADER + "\n"), survey)
    assert full.missing_questions == []


def test_a_bom_inside_a_quoted_cell_is_text_not_a_joined_export(tmp_path, survey):
    """Found by the round-trip property: a comment holding a line break, a BOM and the word
    submitted_at is an answer, not the header of a second export."""
    comment = "dòng một\n\ufeffsubmitted_at, dòng hai"
    text = HEADER + "\n" + ROW.format(n=1) + '"' + comment + '"\n' + ROW.format(n=2) + "\n"
    read = read_responses(write(tmp_path, text), survey)
    assert read.malformed.empty
    assert read.frame["comment"].tolist() == [comment, ""]


CELL = st.text(alphabet=st.sampled_from(list('ab,"\r\n \t=+-@\'1.eảđ')), max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(CELL, CELL, CELL), min_size=1, max_size=12))
def test_csv_bytes_quote_and_escape_exactly_where_needed(rows):
    """Byte for byte: each cell made formula-safe, then quoted (its quotes doubled) only
    where it holds a quote, a comma, CR or LF; "\n" line ends. (The csv module leaves a lone
    CR bare, which a reader then takes for a line end; hailong quotes it.)"""
    frame = pd.DataFrame({name: pd.Series([r[i] for r in rows], dtype="str")
                          for i, name in enumerate(["a", "b", "c"])})

    def cell(text: str) -> str:
        text = safe(text)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in '",\r\n') else text

    expected = "\ufeffa,b,c\n" + "".join(",".join(cell(c) for c in r) + "\n" for r in rows)
    assert csv_bytes(frame) == expected.encode("utf-8")
    back = list(csv.reader(io.StringIO(expected[1:], newline="")))
    assert [[restore(c) for c in r] for r in back[1:]] == [list(r) for r in rows]


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 40), after=st.integers(0, 39), block=st.integers(40, 400),
       blank=st.sampled_from(["\n", "\r\n"]), crlf=st.booleans())
def test_a_blank_line_anywhere_is_seen_by_the_fast_reader(tmp_path_factory, rows, after, block,
                                                          blank, crlf):
    """The fast reader's stream watches for blank lines (pyarrow would skip them, shifting the
    row numbers) in the blocks pyarrow reads, wherever a block boundary falls."""
    from conftest import write_survey

    from hailong.ingest import records
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp_path_factory.mktemp("s") / "thu-nghiem"))
    end = "\r\n" if crlf else "\n"
    at = min(after, rows - 1)
    text = "".join(line + end for line in [HEADER, *(ROW.format(n=i) for i in range(at))])
    text += blank + "".join(ROW.format(n=i) + end for i in range(at, rows))
    path = write(tmp_path_factory.mktemp("f"), text)
    old = records.CHUNK
    records.CHUNK = block  # many small reads: the boundaries fall everywhere
    try:
        read = read_responses(path, survey)
    finally:
        records.CHUNK = old
    assert read.frame.index.tolist() == [n + 2 for n in range(at)] + [n + 3 for n in range(at, rows)]


def test_a_quote_left_open_that_swallows_rows_is_malformed(tmp_path, survey):
    """One unclosed quote in a comment used to merge the next 49 rows into one accepted
    comment. The rule: a cell holding a line break followed by a line with as many commas as
    the header has separators swallowed rows; the record is set aside whole, with the rule."""
    rows = [ROW.format(n=i) for i in range(60)]
    rows[3] = rows[3] + '"Tốt, nhưng chậm'  # opened, never closed: the rest of the file is in it
    read = read_responses(write(tmp_path, HEADER + "\n" + "\n".join(rows) + "\n"), survey)
    assert list(read.frame.index) == [2, 3, 4]  # the rows before it stay accepted
    assert list(read.malformed.index) == [5]
    reason = read.malformed.loc[5, "reason"]
    assert "not closed" in reason and "56 more lines that look like rows" in reason


def test_a_comment_over_several_lines_is_still_one_answer(tmp_path, survey):
    text = (HEADER + "\n" + ROW.format(n=1) + '"Dòng một, có dấu phẩy\nDòng hai, cũng vậy, ba, bốn"\n'
            + ROW.format(n=2) + "\n")
    read = read_responses(write(tmp_path, text), survey)
    assert list(read.frame.index) == [2, 3] and read.malformed.empty
