"""hailong.toml: targets read once, defaults filled, every mistake one line naming the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hailong.errors import HailongError
from hailong.publish.deploy.settings import KINDS, choose, is_remote, load_targets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hailong.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_targets_with_defaults_and_paths_from_the_file(tmp_path):
    cfg = write(tmp_path, """
[site]
title = "another feature's table is left alone"

[deploy.pages]
kind = "git"
repo = "git@github.com:example/khaosat.git"

[deploy.tinh]
kind = "rsync"
dest = "hailong@web.example.gov.vn:/srv/khaosat"
keep = 3
ssh = "ssh -p 2222"

[deploy.may-chu]
kind = "folder"
dest = "www"
""")
    targets = load_targets(cfg)
    assert list(targets) == ["pages", "tinh", "may-chu"]
    assert targets["pages"]["branch"] == "gh-pages" and targets["pages"]["nojekyll"] is True
    assert targets["tinh"]["keep"] == 3 and targets["tinh"]["options"] == []
    assert targets["may-chu"]["keep"] == KINDS["folder"]["keep"].default
    assert targets["may-chu"].local_path("www") == tmp_path.resolve() / "www"
    assert choose(targets, "tinh").kind == "rsync"


@pytest.mark.parametrize("text, words", [
    ("", ["chưa có đích nào", "[deploy.<tên>]"]),
    ("[deploy.a]\nkind = \"ftp\"\n", ["kind phải là", "'ftp'"]),
    ("[deploy.a]\nkind = \"git\"\n", ["thiếu 'repo'"]),
    ("[deploy.a]\nkind = \"git\"\nrepo = \"  \"\n", ["'repo' không được để trống"]),
    ("[deploy.a]\nkind = \"rsync\"\ndest = \"x\"\nkep = 3\n", ["khóa lạ 'kep'", "'keep'"]),
    ("[deploy.a]\nkind = \"folder\"\ndest = \"x\"\nkeep = \"5\"\n", ["keep phải là số nguyên"]),
    ("[deploy.a]\nkind = \"folder\"\ndest = \"x\"\nkeep = 1\n", ["keep phải từ 2"]),
    ("[deploy.a]\nkind = \"rsync\"\ndest = \"x\"\noptions = [1]\n", ["mỗi mục phải là chữ"]),
    ("[deploy.a]\nkind = \"git\"\nrepo = \"r\"\nnojekyll = 1\n", ["true hoặc false"]),
    ("[deploy]\nkind = \"git\"\n", ["[deploy.kind]"]),
    ("[deploy.a\n", ["dòng 1, cột 10", "thiếu dấu ] đóng"]),
])
def test_mistakes_are_one_line_with_the_fix(tmp_path, text, words, vietnamese):
    with pytest.raises(HailongError) as err:
        load_targets(write(tmp_path, text))
    message = str(err.value)
    assert "\n" not in message.strip()
    for word in words:
        assert word in message


def test_missing_file_and_choosing_a_target(tmp_path, vietnamese):
    with pytest.raises(HailongError, match="không tìm thấy tệp cấu hình.*--config"):
        load_targets(tmp_path / "nothing.toml")
    cfg = write(tmp_path, '[deploy.a]\nkind = "folder"\ndest = "x"\n'
                          '[deploy.b]\nkind = "folder"\ndest = "y"\n')
    targets = load_targets(cfg)
    with pytest.raises(HailongError, match="2 đích \\(a, b\\).*--target"):
        choose(targets, None)
    with pytest.raises(HailongError, match="không có đích 'c'"):
        choose(targets, "c")
    only = {"a": targets["a"]}
    assert choose(only, None).name == "a"


@pytest.mark.parametrize("where, remote", [
    ("git@github.com:example/khaosat.git", True),
    ("https://gitlab.com/x/y.git", True),
    ("hailong@web.example.gov.vn:/srv/khaosat", True),
    ("web:srv", True),
    ("/srv/khaosat", False),
    ("releases/a:b", False),
    ("C:/www", False),
    ("www", False),
])
def test_remote_or_local(where, remote):
    assert is_remote(where) is remote


@given(st.lists(st.text("abc/_-.", min_size=1), min_size=1, max_size=4))
def test_a_path_that_starts_with_a_slash_is_never_remote(parts):
    assert not is_remote("/" + ":".join(parts))


def test_the_shipped_example_loads_and_shows_every_setting():
    example = Path(__file__).resolve().parent.parent / "deploy" / "hailong.toml.example"
    targets = load_targets(example)
    assert sorted(t.kind for t in targets.values()) == ["folder", "git", "rsync"]
    text = example.read_text(encoding="utf-8")
    for kind, schema in KINDS.items():
        (target,) = [t for t in targets.values() if t.kind == kind]
        block = text.split(f"[deploy.{target.name}]", 1)[1].split("[deploy.", 1)[0]
        for key in schema:
            assert f"\n{key} = " in block, (kind, key)
