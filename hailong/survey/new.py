"""A new survey folder from a shipped survey (`hailong new`): its questions, blocks, scale,
scoring and quotas, with this year's window and a province's communes and wards.

The template's survey.toml is rewritten line by line rather than parsed and re-serialised, so
its questions keep their wording, order and comments; only the settings that name a place or
a date are replaced, each under a Vietnamese comment saying what to check. The result is loaded
with `load_survey` before it is put in place, so `new` never leaves a folder `build` refuses.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_csv, atomic_write_text
from hailong.i18n import _
from hailong.survey.load import SURVEY_ID, load_survey
from hailong.survey.tables import read_table
from hailong.survey.units import find_province, units_frame

SURVEYS = Path(__file__).resolve().parents[2] / "surveys"
ROSTER_HEADER = ["id", "name", "unit_code", "tax_code", "district", "contact"]


@dataclass(frozen=True)
class Template:
    source: str  # shipped survey folder
    title: str  # {place}: "tỉnh Hà Tĩnh" or "Thành phố Hà Nội"; {year}
    organizer: str
    intro: str
    about: str  # the header comment: what the survey is and what to edit first


TEMPLATES = {
    "sipas": Template(
        "sipas-xa-2020",
        "Khảo sát sự hài lòng của người dân, tổ chức đối với sự phục vụ của Ủy ban nhân dân "
        "các xã, phường {place} năm {year}",
        "Ủy ban nhân dân {place}",
        "Để nâng cao chất lượng phục vụ người dân, tổ chức, Ủy ban nhân dân {place} trân trọng "
        "đề nghị Ông/Bà cho biết mức độ hài lòng của mình khi giải quyết thủ tục hành chính tại "
        "Bộ phận Một cửa của xã, phường. Phiếu không ghi tên người trả lời; ý kiến của Ông/Bà "
        "chỉ được dùng để tổng hợp chung.",
        "Đo lường sự hài lòng theo phương pháp SIPAS (5 yếu tố). Mẫu phiếu chọn ngẫu nhiên từ\n"
        "transactions.csv (hailong sample); số phiếu mỗi đơn vị ở units.csv (quota_…).",
    ),
    "pks02": Template(
        "pks02-2024",
        "Lấy ý kiến người dân đánh giá Chủ tịch Ủy ban nhân dân xã, phường trên địa bàn {place} "
        "năm {year}",
        "Ủy ban nhân dân {place}",
        "Ủy ban nhân dân {place} trân trọng đề nghị Ông/Bà cho biết ý kiến về Chủ tịch Ủy ban "
        "nhân dân xã, phường trong chỉ đạo cải cách hành chính, tiếp công dân và giải quyết kiến "
        "nghị, phản ánh của người dân. Phiếu không ghi tên; mỗi người chỉ trả lời một lần. Xin "
        "trân trọng cảm ơn Ông/Bà.",
        "Người dân đến Bộ phận Một cửa quét mã QR và trả lời trên điện thoại. Ghi số người đến\n"
        "giao dịch mỗi ngày vào visitors.csv (unit_code,date,visitors) để đối chiếu số phiếu.",
    ),
    "htx": Template(
        "htx-2023",
        "Khảo sát mức độ hài lòng của hợp tác xã đối với sự hỗ trợ phát triển kinh tế tập thể "
        "của Ủy ban nhân dân các xã, phường {place} năm {year}",
        "Liên minh Hợp tác xã {place}",
        "Để đánh giá việc thực hiện chính sách hỗ trợ phát triển kinh tế tập thể, hợp tác xã "
        "trong năm {year}, đề nghị đại diện hợp tác xã cho biết mức độ hài lòng đối với cơ quan "
        "có tên ở đầu trang. Mỗi hợp tác xã trả lời một phiếu; nếu cần sửa, hợp tác xã mở lại đường "
        "dẫn và gửi lại, phiếu gửi sau cùng sẽ được tính.",
        "Mỗi hợp tác xã trong roster.csv nhận một đường dẫn riêng (hailong links). Điền\n"
        "roster.csv (id,name,unit_code,tax_code,district,contact) trước khi chạy hailong links;\n"
        "units.csv có thể thêm các sở, ngành cấp tỉnh mà hợp tác xã đánh giá.",
    ),
}

# (section, key) -> the comment written above the replaced line
EDIT_HINTS = {
    ("", "id"): "Mã khảo sát: chữ thường, số và '-'; là một phần địa chỉ trang web.",
    ("", "title"): "SỬA: tiêu đề người dân thấy trên trang khảo sát.",
    ("", "year"): "Năm được đánh giá.",
    ("", "organizer"): "SỬA: cơ quan tổ chức khảo sát, in trên trang và áp phích.",
    ("", "intro"): "SỬA: lời mở đầu phía trên các câu hỏi.",
    ("window", "start"): "SỬA: ngày đầu và ngày cuối nhận phiếu (YYYY-MM-DD, tính cả hai ngày).",
    ("sampling", "province"): "Chỉ chọn mẫu người có địa chỉ trong tỉnh này.",
    ("sampling", "start"): "SỬA: khoảng thời gian giải quyết thủ tục được chọn mẫu.",
    ("letter", "number"): "SỬA: số văn bản của thư mời, ví dụ \"125/LMHTX-VP\" (để trống: viết tay).",
    ("letter", "place"): "Địa danh ghi ở dòng ngày tháng của thư mời.",
    ("letter", "signer_name"): "SỬA: họ và tên người ký thư mời.",
    ("collector", "kind"): ("SỬA: nơi nhận phiếu. \"local\" chỉ dùng để thử trên máy này (hailong serve):\n"
                            "phiếu gửi từ mã QR in ra sẽ mất hết. Trước khi in, triển khai web app Apps Script\n"
                            "(collector/README.vi.md), đặt kind = \"apps_script\" và url = địa chỉ /exec của nó."),
}


def _place(province_name: str) -> str:
    return province_name if province_name.startswith("Thành phố") else f"tỉnh {province_name}"


def _sections(path: Path) -> set[str]:
    return {m.group(1) for line in path.read_text(encoding="utf-8").splitlines()
            if (m := _SECTION.match(line))}


def _short(province_name: str) -> str:
    """"Hà Nội" for "Thành phố Hà Nội": a date line names the place alone."""
    return province_name.removeprefix("Thành phố ")


def _shift_year(text: str, years: int) -> str:
    day = dt.date.fromisoformat(text)
    try:
        return day.replace(year=day.year + years).isoformat()
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28).isoformat()


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_KEY = re.compile(r"^(\w+)\s*=\s*(.*)$")
_SECTION = re.compile(r"^\[([a-z_]+)\]\s*$")
_TABLE = re.compile(r"^\[\[([a-z_]+)\]\]\s*$")


def rewrite_toml(text: str, values: dict[tuple[str, str], str], about: str) -> str:
    """The template's survey.toml with `values` (TOML literals) in place of its settings and
    its header comment replaced by `about`; questions and blocks are kept as they are."""
    lines = text.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)  # the template's own header describes the template survey
    out = ["# " + line if line else "#" for line in about.splitlines()]
    out += ["# Các dòng ghi 'SỬA' cần xem lại trước khi in mã QR; sửa xong thì xoá chữ 'SỬA'",
            "# (hailong check báo những dòng còn chữ này). Các câu hỏi bên dưới lấy từ mẫu và có",
            "# thể sửa lời, thêm hoặc bớt (mỗi câu một [[questions]]).", ""]
    section = ""
    for line in lines:
        if m := _SECTION.match(line):
            section = m.group(1)
        elif _TABLE.match(line):
            section = "[[" + _TABLE.match(line).group(1) + "]]"
        elif (m := _KEY.match(line)) and (section, m.group(1)) in values:
            key = m.group(1)
            if (section, key) in EDIT_HINTS:
                out += ["# " + hint for hint in EDIT_HINTS[(section, key)].splitlines()]
            out.append(f"{key} = {values[(section, key)]}")
            continue
        # since 1 July 2025 there are no towns (thị trấn) below the province: communes and wards
        out.append(line.replace("xã, thị trấn", "xã, phường"))
    return "\n".join(out) + "\n"


def _quota_columns(template_units: Path) -> dict[str, str]:
    """The template's usual quota per respondent type (the most common value of each column)."""
    table = read_table(template_units, ["code", "name"])
    quotas = {}
    for column in ("quota_individual", "quota_organization"):
        given = [row[column] for row in table if row[column]]
        if given:
            quotas[column] = Counter(given).most_common(1)[0][0]
    return quotas


