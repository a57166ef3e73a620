"""What may leave the machine, and the release numbering shared by the rsync and folder targets."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from site_fixture import SID, make_site

from hailong.errors import HailongError
from hailong.publish.deploy.common import check_site, next_name, releases_of


def test_the_site_alone_is_listed(tmp_path):
    site = make_site(tmp_path)
    checked = check_site(tmp_path, [SID])
    assert checked.root == site
    assert f"{SID}/ket-qua/ranking.csv" in checked.files  # the public download is allowed
    assert not any("data/" in f or f.endswith("sheet.csv") for f in checked.files)
    assert len(checked.files) == 6


@pytest.mark.parametrize("plant, words", [
    (f"{SID}/data/responses.csv", ["data", "thư mục dữ liệu riêng"]),
    (f"{SID}/links/a.html", ["links", "thư mục dữ liệu riêng"]),
    (f"{SID}/tickets/slips.pdf", ["tickets"]),
    ("sheet.csv", ["tệp dữ liệu riêng"]),
    (f"{SID}/ket-qua/quarantine.csv", ["tệp dữ liệu riêng"]),
    (f"{SID}/sample.xlsx", ["tệp dữ liệu riêng"]),
    ("static/key.json", ["khóa bí mật"]),
    (".git/config", ["kho git"]),
])
def test_a_private_file_planted_in_the_site_stops_the_deploy(tmp_path, plant, words, vietnamese):
    site = make_site(tmp_path)
    (site / plant).parent.mkdir(parents=True, exist_ok=True)
    (site / plant).write_text('{"type": "service_account", "private_key": "-----BEGIN"}')
    with pytest.raises(HailongError) as err:
        check_site(tmp_path, [SID])
    message = str(err.value)
    assert message.startswith(str(site / plant.split("/")[0]))
    assert "không gửi gì cả" in message
    for word in words:
        assert word in message


def test_links_and_special_files_are_refused(tmp_path, vietnamese):
    site = make_site(tmp_path)
    os.symlink(tmp_path / SID / "data" / "responses.csv", site / "page.html")
    with pytest.raises(HailongError, match="symlink"):
        check_site(tmp_path, [SID])
    (site / "page.html").unlink()
    os.mkfifo(site / "pipe")
    with pytest.raises(HailongError, match="không phải tệp thường"):
        check_site(tmp_path, [SID])


def test_the_signing_key_never_leaves(tmp_path, monkeypatch, vietnamese):
    site = make_site(tmp_path)
    monkeypatch.setenv("HAILONG_SIGNING_KEY", "k3y-of-the-province-2024")
    (site / "static" / "debug.txt").write_text("key=k3y-of-the-province-2024")
    with pytest.raises(HailongError, match="chứa khóa bí mật"):
        check_site(tmp_path, [SID])


def test_a_site_without_the_surveys_pages(tmp_path, vietnamese):
    with pytest.raises(HailongError, match="chưa có trang để đưa lên; chạy hailong build"):
        check_site(tmp_path, [SID])
    make_site(tmp_path)
    with pytest.raises(HailongError, match="chưa có trang của khảo sát 'khac'"):
        check_site(tmp_path, [SID, "khac"])


def test_release_numbers_order_the_releases_whatever_the_clock_says():
    later = dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC)
    first = next_name([], later)
    assert first == "0001-20261201T073000Z"
    earlier = later - dt.timedelta(days=400)  # a server clock reset to an old date
    second = next_name([first], earlier)
    assert releases_of([second, first, ".tmp-0003-20261201T073000Z", "notes.txt"]) == [first, second]
    tenth = [f"{n:04d}-20261201T073000Z" for n in range(1, 11)]
    assert releases_of(reversed(tenth)) == tenth
