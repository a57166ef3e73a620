"""RawStore: raw.csv holds every pulled row once, whatever crash or hand edit came before."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hailong.ingest.rawstore as rawstore
from hailong.errors import HailongError
from hailong.ingest.rawstore import RawStore
from hailong.layout import Layout

COLUMNS = ["submitted_at", "response_id", "unit_code", "q1", "comment"]


class Crash(Exception):
    """Stands for the process dying at that point."""


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout(tmp_path / "out", "thu-nghiem")


def block(start: int, n: int, columns=COLUMNS) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):
        values = {"submitted_at": f"2024-06-12T08:{i % 60:02d}:00+07:00", "response_id": f"r{i}",
                  "unit_code": "X01", "q1": str(i % 5 + 1), "comment": f"Hài lòng, lần {i}",
                  "ghi_chu": f"thêm {i}"}
        rows.append([values[c] for c in columns])
    return rows


def table(layout: Layout) -> list[dict[str, str]]:
    with open(layout.raw_csv, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def ids(layout: Layout) -> list[str]:
    return [r["response_id"] for r in table(layout)]


def test_appends_are_counted_per_source_and_survive_reopening(layout):
    store = RawStore(layout, COLUMNS)
    assert store.append("a", COLUMNS, block(0, 3)) == 3
    assert store.append("b", COLUMNS, block(3, 2)) == 2
    again = RawStore(layout, COLUMNS)
    assert again.sources() == {"a": 3, "b": 2}
    assert again.append("a", COLUMNS, block(5, 1)) == 1
    assert ids(layout) == ["r0", "r1", "r2", "r3", "r4", "r5"]
    assert table(layout)[0]["comment"] == "Hài lòng, lần 0"
    state = json.loads(layout.pull_state.read_text("utf-8"))
    assert state["raw_bytes"] == layout.raw_csv.stat().st_size and "pending" not in state


def test_torn_block_is_cut_before_the_next_append(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    good = layout.raw_csv.read_bytes()
    with open(layout.raw_csv, "ab") as fh:  # a pull died while writing its next block
        fh.write(b"2024-06-12T08:02:00+07:00,r2,X01,3,H\xc3")
    store = RawStore(layout, COLUMNS)
    assert layout.raw_csv.read_bytes() == good
    store.append("a", COLUMNS, block(2, 1))
    assert ids(layout) == ["r0", "r1", "r2"]


def test_whole_block_written_but_state_not_saved_is_cut(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    before = layout.pull_state.read_text("utf-8")
    store.append("a", COLUMNS, block(2, 2))
    layout.pull_state.write_text(before, "utf-8")  # the state save never happened
    store = RawStore(layout, COLUMNS)
    assert store.rows_from("a") == 2 and ids(layout) == ["r0", "r1"]
    store.append("a", COLUMNS, block(2, 2))
    assert ids(layout) == ["r0", "r1", "r2", "r3"]


def test_raw_csv_with_rows_but_no_state_is_refused_untouched(layout):
    # issue H3a: the state was deleted; cutting raw.csv to "0 bytes held" would wipe 457 rows
    RawStore(layout, COLUMNS).append("a", COLUMNS, block(0, 457))
    data = layout.raw_csv.read_bytes()
    layout.pull_state.unlink()
    with pytest.raises(HailongError, match="pull-state.json beside it is missing.*move raw.csv aside"):
        RawStore(layout, COLUMNS)
    assert layout.raw_csv.read_bytes() == data


def test_raw_csv_with_only_a_header_and_no_state_is_started_afresh(layout):
    layout.data.mkdir(parents=True)
    layout.raw_csv.write_text(",".join(COLUMNS) + "\n", "utf-8")
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    assert ids(layout) == ["r0", "r1"]
    assert layout.raw_csv.read_text("utf-8-sig").count(",".join(COLUMNS)) == 1


def test_deleted_raw_csv_means_nothing_is_held(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    layout.raw_csv.unlink()
    store = RawStore(layout, COLUMNS)
    assert store.sources() == {} and store.rows_from("a") == 0


def test_raw_csv_resaved_with_windows_line_ends_is_refused_untouched(layout):
    # issue H3b: cutting a CRLF copy at the old size would glue two rows together
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 40))
    crlf = layout.raw_csv.read_bytes().replace(b"\n", b"\r\n")
    layout.raw_csv.write_bytes(crlf)
    with pytest.raises(HailongError, match="changed since the last pull.*move raw.csv aside"):
        RawStore(layout, COLUMNS)
    assert layout.raw_csv.read_bytes() == crlf


def test_rows_deleted_or_edited_by_hand_are_refused(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 5))
    data = layout.raw_csv.read_bytes()
    layout.raw_csv.write_bytes(data[: data.rindex(b"\n", 0, data.rindex(b"r3,")) + 1])  # rows deleted
    with pytest.raises(HailongError, match="changed since the last pull"):
        RawStore(layout, COLUMNS)
    layout.raw_csv.write_bytes(data.replace(b"r4,X01,5", b"r4,X01,1"))  # same size, one answer edited
    with pytest.raises(HailongError, match="changed since the last pull"):
        RawStore(layout, COLUMNS)
    layout.raw_csv.write_bytes(data.replace(b"r4,X01,5", b"r4,X01,1") + b"r9,X0")  # edited + torn
    with pytest.raises(HailongError, match="changed since the last pull"):
        RawStore(layout, COLUMNS)
    layout.raw_csv.write_bytes(data)
    assert RawStore(layout, COLUMNS).rows_from("a") == 5


def test_a_state_from_before_tail_hashes_is_trusted_only_on_an_exact_fit(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 3))
    state = json.loads(layout.pull_state.read_text("utf-8"))
    del state["tail"]
    layout.pull_state.write_text(json.dumps(state), "utf-8")
    assert RawStore(layout, COLUMNS).rows_from("a") == 3
    with open(layout.raw_csv, "ab") as fh:
        fh.write(b"2024,r3,X0")
    with pytest.raises(HailongError, match="changed since the last pull"):
        RawStore(layout, COLUMNS)


def test_unreadable_state_is_one_clear_error(layout):
    layout.data.mkdir(parents=True)
    layout.pull_state.write_text("{not json", "utf-8")
    with pytest.raises(HailongError, match="unreadable pull state"):
        RawStore(layout, COLUMNS)


def test_new_column_widens_the_header_and_keeps_old_rows(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    wider = [*COLUMNS, "ghi_chu"]
    store.append("b", wider, block(2, 2, wider))
    rows = table(layout)
    assert list(rows[0]) == wider
    assert [(r["response_id"], r["ghi_chu"]) for r in rows] == [
        ("r0", ""), ("r1", ""), ("r2", "thêm 2"), ("r3", "thêm 3")]


def saves_failing_at(monkeypatch, n: int) -> None:
    """Make the n-th state save from now on die before it writes anything."""
    real = RawStore._save_state
    calls = {"n": 0}

    def save(self):
        calls["n"] += 1
        if calls["n"] == n:
            raise Crash(f"save {n}")
        real(self)

    monkeypatch.setattr(RawStore, "_save_state", save)


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_crash_at_any_state_save_while_widening_the_header_loses_nothing(layout, monkeypatch, fail_at):
    # issue M1: save 1 journals the new header, save 2 commits it, save 3 counts the new rows
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 30))
    wider = [*COLUMNS, "ghi_chu"]
    saves_failing_at(monkeypatch, fail_at)
    with pytest.raises(Crash):
        RawStore(layout, COLUMNS).append("b", wider, block(30, 3, wider))
    monkeypatch.undo()
    store = RawStore(layout, COLUMNS)  # the next pull
    assert store.rows_from("a") == 30 and store.rows_from("b") == 0
    store.append("b", wider, block(30, 3, wider))
    rows = table(layout)
    assert [r["response_id"] for r in rows] == [f"r{i}" for i in range(33)]
    assert all(len(r) == len(wider) and None not in r for r in rows)
    assert rows[31]["ghi_chu"] == "thêm 31" and rows[29]["ghi_chu"] == ""


@pytest.mark.parametrize("fail_at", [1, 2, 3])
def test_crash_at_any_state_save_of_the_first_pull_loses_nothing(layout, monkeypatch, fail_at):
    saves_failing_at(monkeypatch, fail_at)
    with pytest.raises(Crash):
        RawStore(layout, COLUMNS).append("a", COLUMNS, block(0, 3))
    monkeypatch.undo()
    store = RawStore(layout, COLUMNS)
    assert store.rows_from("a") == 0
    store.append("a", COLUMNS, block(0, 3))
    assert ids(layout) == ["r0", "r1", "r2"]


def test_crash_while_replacing_the_file_keeps_the_old_one(layout, monkeypatch):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 3))
    before = layout.raw_csv.read_bytes()

    def dies(path, data):
        raise Crash("replace")

    monkeypatch.setattr(rawstore, "atomic_write_bytes", dies)
    wider = [*COLUMNS, "ghi_chu"]
    with pytest.raises(Crash):
        RawStore(layout, COLUMNS).append("b", wider, block(3, 1, wider))
    monkeypatch.undo()
    assert "pending" in json.loads(layout.pull_state.read_text("utf-8"))
    store = RawStore(layout, COLUMNS)
    assert layout.raw_csv.read_bytes() == before
    assert "pending" not in json.loads(layout.pull_state.read_text("utf-8"))
    store.append("b", wider, block(3, 1, wider))
    assert ids(layout) == ["r0", "r1", "r2", "r3"]


# Each step appends one block; it may first die in one of these ways, then the pull is run again.
CRASHES = st.sampled_from(["none", "torn", "save-1", "save-2", "save-3"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.integers(0, 6), st.booleans(), CRASHES, st.floats(0, 1)),
                      min_size=1, max_size=6))
def test_any_crashes_then_reruns_hold_every_row_once(tmp_path_factory, steps):
    layout = Layout(tmp_path_factory.mktemp("out"), "thu-nghiem")
    expected: list[dict[str, str]] = []
    start = 0
    real_save = RawStore._save_state
    for n, extra, crash, fraction in steps:
        columns = [*COLUMNS, "ghi_chu"] if extra else COLUMNS
        rows = block(start, n, columns)
        if crash == "torn" and layout.raw_csv.exists():  # the last pull died mid-write
            text = "".join(f"{','.join(r)}\n" for r in rows).encode("utf-8")
            with open(layout.raw_csv, "ab") as fh:
                fh.write(text[: int(len(text) * fraction)])
        store = RawStore(layout, COLUMNS)
        if crash.startswith("save"):
            calls = {"n": 0}

            def save(self, stop=int(crash[-1]), calls=calls):
                calls["n"] += 1
                if calls["n"] == stop:
                    raise Crash(f"save {stop}")
                real_save(self)

            store._save_state = save.__get__(store)
            try:
                store.append("s", columns, rows)
            except Crash:
                pass
            store = RawStore(layout, COLUMNS)  # the rerun
            have = store.rows_from("s")
            assert have in (len(expected), len(expected) + n)
            if have > len(expected):  # the crash came after the count was saved: nothing to redo
                expected += [dict(zip(columns, r, strict=True)) for r in rows]
                start += n
                continue
            store = RawStore(layout, COLUMNS)
        store.append("s", columns, rows)
        expected += [dict(zip(columns, r, strict=True)) for r in rows]
        start += n
    assert RawStore(layout, COLUMNS).rows_from("s") == len(expected)
    if layout.raw_csv.exists():
        got = table(layout)
        assert all(None not in row and None not in row.values() for row in got)  # no ragged rows
        assert [{k: v for k, v in row.items() if v} for row in got] == expected


AWKWARD = ["dòng một\rdòng hai", "a\r\nb\nc", '"trích", dẫn', "tab\there", "nul\x00byte",
           "\x0bform\x0cfeed\x1c\x85\u2028\u2029", "", ",", '"', "\r", "\n"]


def test_any_text_is_one_record_even_after_the_header_widens(layout):
    """A lone CR was written unquoted, so readers split the row; widening the header then
    re-read such rows with the csv module and wrote them back as two records."""
    store = RawStore(layout, COLUMNS)
    rows = [[f"2024-06-12T08:00:0{i % 10}+07:00", f"r{i}", "X01", "4", text]
            for i, text in enumerate(AWKWARD)]
    store.append("a", COLUMNS, rows)
    assert [r["comment"] for r in table(layout)] == AWKWARD
    wider = [*COLUMNS, "ghi_chu"]
    store.append("a", wider, [["2024-06-12T09:00:00+07:00", "new", "X01", "5", "x\ry", "z\r"]])
    got = table(layout)
    assert len(got) == len(AWKWARD) + 1 == store.rows_from("a")
    assert [r["comment"] for r in got] == [*AWKWARD, "x\ry"]
    assert [r["ghi_chu"] for r in got] == [""] * len(AWKWARD) + ["z\r"]
    assert RawStore(layout, COLUMNS).rows_from("a") == len(AWKWARD) + 1  # the state still fits


def test_unpaired_surrogate_from_json_is_replaced_not_a_traceback(layout):
    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, [["2024-06-12T08:00:00+07:00", "r1", "X01", "4", "x\ud83dy"]])
    assert table(layout)[0]["comment"] == "x\ufffdy"


def test_raw_csv_starts_with_a_bom_and_one_without_is_still_recognised(layout):
    """Every CSV hailong writes starts with a BOM; a raw.csv a pull wrote before that has none,
    and is still the file its state describes: appended to, not refused, never cut."""
    from hailong.cells import BOM_BYTES

    store = RawStore(layout, COLUMNS)
    store.append("a", COLUMNS, block(0, 2))
    data = layout.raw_csv.read_bytes()
    assert data.startswith(BOM_BYTES + ",".join(COLUMNS).encode() + b"\n")
    # the same file as an older pull left it: no BOM, and the state's sizes without it
    layout.raw_csv.write_bytes(data[len(BOM_BYTES):])
    state = json.loads(layout.pull_state.read_text("utf-8"))
    state["raw_bytes"] -= len(BOM_BYTES)
    state["tail"] = rawstore._digest(data[len(BOM_BYTES):][-rawstore.TAIL_BYTES:])
    layout.pull_state.write_text(json.dumps(state), "utf-8")
    older = RawStore(layout, COLUMNS)
    assert older.append("a", COLUMNS, block(2, 1)) == 1
    assert ids(layout) == ["r0", "r1", "r2"]
    assert layout.raw_csv.read_bytes().startswith(b"submitted_at,")  # appended to, as it was


def test_a_header_cell_with_an_unpaired_surrogate_is_no_traceback(layout):
    store = RawStore(layout, COLUMNS)
    wider = [*COLUMNS, "ghi\ud800chu"]
    store.append("a", wider, [["2024-06-12T08:00:00+07:00", "r1", "X01", "4", "", "x"]])
    assert list(table(layout)[0]) == [*COLUMNS, "ghi\ufffdchu"]
    assert RawStore(layout, COLUMNS).rows_from("a") == 1
