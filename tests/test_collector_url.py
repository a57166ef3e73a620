"""units.csv `collector_url` (contract v2): each unit's page posts to its own province's web app."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from conftest import SMALL_TOML, write_survey

from hailong.collect import webapp
from hailong.collect.build import build_site
from hailong.errors import HailongError
from hailong.survey.load import load_survey

HA_TINH = "https://script.google.com/macros/s/AKfyc-ha-tinh/exec"
NGHE_AN = "https://script.google.com/macros/s/AKfyc-nghe-an/exec"
DEFAULT = "https://script.google.com/macros/s/AKfyc-default/exec"
UNITS = ("code,name,parent,collector_url\n"
         f"X01,Xã Tiên Điền,Hà Tĩnh,{HA_TINH}\n"
         f"X02,Xã Xuân An,Hà Tĩnh, {HA_TINH} \n"
         f"X03,Phường Vinh Phú,Nghệ An,{NGHE_AN}\n"
         "X04,Xã Mới,Nghệ An,\n")


def _survey(tmp_path, units=UNITS, url=DEFAULT, kind="apps_script"):
    toml = SMALL_TOML + f'\n[collector]\nkind = "{kind}"\nurl = "{url}"\n'
    return load_survey(write_survey(tmp_path / "s", toml=toml, units=units))


def _action(out, survey, code):
    page = BeautifulSoup((out / "site" / survey.id / "u" / code / "index.html").read_text("utf-8"),
                         "html.parser")
    return page.find("form")["action"]


def test_each_page_posts_to_its_units_web_app(tmp_path):
    survey = _survey(tmp_path)
    out = tmp_path / "out"
    build_site([survey], out)
    assert [_action(out, survey, c) for c in ("X01", "X02", "X03", "X04")] == [
        HA_TINH, HA_TINH, NGHE_AN, DEFAULT]  # trimmed; a unit without one uses [collector] url


def test_pool_pages_post_where_the_app_posts(tmp_path, monkeypatch):
    from hailong.collect import build

    monkeypatch.setattr(build, "PARALLEL_MIN", 1)
    monkeypatch.setattr(build, "CHUNK", 1)
    survey = _survey(tmp_path)
    out = tmp_path / "out"
    build_site([survey], out, workers=2)
    client = webapp.create_app([survey], None, out=out).test_client()
    for code in ("X01", "X03", "X04"):
        served = BeautifulSoup(client.get(f"/{survey.id}/u/{code}/").data, "html.parser")
        assert served.find("form")["action"] == _action(out, survey, code)


def test_changing_a_units_collector_rebuilds_its_page(tmp_path):
    survey = _survey(tmp_path)
    out = tmp_path / "out"
    build_site([survey], out)
    moved = UNITS.replace(f"X03,Phường Vinh Phú,Nghệ An,{NGHE_AN}", f"X03,Phường Vinh Phú,Nghệ An,{HA_TINH}")
    survey = _survey(tmp_path, units=moved)
    build_site([survey], out)
    assert _action(out, survey, "X03") == HA_TINH


def test_every_unit_with_its_own_url_needs_no_survey_url(tmp_path):
    units = UNITS.replace("X04,Xã Mới,Nghệ An,\n", f"X04,Xã Mới,Nghệ An,{NGHE_AN}\n")
    survey = _survey(tmp_path, units=units, url="")
    assert [u.collector_url for u in survey.units] == [HA_TINH, HA_TINH, NGHE_AN, NGHE_AN]


@pytest.mark.parametrize(("units", "url", "kind", "message"), [
    (UNITS, "", "apps_script", r"collector.url must be .*or every unit needs a collector_url in "
                               r"units.csv \(unit X04 has none\)"),
    (UNITS, "", "local", r"units.csv: unit X01 has a collector_url, but survey.toml's collector.kind"),
    ("code,name,collector_url\nX01,Xã A,http://script.google.com/x/exec\n", DEFAULT, "apps_script",
     r"units.csv row 2, column 'collector_url': 'http://script.google.com/x/exec' is not an https://"),
])
def test_collector_url_mistakes_name_the_fix(tmp_path, units, url, kind, message):
    with pytest.raises(HailongError, match=message):
        _survey(tmp_path, units=units, url=url, kind=kind)
