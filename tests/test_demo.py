"""`hailong demo` clears only what it made: its manifest lists every file it wrote, and any file
added or changed afterwards (real answers, QR posters, samples, history, a real site) stops it."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from conftest import SMALL_TOML, write_survey

from hailong.collect.localsheet import append_row
from hailong.demo import run as demo
from hailong.errors import HailongError
from hailong.layout import Layout
from hailong.survey.load import load_survey

REFUSAL = "the demo would overwrite work that it did not make"


def _survey(tmp_path):
    return load_survey(write_survey(tmp_path / "s"))


@pytest.fixture
def made(tmp_path):
    """A small survey after one demo run into tmp_path / "o"."""
    survey = _survey(tmp_path)
    out = tmp_path / "o"
    demo.run_demo(out, survey_dir=survey.path)
    return survey, out, Layout(out, survey.id)


def _snapshot(*folders):
    return {p: p.read_bytes() for f in folders if f.exists() for p in sorted(f.rglob("*"))
            if p.is_file()}


def _refused(out, survey, path_fragment):
    """Run the demo, expect a refusal naming `path_fragment`, and that nothing was touched."""
    layout = Layout(out, survey.id)
    before = _snapshot(layout.root, layout.site)
    with pytest.raises(HailongError) as err:
        demo.run_demo(out, survey_dir=survey.path)
    message = str(err.value)
    assert "\n" not in message and REFUSAL in message and "--out output/demo" in message
    assert message.split(":")[0].endswith(path_fragment), message
    assert _snapshot(layout.root, layout.site) == before
    return message


def test_manifest_lists_every_file_the_demo_wrote(made):
    survey, out, layout = made
    manifest = json.loads((layout.root / demo.MANIFEST).read_text("utf-8"))
    files = manifest["files"]
    on_disk = {p.relative_to(out).as_posix() for top in (layout.root, layout.survey_site)
               for p in top.rglob("*") if p.name != demo.MANIFEST}
    assert set(files) == on_disk
    sheet = files[f"{survey.id}/sheet.csv"]
    assert sheet["size"] == layout.sheet_csv.stat().st_size
    assert sheet["mtime_ns"] == layout.sheet_csv.stat().st_mtime_ns
    assert f"site/{survey.id}/ket-qua/index.html" in files


def test_running_twice_works_and_a_touched_file_is_still_the_demos(made):
    survey, out, layout = made
    first = demo.run_demo(out, survey_dir=survey.path)
    # a file reopened with the same bytes (a lock file taken again) keeps its place
    lock = layout.raw_csv.with_name("raw.csv.lock")
    assert lock.exists()
    os.utime(lock, ns=(1, 1))
    os.utime(layout.sheet_csv, ns=(1, 1))
    again = demo.run_demo(out, survey_dir=survey.path)
    assert again.splitlines()[-6:] == first.splitlines()[-6:]


def test_an_answer_posted_after_the_demo_is_kept(made):
    survey, out, layout = made
    append_row(layout.sheet_csv, survey.response_columns,
               {"response_id": "real-answer", "unit_code": "X01", "survey_id": survey.id})
    _refused(out, survey, "sheet.csv")
    assert "real-answer" in layout.sheet_csv.read_text("utf-8-sig")


def test_qr_posters_and_samples_made_later_are_kept(made):
    survey, out, layout = made
    layout.qr.mkdir()
    (layout.qr / "X01.pdf").write_bytes(b"%PDF-1.4 poster")
    _refused(out, survey, "qr")  # the new folder comes first in path order
    (layout.qr / "X01.pdf").unlink()
    layout.qr.rmdir()
    for name in ("excluded.csv", "reserve.csv", "sample.csv"):
        (layout.data / name).write_text("id,unit_code\nT1,X01\n", "utf-8")
    _refused(out, survey, "data/excluded.csv")


def test_a_later_pull_is_kept(made):
    from hailong.ingest.pull import pull

    survey, out, layout = made
    append_row(layout.sheet_csv, survey.response_columns,
               {"response_id": "later", "unit_code": "X02", "survey_id": survey.id})
    pull(survey, out)  # raw.csv and the pull state grow; the first in path order is named
    _refused(out, survey, "data/pull-state.json")
    assert "later" in layout.raw_csv.read_text("utf-8-sig")


def test_raw_csv_changed_alone_is_kept(made):
    survey, out, layout = made
    with open(layout.raw_csv, "ab") as fh:
        fh.write(b"x\n")
    message = _refused(out, survey, "data/raw.csv")
    assert "changed since the demo wrote it" in message


def test_a_history_snapshot_alone_is_kept(made):
    from hailong.publish.history import snapshot

    survey, out, layout = made
    snapshot(survey, out, dt.date(2031, 1, 1))
    _refused(out, survey, "history/2031-01-01")
    assert (layout.history / "2031-01-01" / "ranking.csv").exists()


def test_a_changed_site_page_is_kept(made):
    survey, out, layout = made
    page = layout.results / "index.html"
    page.write_text(page.read_text("utf-8").replace("</body>", "<!-- sửa tay --></body>"), "utf-8")
    _refused(out, survey, "ket-qua/index.html")


def test_folders_without_a_manifest_or_with_an_old_marker(tmp_path):
    survey = _survey(tmp_path)
    out = tmp_path / "o"
    layout = Layout(out, survey.id)
    layout.survey_site.mkdir(parents=True)
    (layout.survey_site / "index.html").write_text("<p>trang thật</p>", "utf-8")
    _refused(out, survey, f"site/{survey.id}/index.html")
    (layout.survey_site / "index.html").unlink()
    layout.survey_site.rmdir()
    # the marker of the earlier demo held one sentence and vouched for everything
    layout.root.mkdir(parents=True)
    (layout.root / demo.MANIFEST).write_text("made by `hailong demo`; cleared on the next demo "
                                             "run\n", "utf-8")
    append_row(layout.sheet_csv, survey.response_columns, {"response_id": "real"})
    message = _refused(out, survey, demo.MANIFEST)
    assert "lists no files" in message
    # an empty folder is no one's work: the demo runs
    (layout.root / demo.MANIFEST).unlink()
    layout.sheet_csv.unlink()
    layout.sheet_csv.with_name("sheet.csv.lock").unlink()
    demo.run_demo(out, survey_dir=survey.path)


def test_a_real_site_is_not_given_the_demo_survey(tmp_path):
    from hailong.collect.build import build_site

    survey = _survey(tmp_path)
    real = load_survey(write_survey(tmp_path / "real", toml=SMALL_TOML.replace(
        'id = "thu-nghiem"', 'id = "pks02-that"')))
    out = tmp_path / "o"
    build_site([real], out)
    home = (out / "site" / "index.html").read_text("utf-8")
    message = _refused(out, survey, "site/pks02-that")
    assert "real site" in message
    assert (out / "site" / "index.html").read_text("utf-8") == home
    assert not Layout(out, survey.id).root.exists()


def _series(tmp_path):
    """Two surveys of one series in one folder, as the shipped sipas-xa-2019 and -2020."""
    folder = tmp_path / "surveys"
    for year in (2019, 2020):
        write_survey(folder / f"x-{year}", toml=SMALL_TOML.replace(
            'id = "thu-nghiem"', f'id = "x-{year}"\nseries = "x"').replace(
            "year = 2024", f"year = {year}"))
    return load_survey(folder / "x-2019"), load_survey(folder / "x-2020")


def test_the_earlier_survey_of_the_series_is_protected_too(tmp_path):
    older, newer = _series(tmp_path)
    out = tmp_path / "o"
    demo.run_demo(out, survey_dir=newer.path)
    old = Layout(out, older.id)
    assert (old.root / demo.MANIFEST).exists() and old.data_file("ranking.csv").exists()
    demo.run_demo(out, survey_dir=newer.path)  # repeatable with both
    old.qr.mkdir()
    (old.qr / "X01.svg").write_text("<svg/>", "utf-8")
    _refused(out, newer, f"{older.id}/qr")
    # nothing of the newer survey was cleared before the older one refused
    assert Layout(out, newer.id).sheet_csv.exists()
    assert (old.qr / "X01.svg").exists()
