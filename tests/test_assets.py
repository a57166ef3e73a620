"""Static files under content-hashed names (templating.asset, collect.assets.sync_static)."""

from __future__ import annotations

import hashlib

from hailong.collect import assets
from hailong.templating import STATIC, asset, static_name


def test_names_carry_the_hash_of_the_content():
    for path in STATIC.iterdir():
        name = static_name(path.name)
        stem, digest, ext = name.rsplit(".", 2)
        assert f"{stem}.{ext}" == path.name
        assert digest == hashlib.sha256(path.read_bytes()).hexdigest()[:len(digest)]
        assert asset(path.name) == "static/" + name


def test_sync_writes_current_names_and_clears_old_ones(tmp_path):
    site = tmp_path / "site"
    old = site / "static"
    old.mkdir(parents=True)
    (old / "survey.js").write_text("old plain name")
    (old / "survey.0123abcd.js").write_text("an older version")
    (old / "ban-do.png").write_bytes(b"someone else's file")
    assets.sync_static(site, clear=False)  # publish: adds, removes nothing
    assert (old / "survey.js").exists() and (old / "survey.0123abcd.js").exists()
    assets.sync_static(site)  # build: the old names go
    names = sorted(p.name for p in old.iterdir())
    assert names == sorted([*assets.shipped_static(), "ban-do.png"])
    shipped = assets.shipped_static()
    for name, data in shipped.items():
        assert (old / name).read_bytes() == data
    assert b"\n  " not in shipped[static_name("results.js")]  # minified
    assert assets.sync_static(site) == 0  # nothing changed, nothing written