def new_survey(folder: Path, template: str, province: str | None = None,
               today: dt.date | None = None) -> str:
    """Write a new survey folder at `folder`; its id is the folder's name."""
    if template not in TEMPLATES:
        raise HailongError(_("no template '{template}'; use one of: {names}", template=template,
                             names=", ".join(TEMPLATES)))
    spec = TEMPLATES[template]
    folder = Path(folder)
    survey_id = folder.name
    if not SURVEY_ID.match(survey_id):
        raise HailongError(
            _("{path}: the folder name '{survey_id}' is the survey id: lower-case letters without "
              "diacritics, digits and '-' only, e.g. sipas-ha-tinh-2026", path=folder,
              survey_id=survey_id)
        )
    if folder.exists() and any(folder.iterdir()):
        raise HailongError(_("{path}: the folder already has files; choose a new folder", path=folder))
    source = SURVEYS / spec.source
    old = load_survey(source)
    today = today or dt.datetime.now(old.tz).date()  # today in Vietnam
    year = today.year
    shift = year - old.start.year
    if dt.date.fromisoformat(_shift_year(old.end.isoformat(), shift)) < today:
        # this year's window is already over (a survey set up in the autumn): next year's
        year, shift = year + 1, shift + 1

    if province is not None:
        prov = find_province(province)
        units = units_frame(prov.name)
        place = _place(units["parent"].iloc[0])
    else:
        units = pd.read_csv(source / "units.csv", dtype=str, keep_default_na=False)
        units = units[[c for c in units.columns if not c.startswith("quota_")]]
        place = old.organizer.split(" nhân dân ")[-1] if " nhân dân " in old.organizer else ""
    for column, value in _quota_columns(source / "units.csv").items():
        units[column] = value

    values = {
        ("", "id"): _toml_string(survey_id),
        ("", "title"): _toml_string(spec.title.format(place=place, year=year)),
        ("", "year"): str(year),
        ("", "organizer"): _toml_string(spec.organizer.format(place=place)),
        ("", "intro"): _toml_string(spec.intro.format(place=place, year=year)),
        ("window", "start"): _toml_string(_shift_year(old.start.isoformat(), shift)),
        ("window", "end"): _toml_string(_shift_year(old.end.isoformat(), shift)),
    }
    if "collector" in _sections(source / "survey.toml") and old.collector.kind == "local":
        values[("collector", "kind")] = '"local"'
    if "sampling" in old.settings and old.sampling.province:
        values[("sampling", "start")] = _toml_string(_shift_year(old.sampling.start.isoformat(), shift))
        values[("sampling", "end")] = _toml_string(_shift_year(old.sampling.end.isoformat(), shift))
        if province is not None:
            values[("sampling", "province")] = _toml_string(prov.name)
    if "letter" in _sections(source / "survey.toml"):
        values[("letter", "number")] = '""'
        values[("letter", "signer_name")] = '""'
        if province is not None:
            values[("letter", "place")] = _toml_string(_short(prov.name))
    text = rewrite_toml((source / "survey.toml").read_text(encoding="utf-8"), values, spec.about)

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
    try:
        atomic_write_text(tmp / "survey.toml", text)
        atomic_write_csv(tmp / "units.csv", units)
        if old.access == "roster":
            atomic_write_csv(tmp / "roster.csv", pd.DataFrame(columns=ROSTER_HEADER))
        load_survey(tmp)  # the folder must be one that build accepts
        if folder.exists():
            folder.rmdir()  # empty, checked above
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    todo = _(" Fill in roster.csv before running hailong links.") if old.access == "roster" else ""
    return _("Created {path} from template {template}: {units} units, answers taken from {start} "
             "to {end}. See the 'SỬA' lines in {toml}.{todo}", path=folder, template=template,
             units=len(units), start=values[("window", "start")][1:-1],
             end=values[("window", "end")][1:-1], toml=folder / "survey.toml", todo=todo)
