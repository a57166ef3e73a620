"""The survey loader: every mistake a person makes in survey.toml or units.csv gives one clear
line naming the file, key or row and the fix; good files load with defaults and NFC text."""

from __future__ import annotations

import codecs
import datetime as dt
import unicodedata

import pytest
from conftest import SMALL_TOML, SMALL_UNITS, write_survey

from hailong.errors import HailongError
from hailong.survey.load import load_survey, load_units
from hailong.survey.tables import read_table


def error_of(tmp_path, toml=SMALL_TOML, units=SMALL_UNITS, **files) -> str:
    folder = write_survey(tmp_path / "s", toml=toml, units=units, **files)
    with pytest.raises(HailongError) as info:
        load_survey(folder)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def replace(old: str, new: str, text: str = SMALL_TOML) -> str:
    assert old in text
    return text.replace(old, new, 1)


# -- good files ---------------------------------------------------------------------------------
def test_small_survey_loads_with_defaults(survey):
    assert survey.id == "thu-nghiem"
    assert (survey.start, survey.end) == (dt.date(2024, 6, 12), dt.date(2024, 6, 14))
    assert survey.timezone == "Asia/Ho_Chi_Minh" and survey.access == "open"
    assert (survey.scale.min, survey.scale.max, survey.scale.satisfied_min) == (1, 5, 4)
    assert survey.scale.labels[0] == "Rất không hài lòng"
    assert [b.min for b in survey.bands] == [90, 80, 65, 50, 0]
    assert survey.scoring.unranked_label == "Chưa đủ phiếu"
    assert [b.weight for b in survey.blocks] == [1.0, 2.0]
    assert [q.id for q in survey.scale_questions] == ["q1", "q2", "q3"]
    assert survey.response_columns[-3:] == ["kenh", "gop_y", "comment"]
    assert survey.units[0].quota == 25
    assert survey.find_unit(" x02 ").code == "X02"
    assert survey.find_unit("X9") is None
    assert survey.days() == [dt.date(2024, 6, 12), dt.date(2024, 6, 13), dt.date(2024, 6, 14)]


def test_folder_or_its_survey_toml(survey_dir):
    assert load_survey(survey_dir / "survey.toml").id == "thu-nghiem"


def test_bom_and_windows_line_endings_are_accepted(tmp_path):
    folder = write_survey(tmp_path / "s")
    for name in ("survey.toml", "units.csv"):
        path = folder / name
        path.write_bytes(codecs.BOM_UTF8 + path.read_bytes().replace(b"\n", b"\r\n"))
    survey = load_survey(folder)
    assert survey.id == "thu-nghiem"
    assert [u.code for u in survey.units] == ["X01", "X02", "X03"]
    assert survey.units[0].name == "Xã Tiên Điền"


def test_decomposed_diacritics_are_normalised_to_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", SMALL_TOML)
    units = unicodedata.normalize("NFD", SMALL_UNITS)
    assert nfd != SMALL_TOML
    survey = load_survey(write_survey(tmp_path / "s", toml=nfd, units=units))
    texts = [survey.title, *(q.text for q in survey.questions), *(b.title for b in survey.blocks),
             *(u.name for u in survey.units), *(o for q in survey.questions for o in q.options),
             *(b.label for b in survey.bands), *survey.scale.labels]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert survey.units[0].name == "Xã Tiên Điền"
    assert survey.questions[3].options[0] == "Loa phát thanh"


def test_toml_dates_without_quotes_are_accepted(tmp_path):
    toml = replace('start = "2024-06-12"', "start = 2024-06-12")
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    assert survey.start == dt.date(2024, 6, 12)


def test_quota_written_as_spreadsheet_float(tmp_path):
    units = "code,name,quota_individual\nX01,Xã A,15.0\nX02,Xã B,\n"
    survey = load_survey(write_survey(tmp_path / "s", units=units))
    assert [u.quota_individual for u in survey.units] == [15, None]
    assert survey.units[1].quota is None


