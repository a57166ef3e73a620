"""The list the interviewers carry (`hailong sample`): sample.xlsx and sample.pdf.

sample.csv and reserve.csv hold ids only; this joins them with transactions.csv so nobody has
to do it by hand: per unit, the official list then the reserve, each in the order of the draw,
with name, address, field, date of the procedure and respondent type, and empty columns the
interviewer fills in. It is personal data: it is written under `<out>/<id>/data/` beside the
other sample files, which nothing publishes.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.pagebreak import Break

from hailong.collect.pdf import html_to_pdf
from hailong.fsutil import atomic_write_bytes
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.survey.tables import parse_date

TEMPLATES = Path(__file__).resolve().parents[2] / "site" / "templates"
FONT = "Times New Roman"  # the font of Vietnamese official papers; it has every diacritic
HEADERS = ["STT", "Họ và tên / Tên tổ chức", "Địa chỉ", "Lĩnh vực", "Ngày giải quyết",
           "Đối tượng", "Danh sách", "Kết quả phỏng vấn", "Ngày phỏng vấn", "Ghi chú"]
WIDTHS = [6, 28, 40, 22, 13, 11, 12, 20, 13, 18]
OUTCOME_COLUMNS = 3  # the last three are left empty for the interviewer
LIST_NAMES = {"sample": "Chính thức", "reserve": "Dự phòng"}
PDF_BATCH = 200  # units per Chromium call
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Entry:
    order: int
    name: str
    address: str
    field: str
    date: str  # DD/MM/YYYY as written in Vietnam
    respondent_type: str  # Cá nhân | Tổ chức
    list_name: str  # Chính thức | Dự phòng


def entries_by_unit(survey, sample: pd.DataFrame, reserve: pd.DataFrame,
                    rows: list[dict[str, str]]) -> list[tuple[object, list[Entry]]]:
    """(unit, entries) for each unit with anyone drawn, in units.csv order: the official list
    first, then the reserve; within each, individuals then organisations, in draw order."""
    by_id: dict[str, dict[str, str]] = {}
    for row in rows:
        by_id.setdefault(row.get("id", "").strip(), row)
    types = list(RESPONDENT_TYPE_LABELS)
    out = []
    for unit in survey.units:
        entries = []
        for key, frame in (("sample", sample), ("reserve", reserve)):
            part = frame[frame["unit_code"] == unit.code].copy()
            part["_type"] = part["respondent_type"].map(types.index)
            for r in part.sort_values(["_type", "order"], kind="stable").itertuples():
                t = by_id[r.id]
                day = parse_date(t.get("date", ""))
                entries.append(Entry(
                    order=len(entries) + 1, name=t.get("name", "").strip(),
                    address=t.get("address", "").strip(), field=t.get("field", "").strip(),
                    date=day.strftime("%d/%m/%Y") if day else t.get("date", "").strip(),
                    respondent_type=RESPONDENT_TYPE_LABELS[r.respondent_type],
                    list_name=LIST_NAMES[key],
                ))
        if entries:
            out.append((unit, entries))
    return out


def _set_text(cell, value) -> None:
    """A cell holding text as text: a name typed as "=..." or "-..." is never run as a formula."""
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def sample_xlsx(survey, groups, seed: int) -> bytes:
    """One sheet, a block per unit (its title row, then its people), a printed page per unit."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Danh sách phỏng vấn"
    last = get_column_letter(len(HEADERS))
    body = Font(name=FONT, size=12)
    bold = Font(name=FONT, size=12, bold=True)
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    ws["A1"] = f"DANH SÁCH PHỎNG VẤN – {survey.title}".upper()
    ws["A1"].font = Font(name=FONT, size=14, bold=True)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="center")
    ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = 40
    ws["A2"] = (f"Mẫu chọn ngẫu nhiên (số ngẫu nhiên {seed}). Phỏng vấn danh sách chính thức "
                "trước; chỉ khi không gặp được mới thay bằng người dự phòng cùng đối tượng, theo "
                "đúng thứ tự. Tài liệu có thông tin cá nhân: không công bố, không chia sẻ.")
    ws["A2"].font = body
    ws["A2"].alignment = wrap
    ws.merge_cells(f"A2:{last}2")
    ws.row_dimensions[2].height = 36
    row = 4
    for unit, entries in groups:
        if row > 4:
            ws.row_breaks.append(Break(id=row - 1))
        c = ws.cell(row=row, column=1, value=f"{unit.name}" + (f" – {unit.parent}" if unit.parent else ""))
        c.font = Font(name=FONT, size=13, bold=True)
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(HEADERS))
        row += 1
        for col, text in enumerate(HEADERS, 1):
            h = ws.cell(row=row, column=col, value=text)
            h.font = bold
            h.fill = PatternFill("solid", fgColor="DDE6F0")
            h.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
            h.border = border
        ws.row_dimensions[row].height = 48  # two-line Vietnamese headers, diacritics included
        row += 1
        for e in entries:
            values = [e.order, e.name, e.address, e.field, e.date, e.respondent_type, e.list_name,
                      *([""] * OUTCOME_COLUMNS)]
            for col, value in enumerate(values, 1):
                c = ws.cell(row=row, column=col)
                _set_text(c, value if value != "" else None)
                c.font = bold if e.list_name == LIST_NAMES["sample"] and col == 7 else body
                c.alignment = wrap
                c.border = border
            row += 1
        row += 1
    for col, width in enumerate(WIDTHS, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    ws.oddFooter.center.text = "Trang &P / &N"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def sample_html(survey, groups, seed: int) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    return env.get_template("print/sample.html").render(
        root="", survey=survey, groups=groups, seed=seed, headers=HEADERS,
        outcome_columns=OUTCOME_COLUMNS)


def write_field_list(survey, data_dir: Path, sample: pd.DataFrame, reserve: pd.DataFrame,
                     rows: list[dict[str, str]], seed: int) -> list[Path]:
    """Write sample.xlsx and sample.pdf into `data_dir`; returns their paths."""
    groups = entries_by_unit(survey, sample, reserve, rows)
    xlsx = data_dir / "sample.xlsx"
    pdf = data_dir / "sample.pdf"
    atomic_write_bytes(xlsx, sample_xlsx(survey, groups, seed))
    with tempfile.TemporaryDirectory(prefix="hailong-sample-") as work:
        # a national sample is thousands of pages: Chromium prints them a batch of units at a
        # time (each start costs half a second, one huge document costs memory) and the parts
        # are joined; an empty sample still gets a file saying so
        files = []
        for start in range(0, max(1, len(groups)), PDF_BATCH):
            html = Path(work) / f"sample-{start:06d}.html"
            html.write_text(sample_html(survey, groups[start:start + PDF_BATCH], seed), encoding="utf-8")
            files.append(html)
        html_to_pdf(files, pdf)
    return [xlsx, pdf]
