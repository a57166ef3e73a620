"""The downloadable results beside the ranking page: ranking.csv, ranking.json, ranking.xlsx.

All three hold the published figures only (cells withheld for having fewer than min_cell
answers are empty), never a single response.
"""

from __future__ import annotations

import io
import json
from copy import copy
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from hailong import cells, csvtext
from hailong.publish.results import UnitResult
from hailong.survey.load import Survey

# Fill colours of the bands in the spreadsheet (band-0 is the best), light enough to print
# black text on; the band's name is always written in its own column as well.
XLSX_FILLS = ["B7E1C1", "D4EDC9", "FFF1B8", "FFD8B0", "F6C4C0", "E3D7F0"]
NONE_FILL = "E7E7E7"
# the three rules of contract section 5 (steps 5, 8, 9), in words a district official can follow
XLSX_RULES = (
    "Cách đọc: (1) Khoảng tin cậy 95% là khoảng Clopper–Pearson trên «cỡ mẫu hiệu dụng» (cách "
    "tính ở trang Phương pháp): với ít phiếu, khoảng rộng, kể cả khi mọi người cùng hài lòng "
    "(10 phiếu đều hài lòng: 61,18–100 khi hệ số thiết kế D = 1). "
    "(2) Hạng có thể – từ/đến: sai số chuẩn = (cận trên − cận dưới) ÷ 3,92; đơn vị B rõ ràng cao "
    "hơn đơn vị A khi chỉ số B − chỉ số A > 1,96 × √((sai số chuẩn A)² + (sai số chuẩn B)²). "
    "«Từ» = 1 + số đơn vị rõ ràng cao hơn; «đến» = số đơn vị được xếp hạng − số đơn vị rõ ràng "
    "thấp hơn. (3) So với kỳ trước, thay đổi rõ rệt khi |chênh lệch| > 1,96 × √((sai số chuẩn "
    "kỳ này)² + (sai số chuẩn kỳ trước)²); nếu không: chưa đủ căn cứ để kết luận thay đổi."
)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def ranking_csv(survey: Survey, units: list[UnitResult]) -> bytes:
    """The contract's ranking.csv columns, with withheld cells left empty."""
    safe = cells.safe
    lines = [csvtext.line(["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high",
                           "band", "ranked", "rank_low", "rank_high",
                           *(safe(f"block:{b.id}") for b in survey.blocks)])]
    for u in units:
        lines.append(csvtext.line([str(c) for c in (
            _int(u.rank), safe(u.code), safe(u.name), u.n, _num(u.index),
            _num(u.low), _num(u.high), safe(u.band), "true" if u.ranked else "false",
            _int(u.rank_low), _int(u.rank_high),
            *(_num(u.blocks.get(b.id)) for b in survey.blocks))]))
    return (cells.BOM + "".join(lines)).encode("utf-8")


