"""Atomic writes: whole files and whole folders, readable by a web server."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from hailong import fsutil


def test_atomic_write_replaces_whole_file_readable_by_others(tmp_path):
    path = tmp_path / "a" / "ranking.csv"
    fsutil.atomic_write_text(path, "cũ\n")
    fsutil.atomic_write_text(path, "mới\n")
    assert path.read_text("utf-8") == "mới\n"
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044  # mkstemp alone would give 0600
    assert [p.name for p in path.parent.iterdir()] == ["ranking.csv"]


def test_replacing_dir_swaps_in_the_new_tree(tmp_path):
    final = tmp_path / "ket-qua"
    final.mkdir()
    (final / "index.html").write_text("old", "utf-8")
    with fsutil.replacing_dir(final) as tmp:
        (tmp / "index.html").write_text("new", "utf-8")
        assert (final / "index.html").read_text("utf-8") == "old"  # live site untouched so far
    assert (final / "index.html").read_text("utf-8") == "new"
    assert stat.S_IMODE(final.stat().st_mode) & 0o055 == 0o055
    assert [p.name for p in tmp_path.iterdir()] == ["ket-qua"]


def test_a_failure_leaves_the_old_tree(tmp_path):
    final = tmp_path / "ket-qua"
    final.mkdir()
    (final / "index.html").write_text("old", "utf-8")
    with pytest.raises(RuntimeError), fsutil.replacing_dir(final) as tmp:
        (tmp / "index.html").write_text("half", "utf-8")
        raise RuntimeError("renderer failed")
    assert (final / "index.html").read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ket-qua"]


@pytest.mark.skipif(not os.uname().sysname == "Linux", reason="renameat2 is Linux only")
def test_exchange_is_one_step_on_linux(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a", "utf-8")
    (b / "x").write_text("b", "utf-8")
    assert fsutil._exchange(a, b)
    assert (a / "x").read_text("utf-8") == "b" and (b / "x").read_text("utf-8") == "a"


def test_csv_text_keeps_a_cell_with_a_lone_cr_whole(tmp_path):
    import csv as csv_module
    import io

    from hailong.fsutil import atomic_write_csv, csv_text

    frame = pd.DataFrame({"id": ["a", "b", "c"], "name": ["dòng một\rdòng hai", "x\r\ny", "z"],
                          "n": [1, 2, 3]})
    path = tmp_path / "t.csv"
    atomic_write_csv(path, frame)
    with open(path, newline="", encoding="utf-8-sig") as fh:
        assert list(csv_module.reader(fh)) == [["id", "name", "n"], ["a", "dòng một\rdòng hai", "1"],
                                               ["b", "x\r\ny", "2"], ["c", "z", "3"]]
    plain = pd.DataFrame({"id": ["a"], "name": ["Hài lòng, tốt"]})
    assert csv_text(plain) == "\ufeff" + plain.to_csv(index=False, lineterminator="\n")  # BOM only
    assert pd.read_csv(io.StringIO(csv_text(frame).lstrip("\ufeff")), dtype=str)["name"].tolist() == [
        "dòng một\rdòng hai", "x\r\ny", "z"]


def test_a_file_held_open_elsewhere_is_one_line(tmp_path, monkeypatch):
    """Windows refuses to rename over a file Excel has open (a sharing violation, which Linux
    never raises): a few tries, then one line saying to close it. The refusal is simulated."""
    target = tmp_path / "ranking.csv"
    target.write_text("old")
    calls = []

    def locked(src, dst):
        calls.append(dst)
        raise PermissionError(13, "The process cannot access the file because it is being used "
                                  "by another process")

    monkeypatch.setattr(fsutil, "LOCK_RETRIES", (0, 0))
    monkeypatch.setattr(fsutil.os, "replace", locked)
    with pytest.raises(fsutil.HailongError, match=r"ranking.csv: cannot write it, another program "
                                                  r"holds it open .* close it in Excel"):
        fsutil.atomic_write_text(target, "new")
    monkeypatch.undo()
    assert len(calls) == 3 and target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ranking.csv"]  # no temporary file left
