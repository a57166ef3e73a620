"""Atomic writes: whole files and whole folders, readable by a web server."""

from __future__ import annotations

import os
import stat

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
