"""The embedded local sheet: atomic appends under concurrent writers, repair after a crash."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.collect.localsheet import append_row, read_rows, read_sheet
from hailong.csvtext import clean
from hailong.errors import HailongError

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = ["submitted_at", "response_id", "unit_code", "q1", "comment"]


def rows_of(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def test_first_append_writes_header_then_row(tmp_path):
    sheet = tmp_path / "x" / "sheet.csv"
    append_row(sheet, COLUMNS, {"response_id": "r1", "unit_code": "X01", "q1": 5, "comment": "Tốt, nhanh"})
    append_row(sheet, COLUMNS, {"response_id": "r2", "unit_code": "X02", "q1": None})
    assert rows_of(sheet) == [COLUMNS, ["", "r1", "X01", "5", "Tốt, nhanh"], ["", "r2", "X02", "", ""]]
    assert (tmp_path / "x" / "sheet.csv.lock").exists()


def test_values_are_nfc_and_keep_their_line_breaks(tmp_path):
    sheet = tmp_path / "sheet.csv"
    decomposed = unicodedata.normalize("NFD", "Hài lòng")
    append_row(sheet, COLUMNS, {"response_id": "r1", "comment": f"{decomposed}\r\ndòng hai\nba\rbốn"})
    append_row(sheet, COLUMNS, {"response_id": "r2", "comment": "dòng một\rdòng hai"})
    header, rows = read_rows(sheet)
    assert header == COLUMNS
    assert [r[4] for r in rows] == ["Hài lòng\r\ndòng hai\nba\rbốn", "dòng một\rdòng hai"]
    assert unicodedata.is_normalized("NFC", rows[0][4])


def test_unpaired_surrogate_is_replaced_not_a_failure(tmp_path):
    sheet = tmp_path / "sheet.csv"
    append_row(sheet, COLUMNS, {"response_id": "r1", "comment": "a\ud800b\udc00"})
    assert read_rows(sheet)[1][0][4] == "a\ufffdb\ufffd"


@pytest.mark.parametrize("torn", [b'2024-06-12,r-torn,X01,4,"d\xc3\xb2ng m\xe1\xbb\x99t\n',
                                  b'2024-06-12,r-torn,X01,4,"a,\r\n""b""\n', b'2024-06-12,r-t'])
def test_row_torn_inside_a_multiline_cell_is_cut(tmp_path, torn):
    sheet = tmp_path / "sheet.csv"
    append_row(sheet, COLUMNS, {"response_id": "r0", "comment": "một\nhai"})
    whole = sheet.read_bytes()
    with open(sheet, "ab") as fh:  # the writer died right after a line break inside a cell
        fh.write(torn)
    assert [r[1] for r in read_rows(sheet)[1]] == ["r0"]
    append_row(sheet, COLUMNS, {"response_id": "r1", "comment": "ba\rbốn"})
    assert sheet.read_bytes().startswith(whole)
    assert [(r[1], r[4]) for r in read_rows(sheet)[1]] == [("r0", "một\nhai"), ("r1", "ba\rbốn")]


def test_a_quote_opened_by_hand_is_refused_not_cut(tmp_path):
    sheet = tmp_path / "sheet.csv"
    append_row(sheet, COLUMNS, {"response_id": "r0"})
    with open(sheet, "ab") as fh:
        fh.write(b',r1,X01,4,"an edit that never closes\n' + b",r,X01,4,\n" * 200_000)
    size = sheet.stat().st_size
    with pytest.raises(HailongError, match="line 3: a quote opened in this row never closes"):
        read_rows(sheet)
    with pytest.raises(HailongError, match="line 3: a quote opened"):
        append_row(sheet, COLUMNS, {"response_id": "r2"})
    assert sheet.stat().st_size == size


def test_existing_header_order_is_kept(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("unit_code,response_id,extra\nX01,r0,kept\n", encoding="utf-8")
    append_row(sheet, ["response_id", "unit_code"], {"response_id": "r1", "unit_code": "X02"})
    assert rows_of(sheet)[-1] == ["X02", "r1", ""]


def test_a_column_the_sheet_lacks_is_an_error_not_a_loss(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("response_id,unit_code\nr0,X01\n", encoding="utf-8")
    with pytest.raises(HailongError, match="lacks column.*q9.*hailong pull`, then rename sheet.csv"):
        append_row(sheet, ["response_id", "unit_code", "q9"], {"response_id": "r1", "q9": "4"})
    # an empty value of a new column loses nothing, so it is accepted
    append_row(sheet, ["response_id", "unit_code", "q9"], {"response_id": "r2", "unit_code": "X1"})
    assert rows_of(sheet)[-1] == ["r2", "X1"]


def test_half_row_is_ignored_by_readers_and_cut_by_next_append(tmp_path):
    sheet = tmp_path / "sheet.csv"
    for i in range(2):
        append_row(sheet, COLUMNS, {"response_id": f"r{i}", "unit_code": "X01", "q1": "4"})
    whole = sheet.read_bytes()
    with open(sheet, "ab") as fh:  # a writer died in the middle of a row
        fh.write(b"2024-06-12T08:00:00+07:00,r-torn,X0")
    header, rows = read_rows(sheet)
    assert [r[1] for r in rows] == ["r0", "r1"]
    append_row(sheet, COLUMNS, {"response_id": "r2", "unit_code": "X03", "q1": "5"})
    assert sheet.read_bytes().startswith(whole)
    assert [r[1] for r in rows_of(sheet)[1:]] == ["r0", "r1", "r2"]


def test_torn_header_is_rewritten(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(b"submitted_at,respo")
    assert read_rows(sheet) == ([], [])
    append_row(sheet, COLUMNS, {"response_id": "r1"})
    assert rows_of(sheet) == [COLUMNS, ["", "r1", "", "", ""]]


def test_read_rows_from_a_start(tmp_path):
    sheet = tmp_path / "sheet.csv"
    for i in range(5):
        append_row(sheet, COLUMNS, {"response_id": f"r{i}"})
    assert [r[1] for r in read_rows(sheet, 3)[1]] == ["r3", "r4"]
    assert read_rows(sheet, 5)[1] == []
    with pytest.raises(HailongError, match="holds 5 rows but 6 were already pulled"):
        read_rows(sheet, 6)


def test_fingerprint_names_the_sheet_not_its_length(tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(",".join(COLUMNS) + "\n", "utf-8")
    assert read_sheet(sheet).fingerprint is None  # the header row alone
    append_row(sheet, COLUMNS, {"submitted_at": "2024-06-12T08:00:00+07:00", "response_id": "r1",
                                "comment": "Tốt, nhanh"})
    first = read_sheet(sheet).fingerprint
    assert first is not None
    append_row(sheet, COLUMNS, {"response_id": "r2"})
    with open(sheet, "ab") as fh:
        fh.write(b"2024-06-12,r-torn")
    assert read_sheet(sheet).fingerprint == first  # later rows and a torn tail change nothing
    append_row(sheet, COLUMNS, {"response_id": "r3"})
    assert read_sheet(sheet).fingerprint == first

    # a column added by hand, the header reordered, the file re-saved with CRLF: the same sheet
    header, rows = read_rows(sheet)
    lines = [",".join(["ghi_chu", *reversed(header)])]
    lines += [",".join(["", *reversed(r)]).replace("Tốt, nhanh", '"Tốt, nhanh"') for r in rows]
    edited = tmp_path / "edited.csv"
    edited.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    assert read_rows(edited)[1][0][-2] == "r1"
    assert read_sheet(edited).fingerprint == first

    # a sheet started again after this one was moved aside is another sheet
    sheet.rename(tmp_path / "sheet-old.csv")
    append_row(sheet, COLUMNS, {"submitted_at": "2024-06-13T09:00:00+07:00", "response_id": "n1"})
    assert read_sheet(sheet).fingerprint not in (None, first)


def test_read_rows_errors_are_one_line(tmp_path):
    with pytest.raises(HailongError, match="no such sheet"):
        read_rows(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"response_id,unit_code\nr1,X\xe01\n")
    with pytest.raises(HailongError, match="line 2: not UTF-8"):
        read_rows(bad)


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from hailong.collect.localsheet import append_row
    who, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cols = {columns!r}
    for i in range(n):
        # long comments make a torn or interleaved row easy to see
        append_row(path, cols, {{"response_id": f"{{who}}-{{i}}", "unit_code": who,
                                "q1": str(i % 5 + 1), "comment": (who + str(i)) * 40}})
""")


