"""What may leave the machine (contract v3, section 7): exactly the files build and publish
recorded for the named surveys and the target's audience; and the release numbering shared by
the rsync and folder targets."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from site_fixture import SID, make_site

from hailong import sitefiles
from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.publish.deploy.common import collect_site, next_name, releases_of

PLANTED = {  # every kind of file a person or a program might leave beside the pages
    f"{SID}/ket-qua/responses-copy.csv": "response_id,comment\nr1,0912345678\n",
    f"{SID}/ket-qua/roster.csv": "id,name,unit_code\nHTX1,Hợp tác xã A,X01\n",
    f"{SID}/transactions.csv": "id,unit_code,name\n1,X01,Nguyễn Văn A\n",
    f"{SID}/letters.pdf": "%PDF-1.7 thư mời",
    f"{SID}/u/X01/sample.pdf": "%PDF-1.7 mẫu",
    "raw.csv.gz": "\x1f\x8b gz",
    ".env": "HAILONG_SIGNING_KEY=k3y-of-the-province-2024",
    "static/backup.zip": "PK\x03\x04",
}


def test_the_listed_files_alone_are_sent(tmp_path):
    site = make_site(tmp_path)
    checked = collect_site(tmp_path, [SID])
    assert checked.root == site.absolute()
    assert f"{SID}/ket-qua/ranking.csv" in checked.files  # the public download is allowed
    assert len(checked.files) == 6 and checked.left_out == ""


def test_planted_files_of_every_kind_are_left_out_and_named(tmp_path, vietnamese):
    site = make_site(tmp_path)
    for rel, text in PLANTED.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    os.link(tmp_path / SID / "data" / "responses.csv", site / SID / "ket-qua" / "data.csv")
    os.symlink(tmp_path / SID / "data" / "responses.csv", site / SID / "page.html")
    os.mkfifo(site / "pipe")
    checked = collect_site(tmp_path, [SID])
    assert len(checked.files) == 6 and not set(checked.files) & set(PLANTED)
    line = checked.left_out
    assert "\n" not in line and line.startswith("đã bỏ ra 11 tệp không do lệnh nào")
    assert ".env" in line


@pytest.mark.parametrize("how", ["edited", "hard link", "symlink", "removed"])
def test_a_listed_page_changed_since_it_was_written_stops_the_deploy(tmp_path, how, vietnamese):
    site = make_site(tmp_path)
    page = site / SID / "u" / "X01" / "index.html"
    private = tmp_path / SID / "data" / "raw.csv"
    page.unlink()
    if how == "edited":
        page.write_text("<!doctype html><title>sửa tay</title>", encoding="utf-8")
    elif how == "hard link":
        os.link(private, page)
    elif how == "symlink":
        os.symlink(private, page)
    with pytest.raises(HailongError, match="đã bị sửa hoặc không còn.*không gửi gì cả"):
        collect_site(tmp_path, [SID])


def test_other_surveys_and_staff_pages_stay_home(tmp_path, vietnamese):
    site = make_site(tmp_path)
    make_site(tmp_path, sid="khac")
    staff = site / SID / "tien-do" / "index.html"
    staff.parent.mkdir(parents=True)
    staff.write_text("<!doctype html><title>Tiến độ</title>", encoding="utf-8")
    sitefiles.record(tmp_path, SID, "progress", [staff], audience=sitefiles.STAFF)
    public = collect_site(tmp_path, [SID])
    assert not any(f.startswith(("khac/", f"{SID}/tien-do/")) for f in public.files)
    assert "1 tệp trang cho cán bộ" in public.left_out and "4 tệp của các khảo sát" in public.left_out
    assert f"{SID}/tien-do/index.html" in collect_site(tmp_path, [SID], sitefiles.STAFF).files


def test_demo_results_never_reach_a_public_target(tmp_path, vietnamese):
    make_site(tmp_path)
    Layout(tmp_path, SID).demo_mark.write_text("demo", encoding="utf-8")
    with pytest.raises(HailongError, match="dữ liệu thử"):
        collect_site(tmp_path, [SID])
    assert collect_site(tmp_path, [SID], sitefiles.STAFF).files  # staff may look at it


def test_the_signing_key_never_leaves(tmp_path, monkeypatch, vietnamese):
    site = make_site(tmp_path)
    monkeypatch.setenv("HAILONG_SIGNING_KEY", "k3y-of-the-province-2024")
    (site / "static" / "hailong.css").write_text("/* key=k3y-of-the-province-2024 */")
    sitefiles.record(tmp_path, SID, "build", [site / "static" / "hailong.css"])
    with pytest.raises(HailongError, match="chứa khóa bí mật"):
        collect_site(tmp_path, [SID])


def test_a_site_without_the_surveys_pages(tmp_path, vietnamese):
    with pytest.raises(HailongError, match="chưa có trang để đưa lên; chạy hailong build"):
        collect_site(tmp_path, [SID])
    make_site(tmp_path)
    with pytest.raises(HailongError, match="chưa có trang của khảo sát 'khac'"):
        collect_site(tmp_path, [SID, "khac"])


def test_release_numbers_order_the_releases_whatever_the_clock_says():
    later = dt.datetime(2026, 12, 1, 7, 30, tzinfo=dt.UTC)
    first = next_name([], later)
    assert first == "0001-20261201T073000Z"
    earlier = later - dt.timedelta(days=400)  # a server clock reset to an old date
    second = next_name([first], earlier)
    assert releases_of([second, first, ".tmp-0003-20261201T073000Z", "notes.txt"]) == [first, second]
    tenth = [f"{n:04d}-20261201T073000Z" for n in range(1, 11)]
    assert releases_of(reversed(tenth)) == tenth
