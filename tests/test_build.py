"""`hailong build`: the frozen survey pages, read back with BeautifulSoup."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import SMALL_TOML, SMALL_UNITS, write_survey
from hypothesis import given, settings
from hypothesis import strategies as st

from hailong.collect import build, webapp
from hailong.collect.assets import compact
from hailong.collect.build import build_site
from hailong.survey.load import load_survey
from hailong.templating import STATIC, asset

EXEC_URL = "https://script.google.com/macros/s/AKfyc-test/exec"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def snapshot(site: Path) -> dict[str, tuple[int, int]]:
    """Every file under the site with its modification time and inode (a rewrite changes one)."""
    return {p.relative_to(site).as_posix(): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in site.rglob("*") if p.is_file()}


@pytest.fixture
def built(survey, tmp_path):
    out = tmp_path / "out"
    build_site([survey], out)
    return survey, out / "site"


def test_every_page_is_built(built):
    survey, site = built
    for unit in survey.units:
        assert (site / survey.id / "u" / unit.code / "index.html").is_file()
    for page in ("index.html", f"{survey.id}/index.html", f"{survey.id}/cam-on/index.html",
                 asset("hailong.css"), asset("survey.js"), asset("pages.css")):
        assert (site / page).is_file(), page
    # static files only under their hashed names: the plain and older names stay out
    assert sorted(p.name for p in (site / "static").iterdir()) == sorted(
        asset(p.name)[len("static/"):] for p in STATIC.iterdir() if p.is_file())


def test_links_are_relative_and_lead_to_files(built):
    _, site = built
    checked = 0
    for page in site.rglob("*.html"):
        for tag in soup(page).find_all(["a", "link", "script", "form", "img"]):
            ref = tag.get("href") or tag.get("src") or tag.get("action")
            if ref is None or ref.startswith("#"):
                continue
            parts = urlsplit(ref)
            if parts.scheme == "data":  # the survey page's empty icon: nothing to fetch
                continue
            assert not parts.scheme and not parts.netloc and not ref.startswith("/"), (page, ref)
            if tag.name == "form":
                continue  # the local collector is served by `hailong serve`, not a file
            target = (page.parent / parts.path).resolve()
            assert target.is_file() or (target / "index.html").is_file(), (page, ref)
            checked += 1
    assert checked > 20


def test_unit_page_form(built):
    survey, site = built
    page = soup(site / survey.id / "u" / "X01" / "index.html")
    assert page.html["lang"] == "vi"
    assert page.h1.get_text(" ", strip=True) == "Đánh giá: Xã Tiên Điền"
    form = page.find("form", id="phieu")
    assert form["method"] == "post"
    assert form["action"] == "../../../api/responses"  # the local kind: `hailong serve` at the root
    hidden = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    assert hidden == {"survey_id": survey.id, "unit_code": "X01", "respondent_key": "",
                      "response_id": "", "device_id": "", "ticket": "", "started_at": ""}
    # two respondent types: a required choice, in words
    types = form.find_all("input", attrs={"name": "respondent_type"})
    assert [t["value"] for t in types] == ["individual", "organization"]
    assert [t.parent.get_text(strip=True) for t in types] == ["Cá nhân", "Tổ chức"]
    assert types[0].has_attr("required")


def test_questions_are_fieldsets_with_labelled_choices(built):
    survey, site = built
    page = soup(site / survey.id / "u" / "X02" / "index.html")
    total = len(survey.questions)
    for number, q in enumerate(survey.questions, 1):
        box = page.find(attrs={"data-q": q.id})
        if q.type == "text":
            area = box.find("textarea", attrs={"name": q.id})
            assert int(area["maxlength"]) == webapp.TEXT_MAXLENGTH
            assert page.find("label", attrs={"for": area["id"]})
            continue
        assert box.name == "fieldset"
        assert box.legend.get_text(" ", strip=True).startswith(f"Câu {number}/{total}")
        assert q.text in box.legend.get_text()
        radios = box.find_all("input", type="radio")
        assert all(r["name"] == q.id for r in radios)
        labels = [r.parent.get_text(strip=True) for r in radios]
        if q.type == "scale":
            assert [r["value"] for r in radios] == ["1", "2", "3", "4", "5"]
            assert labels == list(survey.scale.labels)
        else:
            assert [r["value"] for r in radios] == list(q.options) == labels
        assert radios[0].has_attr("required") == q.required
        assert ("data-required" in box.attrs) == q.required
    comment = page.find("textarea", attrs={"name": "comment"})
    assert int(comment["maxlength"]) == webapp.TEXT_MAXLENGTH


def test_single_type_and_apps_script_collector(tmp_path):
    toml = SMALL_TOML.replace('respondent_types = ["individual", "organization"]\n', "")
    toml += f'\n[collector]\nkind = "apps_script"\nurl = "{EXEC_URL}"\n'
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    build_site([survey], tmp_path / "out", base_url="https://khaosat.example.vn/")
    page = soup(tmp_path / "out" / "site" / survey.id / "u" / "X03" / "index.html")
    assert page.find("form")["action"] == EXEC_URL
    assert page.find("input", attrs={"name": "respondent_type"})["type"] == "hidden"
    assert page.find("input", attrs={"name": "respondent_type"})["value"] == "individual"
    assert page.find("link", rel="canonical")["href"] == "https://khaosat.example.vn/thu-nghiem/u/X03/"


def test_unit_names_are_escaped(tmp_path):
    units = SMALL_UNITS + 'X04,<script>alert(1)</script>,"Huyện ""A"" & B"\n'
    survey = load_survey(write_survey(tmp_path / "s", units=units))
    out = tmp_path / "out"
    build_site([survey], out)
    for path in (out / "site" / survey.id / "u" / "X04" / "index.html", out / "site" / survey.id / "index.html"):
        text = path.read_text(encoding="utf-8")
        assert "<script>alert" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert soup(path).find(string=re.compile(r"<script>alert\(1\)</script>"))
    page = soup(out / "site" / survey.id / "u" / "X04" / "index.html")
    assert [s.get("src") for s in page.find_all("script") if s.get("src")] == ["../../../" + asset("survey.js")]
    inline = [s.string for s in page.find_all("script") if not s.get("src")]
    assert len(inline) == 1 and "alert" not in inline[0]  # the dates check only, no unit data
    assert page.find(class_="parent").get_text() == 'Huyện "A" & B'


def test_rebuild_with_nothing_changed_writes_nothing(built, tmp_path, vietnamese):
    survey, site = built
    before = snapshot(site)
    summary = build_site([load_survey(survey.path)], tmp_path / "out")
    assert "không ghi lại tệp nào" in summary
    assert snapshot(site) == before


def test_a_missing_page_is_written_again(built, tmp_path):
    survey, site = built
    before = snapshot(site)
    (site / survey.id / "u" / "X01" / "index.html").unlink()
    (site / asset("survey.js")).unlink()
    build_site([survey], tmp_path / "out")
    after = snapshot(site)
    assert after.keys() == before.keys()
    assert {p for p in after if after[p] != before[p]} == {f"{survey.id}/u/X01/index.html",
                                                          asset("survey.js")}


def test_a_change_rewrites_only_what_changed(built, tmp_path):
    survey, site = built
    before = snapshot(site)
    units = SMALL_UNITS.replace("Xã Xuân An", "Xã Xuân An Mới")
    write_survey(survey.path, units=units)
    build_site([load_survey(survey.path)], tmp_path / "out")
    after = snapshot(site)
    changed = {p for p in after if after[p] != before.get(p)}
    # the renamed unit's page and the landing page listing it; nothing else
    assert changed == {f"{survey.id}/u/X02/index.html", f"{survey.id}/u/x02/index.html",
                       f"{survey.id}/index.html"}  # the page, its lower-case copy, the list
    assert "Xã Xuân An Mới" in (site / survey.id / "u" / "X02" / "index.html").read_text(encoding="utf-8")


def test_results_and_staff_pages_survive_and_stale_units_go(built, tmp_path, vietnamese):
    survey, site = built
    results = site / survey.id / "ket-qua" / "index.html"
    staff = site / survey.id / "tien-do" / "index.html"
    for path in (results, staff):
        path.parent.mkdir(parents=True)
        path.write_text("other stage", encoding="utf-8")
    write_survey(survey.path, units=SMALL_UNITS.replace("X03,Thị trấn Xuân Hải,Nghi Xuân,15,10\n", ""))
    summary = build_site([load_survey(survey.path)], tmp_path / "out")
    assert "xoá 1 trang đơn vị cũ" in summary
    assert not (site / survey.id / "u" / "X03").exists()
    assert (site / survey.id / "u" / "X02" / "index.html").is_file()
    assert results.read_text(encoding="utf-8") == staff.read_text(encoding="utf-8") == "other stage"


def test_pool_pages_equal_the_flask_view(survey, tmp_path, monkeypatch):
    """The unit pages rendered by the worker processes are byte for byte what the app serves."""
    monkeypatch.setattr(build, "PARALLEL_MIN", 1)
    monkeypatch.setattr(build, "CHUNK", 1)
    out = tmp_path / "out"
    build_site([survey], out, base_url="https://a.example/", workers=2)
    client = webapp.create_app([survey], "https://a.example/", out=out).test_client()
    for unit in survey.units:
        url = f"/{survey.id}/u/{unit.code}/"
        response = client.get(url)
        assert response.status_code == 200
        assert (out / "site" / survey.id / "u" / unit.code / "index.html").read_bytes() == response.data
    for url, path in (("/", "index.html"), (f"/{survey.id}/", f"{survey.id}/index.html"),
                      (f"/{survey.id}/cam-on/", f"{survey.id}/cam-on/index.html")):
        assert (out / "site" / path).read_bytes() == client.get(url).data
    assert client.get(f"/{survey.id}/u/NOPE/").status_code == 404


def test_landing_page_lists_units_and_links_results_when_scored(survey, tmp_path):
    out = tmp_path / "out"
    client = webapp.create_app([survey], out=out).test_client()
    page = BeautifulSoup(client.get(f"/{survey.id}/").data, "html.parser")
    links = {a.get_text(strip=True): a["href"] for a in page.select(".units a")}
    assert links == {u.name: f"u/{u.code}/index.html" for u in survey.units}
    assert "12/06/2024 – 14/06/2024" in page.get_text()
    assert not page.find("a", href="ket-qua/index.html")
    ranking = out / survey.id / "data" / "ranking.csv"
    ranking.parent.mkdir(parents=True)
    ranking.write_text("rank,unit_code\n", encoding="utf-8")
    page = BeautifulSoup(webapp.create_app([survey], out=out).test_client().get(f"/{survey.id}/").data,
                         "html.parser")
    assert page.find("a", href="ket-qua/index.html")


def test_large_survey_landing_lists_areas(tmp_path, monkeypatch):
    monkeypatch.setattr(webapp, "LANDING_MAX_UNITS", 2)
    units = SMALL_UNITS + "X04,Xã Kỳ Anh,Kỳ Anh,,\nX05,Xã Kỳ Bắc,Kỳ Anh,,\n"
    survey = load_survey(write_survey(tmp_path / "s", units=units))
    out = tmp_path / "out"
    build_site([survey], out)
    site = out / "site"
    landing = soup(site / survey.id / "index.html")
    areas = {a.get_text(" ", strip=True): a["href"] for a in landing.select(".units a")}
    assert areas == {"Nghi Xuân (3)": "dia-ban/1/index.html", "Kỳ Anh (2)": "dia-ban/2/index.html"}
    page = soup(site / survey.id / "dia-ban" / "2" / "index.html")
    assert page.h1.get_text() == "Kỳ Anh"
    links = [a["href"] for a in page.select(".units a")]
    assert links == ["../../u/X04/index.html", "../../u/X05/index.html"]
    assert all((site / survey.id / "dia-ban" / "2" / href).resolve().is_file() for href in links)
    # fewer units: one list again, and the area pages go
    write_survey(survey.path)
    build_site([load_survey(survey.path)], out)
    assert not any((site / survey.id / "dia-ban").iterdir())
    assert len(soup(site / survey.id / "index.html").select(".units a")) == 3


def test_index_keeps_surveys_built_earlier(tmp_path):
    first = load_survey(write_survey(tmp_path / "a"))
    second = load_survey(write_survey(tmp_path / "b", toml=SMALL_TOML.replace(
        'id = "thu-nghiem"', 'id = "khac"').replace("Khảo sát thử nghiệm", "Khảo sát khác")))
    out = tmp_path / "out"
    build_site([first], out)
    build_site([second], out)
    index = soup(out / "site" / "index.html")
    assert {a["href"] for a in index.select(".surveys a")} == {"thu-nghiem/index.html", "khac/index.html"}


def test_same_survey_twice_is_an_error(survey, tmp_path):
    from hailong.errors import HailongError

    with pytest.raises(HailongError, match="twice"):
        build_site([survey, survey], tmp_path / "out")


def test_compact_drops_comments_and_white_space_only():
    js = "/* head\n   more */\nvar a = 1;\n  // note\n  if (a) {\n    b('x // y');\n  }\n"
    assert compact(js, "static/survey.js") == "var a=1;if(a){b('x // y');}\n"
    css = ".c { d: e; } /* k */\n\n.f  .g { h: i }\n"
    assert compact(css, "static/hailong.css") == ".c{d:e}.f .g{h:i}\n"


def test_shipped_survey_page_is_small(built):
    """The byte budget (30 KB with what it loads) is measured in the browser test; here a
    cheap guard that the page and its files stay well inside it for the small survey."""
    survey, site = built
    page = site / survey.id / "u" / "X01" / "index.html"
    total = sum(p.stat().st_size for p in (page, site / asset("survey.js")))  # its CSS is inline
    assert total < 30 * 1024


_UNIT_NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).map(
    str.strip).filter(bool)


@pytest.fixture(scope="module")
def unit_parts(tmp_path_factory):
    env = webapp.jinja_env()
    survey = load_survey(write_survey(tmp_path_factory.mktemp("names") / "s"))
    return env, webapp.with_questions(env, webapp.survey_context(survey))


@settings(max_examples=60, deadline=None)
@given(name=_UNIT_NAMES, parent=st.one_of(st.just(""), _UNIT_NAMES))
def test_any_unit_name_reads_back_exactly(unit_parts, name, parent):
    """Whatever a units.csv holds, the page shows it as text, never as markup."""
    env, common = unit_parts
    unit = {"code": "X01", "name": name, "parent": parent}
    page = BeautifulSoup(webapp.render(env, webapp.UNIT_TEMPLATE, webapp.unit_context(common, unit, None)),
                         "html.parser")
    assert page.h1.get_text() == f"Đánh giá: {name}"
    assert page.title.get_text() == f"Đánh giá: {name}"
    assert (page.find(class_="parent").get_text() if parent else page.find(class_="parent")) == (parent or None)
    assert [s.get("src") for s in page.find_all("script") if s.get("src")] == ["../../../" + asset("survey.js")]
    inline = [s.string for s in page.find_all("script") if not s.get("src")]
    assert len(inline) == 1 and "alert" not in inline[0]  # the dates check only, no unit data
    assert len(page.find_all("form")) == 1


def test_publish_after_build_links_the_results(tmp_path, vietnamese):
    """`weekly` and `demo` build the pages before they score: publishing must then make the
    landing page and the site index link to the results, exactly as the next build would."""
    from results_fixture import response_rows, write_responses

    from hailong.publish.pages import publish
    from hailong.score.pipeline import score

    survey = load_survey(write_survey(tmp_path / "s"))
    out = tmp_path / "out"
    site = out / "site"
    build_site([survey], out)
    assert not soup(site / survey.id / "index.html").find("a", href="ket-qua/index.html")
    assert not soup(site / "index.html").select("a.results-link")
    score(survey, out, responses=write_responses(tmp_path / "raw.csv", response_rows()))
    publish(survey, out)
    landing = soup(site / survey.id / "index.html")
    link = landing.find("a", href="ket-qua/index.html")
    assert link and "Xem kết quả" in link.get_text()
    assert (site / survey.id / link["href"]).is_file()
    [index_link] = soup(site / "index.html").select("a.results-link")
    assert index_link["href"] == f"{survey.id}/ket-qua/index.html" and (site / index_link["href"]).is_file()
    # the refreshed pages are the build's own: a build now finds nothing to change
    before = {p: (site / p).read_bytes() for p in ("index.html", f"{survey.id}/index.html")}
    build_site([survey], out)
    assert {p: (site / p).read_bytes() for p in before} == before
    assert "không có gì thay đổi" in build_site([survey], out)


def test_publish_without_a_build_makes_no_landing_page(tmp_path):
    from results_fixture import scored_survey

    from hailong.publish.pages import publish

    survey, out, _ = scored_survey(tmp_path)
    publish(survey, out)
    assert not (out / "site" / survey.id / "index.html").exists()
    assert not (out / "site" / "index.html").exists()


def test_index_links_results_of_a_survey_built_earlier(tmp_path):
    from results_fixture import scored_survey

    from hailong.publish.pages import publish

    survey, out, _ = scored_survey(tmp_path)
    other = load_survey(write_survey(tmp_path / "b", toml=SMALL_TOML.replace(
        'id = "thu-nghiem"', 'id = "khac"').replace("Khảo sát thử nghiệm", "Khảo sát khác")))
    build_site([survey], out)
    build_site([other], out)  # the index remembers the scored survey and links its results
    publish(survey, out)
    index = soup(out / "site" / "index.html")
    assert [a["href"] for a in index.select("a.results-link")] == ["thu-nghiem/ket-qua/index.html"]
    assert {a["href"] for a in index.select(".surveys a:not(.results-link)")} == {
        "thu-nghiem/index.html", "khac/index.html"}


ROSTER_TOML = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "roster"')


def test_roster_landing_sends_people_to_their_personal_link(tmp_path):
    survey = load_survey(write_survey(tmp_path / "s", toml=ROSTER_TOML,
                                      roster_csv="id,name,unit_code\nHTX1,Hợp tác xã Một,X01\n"))
    out = tmp_path / "out"
    build_site([survey], out)
    page = soup(out / "site" / survey.id / "index.html")
    text = page.get_text(" ", strip=True)
    assert "Xin dùng đường link riêng hoặc mã QR trong thư mời gửi cho hợp tác xã" in text
    assert "quét mã QR dán tại nơi làm thủ tục" not in text and "Chọn đơn vị" not in text
    assert not page.select('a[href^="u/"]')  # the unit pages are not offered as the way to answer
    # an open survey still lists its units
    open_page = soup(_built_open(tmp_path) / "index.html")
    assert open_page.select('a[href^="u/"]') and "Chọn đơn vị" in open_page.get_text()


def _built_open(tmp_path: Path) -> Path:
    survey = load_survey(write_survey(tmp_path / "open"))
    build_site([survey], tmp_path / "open-out")
    return tmp_path / "open-out" / "site" / survey.id


def _long_survey(folder: Path, questions: int) -> object:
    text = "Cán bộ tiếp nhận hồ sơ có hướng dẫn Ông/Bà đầy đủ, rõ ràng, dễ hiểu về thủ tục không? " * 2
    toml = SMALL_TOML.split("[[questions]]")[0] + "".join(
        f'[[questions]]\nid = "q{i}"\nblock = "tiep-can"\ntext = "{i}. {text}"\n'
        f'help = "Ông/Bà chọn một mức phù hợp nhất với trải nghiệm của mình tại bộ phận một cửa."\n'
        for i in range(1, questions + 1))
    return load_survey(write_survey(folder, toml=toml))


def test_build_warns_when_a_survey_page_is_over_30_kb(tmp_path, vietnamese):
    heavy = _long_survey(tmp_path / "nang", 45)
    out = tmp_path / "out"
    summary = build_site([heavy], out)
    site = out / "site"
    static = (site / asset("survey.js")).stat().st_size
    weights = {u.code: build.page_weight(site, webapp.unit_page_path(heavy.id, u.code)) for u in heavy.units}
    for u in heavy.units:  # the page (its stylesheet inline) and the script it loads, nothing else
        assert weights[u.code] == (site / webapp.unit_page_path(heavy.id, u.code)).stat().st_size + static
    weight = max(weights.values())  # the warning names the heaviest page
    assert weight > 30 * 1024
    warnings = [line for line in summary.splitlines() if line.startswith("Cảnh báo")]
    assert len(warnings) == 1 and "thu-nghiem" in warnings[0] and "30 KB" in warnings[0]
    assert f"{weight:,}".replace(",", ".") in warnings[0]
    # said again when nothing changed (the page is still too heavy), and not for a light survey
    assert "Cảnh báo" in build_site([heavy], out)
    light = build_site([load_survey(write_survey(tmp_path / "nhe"))], tmp_path / "out2")
    assert "Cảnh báo" not in light


def test_a_unit_address_typed_in_any_case_finds_the_page(tmp_path):
    # static hosts match paths letter for letter: /u/x01/ typed from a poster saying /u/X01/
    units = "code,name\nNL01,Xã Nghi Văn\nab-7,Xã Bảy\n"
    survey = load_survey(write_survey(tmp_path / "s", units=units))
    out = tmp_path / "out"
    build_site([survey], out)
    u = out / "site" / survey.id / "u"
    assert sorted(p.name for p in u.iterdir()) == ["AB-7", "NL01", "ab-7", "nl01"]
    assert (u / "nl01" / "index.html").read_bytes() == (u / "NL01" / "index.html").read_bytes()
    assert (u / "AB-7" / "index.html").read_bytes() == (u / "ab-7" / "index.html").read_bytes()
    page = soup(u / "nl01" / "index.html")
    assert page.find("input", attrs={"name": "unit_code"})["value"] == "NL01"  # the real code is sent
    # a unit removed from units.csv goes with its copies; counted once
    survey.units = survey.units[1:]
    summary = build_site([survey], out)
    assert sorted(p.name for p in u.iterdir()) == ["AB-7", "ab-7"]
    assert "removed 1 old unit page(s)" in summary
    # a second build with nothing changed writes nothing, copies included
    assert "no file written" in build_site([survey], out)


def test_every_built_page_addresses_the_reader_one_way(tmp_path):
    # «Ông/Bà» throughout: not «ông/bà» in one paragraph and «Ông/Bà» in the next
    survey = load_survey(Path(__file__).resolve().parent.parent / "surveys" / "sipas-xa-2020")
    out = tmp_path / "out"
    build_site([survey], out)
    site = out / "site"
    pages = [site / "index.html", site / survey.id / "index.html",
             site / survey.id / "cam-on" / "index.html",
             site / webapp.unit_page_path(survey.id, survey.units[0].code), site / asset("survey.js")]
    seen = set()
    for page in pages:
        seen |= set(re.findall(r"(?i)\bông\s*/\s*bà\b|\bông bà\b", page.read_text(encoding="utf-8")))
    assert seen == {"Ông/Bà"}