def test_other_scale_gets_numeric_labels(tmp_path):
    toml = replace("[window]", "[scale]\nmin = 1\nmax = 10\nsatisfied_min = 7\n\n[window]")
    survey = load_survey(write_survey(tmp_path / "s", toml=toml))
    assert survey.scale.labels == [str(v) for v in range(1, 11)]


# -- missing and unreadable files ---------------------------------------------------------------
def test_missing_folder(tmp_path):
    with pytest.raises(HailongError, match=r"no-such: no such survey folder"):
        load_survey(tmp_path / "no-such")


def test_a_file_instead_of_a_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("x", "utf-8")
    with pytest.raises(HailongError, match="not a folder"):
        load_survey(tmp_path / "notes.txt")


def test_missing_survey_toml(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(HailongError, match="no survey.toml in this folder"):
        load_survey(tmp_path / "empty")


def test_missing_units_csv(tmp_path):
    folder = write_survey(tmp_path / "s")
    (folder / "units.csv").unlink()
    with pytest.raises(HailongError, match=r"units.csv is missing; it lists the rated units as code,name"):
        load_survey(folder)


def test_non_utf8_survey_toml(tmp_path):
    folder = write_survey(tmp_path / "s")
    # the title saved as Latin-1 by an old editor
    data = SMALL_TOML.encode("utf-8").replace("thử nghiệm".encode(), b"th\xf6 nghi\xeam")
    (folder / "survey.toml").write_bytes(data)
    with pytest.raises(HailongError) as info:
        load_survey(folder)
    assert str(info.value).startswith("survey.toml line 2: not UTF-8 text (byte 0xf6)")


def test_non_utf8_units_csv_names_the_line(tmp_path):
    folder = write_survey(tmp_path / "s")
    # as Excel saves "CSV" on a Vietnamese Windows: code page 1258
    (folder / "units.csv").write_bytes(codecs.BOM_UTF8 + b"code,name\nX01,Xa A\n"
                                       + "X02,Xuân An\n".encode("cp1258"))
    with pytest.raises(HailongError) as info:
        load_survey(folder)
    assert str(info.value).startswith("units.csv line 3: not UTF-8 text (byte 0xe2)")
    assert "save the file as 'CSV UTF-8'" in str(info.value)


def test_toml_syntax_error(tmp_path):
    message = error_of(tmp_path, toml=replace('title = "Khảo sát thử nghiệm"', 'title = "Khảo sát'))
    assert message.startswith("survey.toml, line 2, column 18: a text in quotes does not end")


# -- survey.toml keys ---------------------------------------------------------------------------
@pytest.mark.parametrize("old, new, expected", [
    ('year = 2024', 'yaer = 2024', "unknown key 'yaer'; did you mean 'year'?"),
    ('[window]', '[windows]', "unknown key 'windows'; did you mean 'window'?"),
    ('end = "2024-06-14"', 'end = "2024-06-14"\nedn = 1', "unknown key 'window.edn'; did you mean 'end'?"),
    ('weight = 2', 'wieght = 2', "unknown key 'blocks[2].wieght'; did you mean 'weight'?"),
    ('required = true', 'requried = true', "unknown key 'questions[3].requried'; did you mean 'required'?"),
    ('text = "Ý kiến khác"', 'text = "Ý kiến khác"\nzzz = 1', "unknown key 'questions[5].zzz'; known keys: id, block"),
])
def test_unknown_keys_with_suggestion(tmp_path, old, new, expected):
    assert expected in error_of(tmp_path, toml=replace(old, new))


def test_top_level_key_written_below_a_section(tmp_path):
    toml = SMALL_TOML + 'timezone = "Asia/Ho_Chi_Minh"\n'
    message = error_of(tmp_path, toml=toml)
    assert "unknown key 'questions[5].timezone'" in message
    assert "move it above the first [section]" in message


@pytest.mark.parametrize("old, new, expected", [
    ('title = "Khảo sát thử nghiệm"\n', "", "'title' is required"),
    ('year = 2024', 'year = "2024"', "year must be a whole number, not '2024'"),
    ('required = true', 'required = "có"', "questions[3].required must be true or false"),
    ('weight = 2', 'weight = "hai"', "blocks[2].weight must be a whole number or a number"),
    ('id = "thu-nghiem"', 'id = "Thu Nghiem"', "id 'Thu Nghiem' may hold only lower-case letters"),
    ('title = "Khảo sát thử nghiệm"', 'title = "  "', "title is empty"),
    ('year = 2024', 'year = 2024\ntimezone = "Asia/Hanoi2"', "timezone 'Asia/Hanoi2' is not a known time zone"),
    ('year = 2024', 'year = 2024\naccess = "public"', "access = 'public'; use open, roster, tickets or sample"),
    ('["individual", "organization"]', '["individual", "company"]', "respondent_types = ['individual', 'company']"),
    ('["individual", "organization"]', '[]', "respondent_types = []"),
])
def test_bad_top_level_values(tmp_path, old, new, expected):
    assert expected in error_of(tmp_path, toml=replace(old, new))


def test_window_section_is_required(tmp_path):
    toml = replace('[window]\nstart = "2024-06-12"\nend = "2024-06-14"\n', "")
    assert "section [window] with start and end dates is required" in error_of(tmp_path, toml=toml)


def test_section_written_as_a_value(tmp_path):
    toml = replace("year = 2024", 'year = 2024\nscale = 5')
    assert "'scale' must be a section [scale]" in error_of(tmp_path, toml=toml)


# -- dates --------------------------------------------------------------------------------------
@pytest.mark.parametrize("written", ["12/06/2024", "2024-06-31", "ngày 12", "2024-6-1"])
def test_bad_dates(tmp_path, written):
    message = error_of(tmp_path, toml=replace('start = "2024-06-12"', f'start = "{written}"'))
    assert message == (f"survey.toml: window.start = '{written}' is not a date; write it as "
                       "YYYY-MM-DD, e.g. 2024-06-12")


def test_end_before_start(tmp_path):
    message = error_of(tmp_path, toml=replace('end = "2024-06-14"', 'end = "2024-06-01"'))
    assert message == "survey.toml: window.end 2024-06-01 is before window.start 2024-06-12"


def test_sampling_end_before_start(tmp_path):
    toml = SMALL_TOML + '\n[sampling]\nend = "2024-01-31"\n'
    assert "sampling.end 2024-01-31 is before sampling.start 2024-06-12 (when not given" in \
        error_of(tmp_path, toml=toml.replace('\nid = "gop_y"', '\nid = "gop_y"'))


# -- scale, scoring, bands ----------------------------------------------------------------------
@pytest.mark.parametrize("scale, expected", [
    ('labels = ["Kém", "Tốt"]', "scale.labels has 2 labels but the scale has 5 answers (1..5)"),
    ("min = 5\nmax = 1", "scale.min (5) must be below scale.max (1)"),
    ("min = 0", "scale.min must be at least 1 (0 means 'no opinion')"),
    ("satisfied_min = 6", "scale.satisfied_min must lie between scale.min and scale.max"),
])
def test_bad_scale(tmp_path, scale, expected):
    toml = replace("[window]", f"[scale]\n{scale}\n\n[window]")
    assert expected in error_of(tmp_path, toml=toml)


BANDS_OUT_OF_ORDER = """
[scoring]
bands = [
  { min = 80, label = "Tốt" },
  { min = 90, label = "Xuất sắc" },
  { min = 0, label = "Yếu" },
]
"""


@pytest.mark.parametrize("scoring, expected", [
    (BANDS_OUT_OF_ORDER, "scoring.bands are out of order ('Xuất sắc' min 90 after 'Tốt' min 80); "
                         "list them from the highest min to the lowest"),
    ('[scoring]\nbands = [{ min = 50, label = "Đạt" }, { min = 50, label = "Khá" }, { min = 0, label = "Yếu" }]',
     "scoring.bands are out of order ('Khá' min 50 after 'Đạt' min 50)"),
    ('[scoring]\nbands = [{ min = 90, label = "Tốt" }, { min = 10, label = "Yếu" }]',
     "the last band ('Yếu') must have min = 0"),
    ('[scoring]\nbands = []', "scoring.bands is empty"),
    ('[scoring]\nbands = [90, 0]', "scoring.bands[1] must be { min = …, label = \"…\" }"),
    ('[scoring]\nbands = [{ min = "90", label = "A" }]', "scoring.bands[1].min must be a number"),
    ('[scoring]\nmethod = "average"', "scoring.method = 'average'; use percent_satisfied or mean_score"),
    ('[scoring]\nmin_responses = 0', "scoring.min_responses must be at least 1"),
    ('[dedupe]\nkeep = "newest"', "dedupe.keep = 'newest'; use first or last"),
    ('[collector]\nkind = "google"', "collector.kind = 'google'; use local or apps_script"),
    ('[collector]\nkind = "apps_script"', "collector.url must be the Apps Script web app's https://"),
    ('[participation]\ntolerance = 1.5', "participation.tolerance must be between 0 and 1"),
])
def test_bad_scoring_and_other_sections(tmp_path, scoring, expected):
    toml = replace("[window]", f"{scoring}\n\n[window]")
    assert expected in error_of(tmp_path, toml=toml)


# -- blocks and questions -----------------------------------------------------------------------
def test_question_pointing_at_a_missing_block(tmp_path):
    toml = replace('block = "ket-qua"\ntext = "Kết quả', 'block = "ket-quả"\ntext = "Kết quả')
    message = error_of(tmp_path, toml=toml)
    assert message == ("survey.toml: questions[3] (id 'q3'): block 'ket-quả' is not a [[blocks]] "
                       "id; did you mean 'ket-qua'?")


@pytest.mark.parametrize("old, new, expected", [
    ('id = "q2"', 'id = "q1"', "questions[2] (id 'q1'): duplicate question id"),
    ('id = "q2"', 'id = "Q-2"', "questions[2] (id 'Q-2'): the id may hold only a-z, 0-9 and '_'"),
    ('id = "gop_y"', 'id = "comment"', "'comment' is a response column name; choose another id"),
    ('id = "q2"', 'id = "unit_code"', "'unit_code' is a response column name"),
    ('type = "text"', 'type = "textarea"', "type 'textarea'; use scale, choice or text"),
    ('options = ["Loa phát thanh", "Người quen", "Khác"]', "", "a choice question needs options"),
    ('type = "text"', 'type = "text"\noptions = ["a"]', "only choice questions take options"),
    ('id = "ket-qua"', 'id = "tiep-can"', "blocks[2]: duplicate block id 'tiep-can'"),
    ('id = "ket-qua"', 'id = "Kết quả"', "blocks[2].id 'Kết quả' may hold only"),
    ("weight = 2", "weight = 0", "blocks[2].weight must be a number above 0"),
])
def test_bad_blocks_and_questions(tmp_path, old, new, expected):
    assert expected in error_of(tmp_path, toml=replace(old, new))


def test_blocks_written_as_a_value_or_a_single_table(tmp_path):
    head = SMALL_TOML.split("[[blocks]]")[0]
    toml = replace("year = 2024", 'year = 2024\nblocks = "tiep-can"', head)
    assert "'blocks' must be written as [[blocks]] tables" in error_of(tmp_path, toml=toml)
    toml = replace('[[blocks]]\nid = "tiep-can"', '[blocks]\nid = "tiep-can"')
    assert error_of(tmp_path, toml=toml).startswith("survey.toml, line 14, column 9: a setting or "
                                                    "section given twice")


def test_no_blocks_or_no_scale_question(tmp_path):
    head = SMALL_TOML.split("[[blocks]]")[0]
    assert "no [[blocks]]" in error_of(tmp_path, toml=head)
    only_text = head + '[[blocks]]\nid = "a"\ntitle = "A"\n\n[[questions]]\nid = "t"\nblock = "a"\ntext = "Ý kiến"\ntype = "text"\n'
    assert "no scale question" in error_of(tmp_path, toml=only_text)


# -- units.csv ----------------------------------------------------------------------------------
@pytest.mark.parametrize("units, expected", [
    ("code,name\nX01,Xã A\nX02,Xã B\nx01,Xã C\n",
     "units.csv row 4, column 'code': duplicate code 'x01' (also on row 2)"),
    ("code,name\nX01,Xã A\n\nX01,Xã B\n", "units.csv row 4, column 'code': duplicate code 'X01' (also on row 2)"),
    ("code,ten\nX01,Xã A\n", "units.csv row 1: missing column(s) 'name'; the header needs code, name"),
    ("ma,ten\nX01,Xã A\n", "units.csv row 1: missing column(s) 'code', 'name'"),
    ("code,name,code\nX01,A,X01\n", "units.csv row 1: column 'code' appears twice"),
    ("code,name\nX 01,Xã A\n", "units.csv row 2, column 'code': 'X 01' may hold only letters, digits"),
    ("code,name\nX01,\n", "units.csv row 2, column 'name': unit 'X01' has no name"),
    ("code,name\nX01,Xã A, huyện B\n", "units.csv row 2: 3 cells but the header has 2; check for an unquoted comma"),
    ("code,name,quota_individual\nX01,Xã A,mười lăm\n",
     "units.csv row 2, column 'quota_individual': 'mười lăm' is not a whole number"),
    ("code,name,quota_organization\nX01,Xã A,-1\n", "units.csv row 2, column 'quota_organization': -1 is below 0"),
    ("code,name,quota_individual\nX01,Xã A,7.5\n", "'7.5' is not a whole number"),
    ("code,name\n", "units.csv: no units; add one row per rated unit"),
    ("", "units.csv: the file is empty; it needs a header row"),
    ('code,name\nX01,"Xã A\nX02,Xã B\n', "units.csv row 2: unexpected end of data; a quote (\") is opened and never closed"),
    ('code,name\nX01,Xã A\nX02,"Xã B" C\n', "units.csv row 3: ',' expected after '\"'"),
    ('code,name\nX01,"Xã A\nX02",Xã B\n', "units.csv row 2: 3 cells but the header has 2"),
    ('code,name,parent\nX01,Xã A,"Thôn 1\nhuyện B"\nX02,Xã B,\nX02,Xã C,\n',
     "units.csv row 4, column 'code': duplicate code 'X02' (also on row 3)"),  # rows as a spreadsheet counts them
    ('code,name\nX01,Xã "Hồng" Lĩnh\n\n\n', None),
])
def test_bad_units(tmp_path, units, expected):
    if expected is None:  # a quote inside a cell is fine
        assert load_survey(write_survey(tmp_path / "s", units=units)).units[0].name == 'Xã "Hồng" Lĩnh'
        return
    assert expected in error_of(tmp_path, units=units)


def test_units_header_any_case_and_spaces(tmp_path):
    units = load_units(write_survey(tmp_path / "s", units=" Code , NAME ,Parent\n X01 , Xã A ,Huyện B\n") / "units.csv")
    assert (units[0].code, units[0].name, units[0].parent) == ("X01", "Xã A", "Huyện B")


def test_read_table_rejects_unknown_columns_when_asked(tmp_path):
    path = tmp_path / "visitors.csv"
    path.write_text("unit_code,date,visitors,note\n", "utf-8")
    with pytest.raises(HailongError, match=r"visitors.csv row 1: unknown column 'note'; allowed: date, unit_code, visitors"):
        read_table(path, ["unit_code", "date", "visitors"], allow_extra=False)


@pytest.mark.parametrize("extra, message", [
    ("[[blocks]]\nid = \"nan-b\"\ntitle = \"B\"\nweight = nan\n", "weight must be a number above 0"),
    ("[[blocks]]\nid = \"inf-b\"\ntitle = \"B\"\nweight = inf\n", "weight must be a number above 0"),
])
def test_block_weight_must_be_finite(tmp_path, extra, message):
    with pytest.raises(HailongError, match=message):
        load_survey(write_survey(tmp_path / "s", SMALL_TOML + extra))


@pytest.mark.parametrize("bands, message", [
    ('[{ min = 120, label = "A" }, { min = 0, label = "B" }]', "from 0 to 100"),
    ('[{ min = nan, label = "A" }, { min = 0, label = "B" }]', "from 0 to 100"),
    ('[{ min = 50, label = " " }, { min = 0, label = "B" }]', "label is empty"),
])
def test_band_minimums_and_labels(tmp_path, bands, message):
    toml = SMALL_TOML.replace('[window]', f'[scoring]\nbands = {bands}\n\n[window]')
    with pytest.raises(HailongError, match=message):
        load_survey(write_survey(tmp_path / "s", toml))


def test_a_huge_scale_is_refused_not_built(tmp_path):
    toml = SMALL_TOML.replace('[window]', '[scale]\nmax = 2000000000\n\n[window]')
    with pytest.raises(HailongError, match="use at most 11"):
        load_survey(write_survey(tmp_path / "s", toml))


def test_semicolon_separated_units_file_says_so(tmp_path):
    with pytest.raises(HailongError, match="separated by ';'"):
        load_survey(write_survey(tmp_path / "s", units="code;name\nX01;Xã A\n"))


def test_min_cell_cannot_exceed_min_responses(tmp_path):
    toml = SMALL_TOML.replace('[window]', '[scoring]\nmin_responses = 3\n\n[window]')
    assert load_survey(write_survey(tmp_path / "a", toml)).scoring.min_cell == 3  # default follows
    toml = toml.replace('min_responses = 3', 'min_responses = 3\nmin_cell = 5')
    with pytest.raises(HailongError, match=r"min_cell \(5\) must be from 1 to scoring.min_responses \(3\)"):
        load_survey(write_survey(tmp_path / "s", toml))


def test_tickets_access_loads(tmp_path):
    toml = SMALL_TOML.replace('year = 2024', 'year = 2024\naccess = "tickets"')
    assert load_survey(write_survey(tmp_path / "s", toml)).access == "tickets"


def test_publish_min_share_default_and_range(tmp_path):
    assert load_survey(write_survey(tmp_path / "a", SMALL_TOML)).publish.min_share == 0.5
    toml = SMALL_TOML.replace('[window]', '[publish]\nmin_share = 1.5\n\n[window]')
    with pytest.raises(HailongError, match="publish.min_share must be between 0 and 1"):
        load_survey(write_survey(tmp_path / "s", toml))


@pytest.mark.parametrize("key, value", [("options", "[1, 2]"), ("labels", "[1, 2, 3, 4, 5]")])
def test_text_lists_must_hold_text(tmp_path, key, value):
    if key == "options":
        toml = SMALL_TOML.replace('options = ["Loa phát thanh", "Người quen", "Khác"]', f"options = {value}")
    else:
        toml = SMALL_TOML.replace('[window]', f'[scale]\nlabels = {value}\n\n[window]')
    with pytest.raises(HailongError, match=f"every item of .*{key} must be text"):
        load_survey(write_survey(tmp_path / "s", toml))