def ranking_json(survey: Survey, units: list[UnitResult], meta: dict[str, Any],
                 cells_: dict | None = None, part: dict[str, dict] | None = None,
                 periods: list | None = None, avg: dict | None = None, run: Any = None) -> bytes:
    """Every figure any results page shows, for programs to read what a person reads (contract
    v3, section 4): the survey and its settings (with `run`, a dataset.RunInfo, the design effect
    D and the scale questions Q its intervals were computed with, so anyone can recompute one),
    the release, and per unit its ranking line, blocks, questions, respondent types,
    participation and history. Withheld figures are null."""
    def r2(v):
        return None if v is None else round(v, 2)

    cells_ = cells_ or {}
    facts = meta.get("run") or {}  # what run.json said, when no verified RunInfo is given
    deff = run.design_effect if run is not None else facts.get("design_effect")
    periods = sorted(periods or [], key=lambda p: p.date)
    part = part or {u.code: {"responses": u.n, "quota": None, "percent": None, "types": []}
                    for u in units}
    avg = avg or {}
    release = meta.get("release")
    doc = {
        "survey": {
            "id": survey.id, "title": survey.title, "year": survey.year, "series": survey.series,
            "organizer": survey.organizer, "start": survey.start.isoformat(),
            "end": survey.end.isoformat(), "method": survey.scoring.method,
            "min_responses": survey.scoring.min_responses, "min_cell": survey.scoring.min_cell,
            "design_effect": deff if isinstance(deff, int | float) else None,
            "scale_questions": (run.scale_questions if run is not None
                                else len(survey.scale_questions)),
            "bands": [{"min": b.min, "label": b.label} for b in survey.bands],
            "blocks": [{"id": b.id, "title": b.title, "weight": b.weight} for b in survey.blocks],
            "questions": [{"id": q.id, "block": q.block, "text": q.text}
                          for q in survey.scale_questions],
        },
        "release": release.as_json() if release is not None else None,
        "demo": bool(meta.get("demo")),
        "updated": meta["updated"],
        "responses": meta["responses"],
        "averages": {"index": r2(avg.get("")),
                     "blocks": {b.id: r2(avg.get(f"block:{b.id}")) for b in survey.blocks},
                     "questions": {q.id: r2(avg.get(f"q:{q.id}")) for q in survey.scale_questions}},
        "units": [
            {
                "rank": u.rank, "unit_code": u.code, "unit_name": u.name, "district": u.district,
                "n": u.n, "responses": u.current, "index": r2(u.index), "ci_low": r2(u.low), "ci_high": r2(u.high),
                "band": u.band, "ranked": u.ranked, "rank_low": u.rank_low,
                "rank_high": u.rank_high, "reason": u.reason or None,
                "blocks": {b.id: r2(u.blocks.get(b.id)) for b in survey.blocks},
                "questions": {q.id: {"value": r2(cells_.get((u.code, q.id), (None, 0))[0]),
                                     "answers": cells_.get((u.code, q.id), (None, 0))[1]}
                              for q in survey.scale_questions},
                # what the releases so far leave open of each withheld question (section 8)
                "bounds": {q: list(v) for q, v in u.bounds.items()},
                "earlier": u.earlier,
                "types": ({t["type"]: t["responses"] for t in part[u.code]["types"]}
                          or {survey.respondent_types[0]: u.n}),
                "participation": _participation(part[u.code]),
                "history": [_history_entry(p.date, p.get(u.code)) for p in periods
                            if p.get(u.code) is not None],
            }
            for u in units
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _participation(p: dict[str, Any]) -> dict[str, Any]:
    roster = p.get("roster")
    return {"responses": p["responses"], "quota": p["quota"], "percent": p["percent"],
            "under_review": list(p.get("checking") or []),
            "review": p.get("review") or None,
            "roster": None if roster is None else {"answered": roster["answered"],
                                                   "eligible": roster["eligible"]},
            "quotas": {t["type"]: t["quota"] for t in p.get("types") or []}}


def _history_entry(date: str, r) -> dict[str, Any]:
    def r2(v):
        return None if v is None else round(v, 2)
    return {"date": date, "n": r.n, "index": r2(r.index), "ci_low": r2(r.low),
            "ci_high": r2(r.high), "rank": r.rank, "rank_low": r.rank_low,
            "rank_high": r.rank_high}


def ranking_xlsx(survey: Survey, units: list[UnitResult], meta: dict[str, Any]) -> bytes:
    """A sheet district staff can print: Vietnamese headers, widths, band colours, A4 landscape."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Xếp hạng"
    blocks = survey.blocks
    headers = ["Hạng", "Mã", "Đơn vị", "Địa bàn", "Số phiếu", "Chỉ số",
               "KTC 95% – cận dưới", "KTC 95% – cận trên", "Xếp loại",
               *(b.title for b in blocks), "Hạng có thể – từ", "Hạng có thể – đến", "Ghi chú"]
    ncol = len(headers)
    last = get_column_letter(ncol)
    cells.xlsx_value(ws["A1"], f"KẾT QUẢ XẾP HẠNG – {survey.title}".upper())
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.merge_cells(f"A1:{last}1")
    ws["A2"] = (f"Thời gian khảo sát: {survey.start:%d/%m/%Y} – {survey.end:%d/%m/%Y}. "
                f"Số phiếu hợp lệ: {meta['responses']}. Cập nhật: {meta['updated_text']}.")
    ws["A2"].data_type = "s"
    ws.merge_cells(f"A2:{last}2")
    ws["A3"] = ("Chỉ số từ 0 đến 100; KTC 95%: khoảng tin cậy 95%. Đơn vị có dưới "
                f"{survey.scoring.min_responses} phiếu hợp lệ không được xếp hạng; ô trống: chưa đủ "
                f"{survey.scoring.min_cell} câu trả lời.")
    ws.merge_cells(f"A3:{last}3")
    ws["A4"] = XLSX_RULES
    ws.merge_cells(f"A4:{last}4")
    for cell in (ws["A2"], ws["A3"], ws["A4"]):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 30
    ws.row_dimensions[4].height = 105

    header_row = 6
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for col, text in enumerate(headers, 1):
        c = ws.cell(row=header_row, column=col)
        cells.xlsx_value(c, text)
        c.font = Font(bold=True, color="FFFFFF")
        c.fill = PatternFill("solid", fgColor="1F4E79")
        c.alignment = Alignment(wrap_text=True, horizontal="center", vertical="center")
        c.border = border

    band_pos = {b.label: i for i, b in enumerate(survey.bands)}
    styles: dict[tuple, object] = {}  # (fill of the band cell or False, is a number) -> style
    for r, u in enumerate(units, header_row + 1):
        note = u.reason if not u.ranked else ""
        if u.suppressed:
            note = (note + "; " if note else "") + "Chưa đủ câu trả lời"
        values = [u.rank, u.code, u.name, u.district, u.n, u.index, u.low, u.high, u.band,
                  *(u.blocks.get(b.id) for b in blocks), u.rank_low, u.rank_high, note]
        pos = band_pos.get(u.band) if u.ranked else None
        fill = XLSX_FILLS[pos % len(XLSX_FILLS)] if pos is not None else NONE_FILL
        for col, value in enumerate(values, 1):
            c = ws.cell(row=r, column=col)
            cells.xlsx_value(c, value)  # a unit named "=HYPERLINK(…)" stays that text
            kind = (col == 9 and fill, isinstance(value, float))
            if kind in styles:
                # openpyxl hashes every style object on each assignment, which made the styling
                # most of publish's time at 10,600 units: copy the finished style of a cell
                # already styled the same way instead
                c._style = copy(styles[kind])
                continue
            c.border = border
            if kind[1]:
                c.number_format = "0.00"
            if kind[0]:
                c.fill = PatternFill("solid", fgColor=fill)
            styles[kind] = copy(c._style)

    widths = [7, 10, 30, 18, 9, 9, 11, 11, 13, *([13] * len(blocks)), 10, 10, 32]
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    cells.xlsx_finish(ws)  # the named font everywhere, rows as tall as their wrapped text
    ws.freeze_panes = ws.cell(row=header_row + 1, column=4)
    ws.auto_filter.ref = f"A{header_row}:{last}{header_row + len(units)}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.oddFooter.center.text = "Trang &P / &N"
    ws.print_options.horizontalCentered = True

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