def test_concurrent_writers_in_several_processes_lose_and_tear_nothing(tmp_path):
    sheet = tmp_path / "sheet.csv"
    code = WRITER.format(root=str(ROOT), columns=COLUMNS)
    writers, per_writer = 4, 60
    procs = [
        subprocess.Popen([sys.executable, "-c", code, f"w{k}", str(per_writer), str(sheet)])
        for k in range(writers)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    table = rows_of(sheet)
    assert table[0] == COLUMNS
    rows = table[1:]
    assert len(rows) == writers * per_writer
    assert all(len(r) == len(COLUMNS) for r in rows)
    seen = {r[1] for r in rows}
    assert seen == {f"w{k}-{i}" for k in range(writers) for i in range(per_writer)}
    for r in rows:
        who, i = r[1].split("-")
        assert r[2] == who and r[3] == str(int(i) % 5 + 1) and r[4] == (who + i) * 40


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.text(st.characters(), max_size=30), min_size=5, max_size=5))
def test_any_text_round_trips(tmp_path_factory, values):
    sheet = tmp_path_factory.mktemp("sheet") / "sheet.csv"
    append_row(sheet, COLUMNS, dict(zip(COLUMNS, values, strict=True)))
    append_row(sheet, COLUMNS, {"response_id": "next"})
    header, rows = read_rows(sheet)
    assert header == COLUMNS and len(rows) == 2 and rows[1][1] == "next"
    for got, given_ in zip(rows[0], values, strict=True):
        assert got == clean(unicodedata.normalize("NFC", given_))
