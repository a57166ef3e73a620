"""hailong.csvtext: one record per row whatever the cells hold; where the whole records end."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from hailong import csvtext

SPECIAL = st.sampled_from(["\r", "\n", "\r\n", '"', ",", "\t", "\x00", "\x85", "\u2028",
                           "\ud800", "\udfff", "\ud83d\ude00", " "])
TEXT = st.lists(st.characters() | SPECIAL, max_size=20).map("".join)
ROWS = st.lists(st.lists(TEXT, min_size=1, max_size=5), max_size=6)


def parse(data: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data, newline=""), strict=True))


@given(ROWS)
def test_rows_read_back_exactly_with_the_csv_module(rows):
    rows = [[csvtext.clean(c) for c in row] for row in rows]
    assert parse("".join(csvtext.line(r) for r in rows)) == rows


@given(st.lists(st.text(st.characters(blacklist_characters="\r"), max_size=20), min_size=1,
                max_size=5))
def test_same_bytes_as_the_csv_module_where_it_was_right(cells):
    """Files written before keep their bytes: only a cell with a CR is written differently."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    assert csvtext.line(cells) == buf.getvalue()


def test_a_lone_cr_is_quoted():
    assert csvtext.line(["dòng một\rdòng hai", "x"]) == '"dòng một\rdòng hai",x\n'


@given(ROWS, st.binary(max_size=40))
def test_record_end_and_records_find_the_whole_records(rows, junk):
    rows = [[csvtext.clean(c) for c in row] for row in rows]
    whole = "".join(csvtext.line(r) for r in rows).encode("utf-8")
    torn = b'"' + junk.replace(b'"', b"")  # a row cut inside a quoted cell
    for data in (whole, whole + torn, whole + junk.replace(b'"', b"").replace(b"\n", b"")):
        assert csvtext.record_end(data) == len(whole)
        assert list(csvtext.records(data)) == [csvtext.line(r).encode("utf-8")[:-1] for r in rows]


def test_clean_replaces_only_unpaired_surrogates():
    assert csvtext.clean("Hài lòng") == "Hài lòng"
    assert csvtext.clean("a\ud800b\udfff") == "a\ufffdb\ufffd"
    assert csvtext.clean("\ud83d\ude00") == "\U0001f600"


@given(ROWS, st.integers(1, 64))
def test_digest_counts_records_not_lines_at_any_block_size(tmp_path_factory, rows, block):
    """csvtext.digest: the records after the header and the SHA-256, whatever line breaks and
    quotes the cells hold and wherever the blocks it reads split them."""
    import hashlib

    rows = [[csvtext.clean(c) for c in row] for row in rows]
    data = ("\ufeff" + "".join(csvtext.line(r) for r in [["head"], *rows])).encode("utf-8")
    path = tmp_path_factory.mktemp("d") / "f.csv"
    path.write_bytes(data)
    assert csvtext.digest(path, block=block) == (len(rows), hashlib.sha256(data).hexdigest())
    starts = csvtext.record_lines(data)
    text = data.decode("utf-8")
    for r in range(len(rows) + 1):  # each record starts on the line an editor shows
        before = text.split("\n")[: starts[r] - 1]
        assert len(parse("\n".join(before) + ("\n" if before else ""))) == r


def test_digest_of_a_file_without_its_last_line_end(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1,2\n3,4")
    assert csvtext.digest(path)[0] == 2
    path.write_bytes(b"")
    assert csvtext.digest(path)[0] == 0
