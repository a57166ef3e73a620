"""The daily participation report (`hailong progress`), sent by staff at 16:30–17:00.

Per unit: responses on the day, cumulative up to that day, target (the unit's total quota, or
the fewest responses that get it ranked when units.csv gives no quota), percent of target and a
status; units needing attention first. Four renderings of one frame: aligned text, Zalo
messages (plain Vietnamese, short lines, each message under 4,000 characters), CSV, and an HTML
staff page in the site (noindex, linked from nowhere public).

The staff page shows counts only: the names and contacts of cooperatives that have not yet
answered stay in the text and Zalo reports, because the site is published.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hailong import participation as part
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text
from hailong.layout import STAFF_SEGMENT, Layout, root_prefix

TEMPLATES = Path(__file__).resolve().parent.parent / "site" / "templates"
ZALO_LIMIT = 4000  # Zalo cuts longer messages; each message stays below this
# Attention order: the report lists units from the most urgent.
STATUSES = {
    "too_many": (0, "Số phiếu cao bất thường so với lượt khách, cần kiểm tra"),
    "too_few": (1, "Ít phiếu so với lượt khách"),
    "below_minimum": (2, "Chưa đủ số phiếu tối thiểu trong ngày"),
    "behind": (3, "Chậm so với chỉ tiêu"),
    "ok": (4, "Đạt"),
}
COLUMNS = ["unit_code", "unit_name", "today", "cumulative", "target", "percent", "visitors",
           "min_expected", "max_expected", "day_status", "status", "attention", "note"]


def _fmt_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _num(n: int | float) -> str:
    """Vietnamese thousands separator: 1.234."""
    return f"{int(n):,}".replace(",", ".")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


# -- the data ------------------------------------------------------------------------------
def load_responses(survey, out: Path) -> pd.DataFrame:
    path = Layout(Path(out), survey.id).data_file("responses.csv")
    if not path.exists():
        raise HailongError(
            f"{path}: no scored responses yet; run `hailong pull {survey.path}` and "
            f"`hailong score {survey.path}` first"
        )
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(f"{path}: cannot read it ({exc}); run `hailong score` again") from None


def progress_frame(survey, accepted: pd.DataFrame, visitors: dict, day: dt.date) -> pd.DataFrame:
    """One row per unit, most urgent first; see the module doc for the columns' meaning."""
    dates = part.local_dates(accepted, survey.tz)
    upto = accepted[[d is not None and d <= day for d in dates]] if len(accepted) else accepted
    counts = part.daily_counts(survey, upto)
    quotas = part.quota_table(survey, upto).set_index("unit_code")
    tol = survey.participation.tolerance
    days = survey.days()
    elapsed = sum(1 for d in days if d <= day)
    rows = []
    for unit in survey.units:
        today = counts.get((unit.code, day), 0)
        cumulative = int(quotas.loc[unit.code, "responses"])
        target = unit.quota if unit.quota is not None else survey.scoring.min_responses
        v = visitors.get((unit.code, day))
        minimum = part._minimum(survey, v)
        low, high, day_status = part.judge(today, v, minimum, tol)
        in_window = survey.start <= day <= survey.end
        expected_by_now = math.ceil(target * elapsed / len(days)) if target else 0
        if day_status == "too_many" and in_window:
            status = "too_many"
        elif day_status == "too_few" and in_window:
            status = "too_few"
        elif day_status == "no_visitor_count" and visitors and in_window and today < minimum:
            # the daily minimum belongs to surveys counted at the office (visitors.csv); a
            # sampled survey over weeks is judged by its pace against the quota instead
            status = "below_minimum"
        elif cumulative < expected_by_now:
            status = "behind"
        else:
            status = "ok"
        if v is not None:
            note = f"khách {_num(v)}, cần {_num(low)}–{_num(high)} phiếu"
        elif visitors and in_window:
            note = "chưa có số lượt khách hôm nay"
        else:
            note = ""
        rows.append({
            "note": note,
            "unit_code": unit.code, "unit_name": unit.name, "today": today,
            "cumulative": cumulative, "target": target,
            "percent": round(100 * cumulative / target, 1) if target else None,
            "visitors": v, "min_expected": low, "max_expected": high,
            "day_status": day_status if in_window else "", "status": status,
            "attention": STATUSES[status][0],
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["attention", "percent", "unit_code"], kind="stable",
                              na_position="last")
    return frame.reset_index(drop=True)


def _roster_parts(survey, accepted: pd.DataFrame):
    if survey.access != "roster":
        return None
    from hailong import roster

    members = roster.load_roster(survey)
    done = roster.answered_ids(members, accepted)
    return roster.completion(members, done), roster.not_answered(members, done)


def _day(survey, day: dt.date | None) -> dt.date:
    if day is None:
        return dt.datetime.now(survey.tz).date()
    return day


# -- renderings ----------------------------------------------------------------------------
def _heading(survey, day: dt.date) -> list[str]:
    days = survey.days()
    if survey.start <= day <= survey.end:
        which = f"ngày thứ {days.index(day) + 1}/{len(days)} của đợt khảo sát"
    elif day < survey.start:
        which = f"chưa đến đợt khảo sát (bắt đầu {_fmt_date(survey.start)})"
    else:
        which = f"đợt khảo sát đã kết thúc ngày {_fmt_date(survey.end)}"
    return [f"TIẾN ĐỘ KHẢO SÁT: {survey.title}", f"Ngày {_fmt_date(day)} ({which})"]


def _totals(frame: pd.DataFrame) -> tuple[int, int, int]:
    return int(frame["today"].sum()), int(frame["cumulative"].sum()), int(frame["target"].sum())


def render_text(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None) -> str:
    header = ["Mã", "Đơn vị", "Hôm nay", "Cộng dồn", "Chỉ tiêu", "% chỉ tiêu", "Tình trạng"]
    body = [[r.unit_code, r.unit_name, _num(r.today), _num(r.cumulative), _num(r.target),
             _pct(r.percent), STATUSES[r.status][1] + (f" ({r.note})" if r.note else "")]
            for r in frame.itertuples()]
    today, cum, target = _totals(frame)
    body.append(["", "TỔNG CỘNG", _num(today), _num(cum), _num(target),
                 _pct(100 * cum / target if target else None), ""])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    numeric = {2, 3, 4, 5}

    def line(cells):
        parts = [c.rjust(w) if i in numeric else c.ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    lines = [*_heading(survey, day), "", line(header), line(["-" * w for w in widths])]
    lines += [line(row) for row in body[:-1]]
    lines += [line(["-" * w for w in widths]), line(body[-1])]
    if roster_parts is not None:
        completion, pending = roster_parts
        total = completion[(completion.unit_code == "total") & (completion.district == "total")].iloc[0]
        lines += ["", f"HỢP TÁC XÃ ĐÃ TRẢ LỜI: {total.answered}/{total.eligible} ({total.percent}%)"]
        for r in completion[(completion.district == "total") & (completion.unit_code != "total")].itertuples():
            lines.append(f"  {r.unit_code}: {r.answered}/{r.eligible} ({r.percent}%)")
        by_district = completion[(completion.unit_code == "total") & (completion.district != "total")]
        for r in by_district.itertuples():
            lines.append(f"  Huyện/khu vực {r.district or '(không ghi)'}: {r.answered}/{r.eligible} ({r.percent}%)")
        if len(pending):
            lines += ["", f"CHƯA TRẢ LỜI ({len(pending)}), cần gọi nhắc:"]
            for r in pending.itertuples():
                extra = ", ".join(x for x in (r.district, r.contact) if x)
                lines.append(f"  {r.unit_code}  {r.id}  {r.name}" + (f"  ({extra})" if extra else ""))
    return "\n".join(lines)


def zalo_messages(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None,
                  limit: int = ZALO_LIMIT) -> list[str]:
    """The report as Zalo messages: no tables, one short line per fact, each message under
    `limit` characters with a "(1/2)" mark when there is more than one."""
    today, cum, target = _totals(frame)
    head = _heading(survey, day)
    head.append(f"Toàn bộ: hôm nay {_num(today)} phiếu, cộng dồn {_num(cum)}/{_num(target)}"
                + (f" ({_pct(100 * cum / target)})" if target else ""))
    blocks: list[str] = []
    need = frame[frame["status"] != "ok"]
    fine = frame[frame["status"] == "ok"]
    if len(need):
        blocks.append(f"CẦN CHÚ Ý ({len(need)} đơn vị):")
        for i, r in enumerate(need.itertuples(), 1):
            note = r.note
            blocks.append(f"{i}. {r.unit_name}\n- Hôm nay {_num(r.today)}, cộng dồn "
                          f"{_num(r.cumulative)}/{_num(r.target)} ({_pct(r.percent)})\n"
                          f"- {STATUSES[r.status][1]}" + (f" ({note})" if note else ""))
    if len(fine):
        blocks.append(f"ĐẠT ({len(fine)} đơn vị):")
        for r in fine.itertuples():
            blocks.append(f"- {r.unit_name}: hôm nay {_num(r.today)}, cộng dồn "
                          f"{_num(r.cumulative)}/{_num(r.target)} ({_pct(r.percent)})")
    if roster_parts is not None:
        completion, pending = roster_parts
        total = completion[(completion.unit_code == "total") & (completion.district == "total")].iloc[0]
        blocks.append(f"HTX đã trả lời: {total.answered}/{total.eligible} ({total.percent}%)")
        if len(pending):
            blocks.append(f"HTX chưa trả lời ({len(pending)}), nhờ các đơn vị gọi nhắc:")
            for r in pending.itertuples():
                blocks.append(f"- {r.name} ({r.unit_code})" + (f": {r.contact}" if r.contact else ""))
    blocks.append("Đề nghị các đơn vị cần chú ý kiểm tra và báo cáo lại.")
    return _split("\n".join(head), blocks, limit)


def _split(head: str, blocks: list[str], limit: int) -> list[str]:
    """Pack blocks into messages below `limit` characters; every message starts with the head
    and, when there are several, a "(i/n)" mark. A block is never cut in two."""
    mark = len(" (99/99)")
    room = limit - 1 - len(head) - mark - 2
    messages: list[list[str]] = [[]]
    size = 0
    for block in blocks:
        if len(block) > room:
            block = block[: room - 1] + "…"
        if messages[-1] and size + 1 + len(block) > room:
            messages.append([])
            size = 0
        messages[-1].append(block)
        size += len(block) + 1
    n = len(messages)
    out = []
    for i, part_blocks in enumerate(messages, 1):
        title = head if n == 1 else f"({i}/{n}) " + head
        out.append(title + "\n\n" + "\n".join(part_blocks))
    return out


def render_csv(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    cols = [c for c in COLUMNS if c not in ("attention", "note")]
    out = frame[cols].copy()
    for c in ("visitors", "min_expected", "max_expected"):
        out[c] = out[c].astype("Int64")
    out.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue().rstrip("\n")


def staff_page(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
    today, cum, target = _totals(frame)
    rows = []
    for r in frame.itertuples():
        rows.append({
            "code": r.unit_code, "name": r.unit_name, "today": _num(r.today),
            "cumulative": _num(r.cumulative), "target": _num(r.target),
            "percent": _pct(r.percent), "bar": min(100.0, r.percent or 0.0),
            "status": r.status, "label": STATUSES[r.status][1], "note": r.note,
        })
    completion = None
    if roster_parts is not None:
        comp, pending = roster_parts
        per_unit = pending.groupby("unit_code").size().to_dict()
        completion = [
            {"unit": r.unit_code, "district": r.district, "eligible": r.eligible,
             "answered": r.answered, "percent": r.percent,
             "pending": per_unit.get(r.unit_code, 0) if r.district == "total" else None}
            for r in comp.itertuples()
        ]
    page_path = f"{survey.id}/{STAFF_SEGMENT}/index.html"
    return env.get_template("staff/progress.html").render(
        root=root_prefix(page_path), survey=survey, heading=_heading(survey, day),
        day=_fmt_date(day), rows=rows, flagged=[r for r in rows if r["status"] == "too_many"],
        total={"today": _num(today), "cumulative": _num(cum), "target": _num(target),
               "percent": _pct(100 * cum / target if target else None),
               "bar": min(100.0, 100 * cum / target) if target else 0},
        completion=completion,
        generated=dt.datetime.now(survey.tz).strftime("%H:%M %d/%m/%Y"),
    )


def progress_report(survey, out, day: dt.date | None = None, fmt: str = "text") -> str:
    """The report for `day` (default: today in the survey's time zone) in format `fmt`."""
    if fmt not in ("text", "zalo", "csv", "html"):
        raise HailongError(f"--format {fmt}: use text, zalo, csv or html")
    out = Path(out)
    day = _day(survey, day)
    accepted = load_responses(survey, out)
    frame = progress_frame(survey, accepted, part.load_visitors(survey), day)
    upto_dates = part.local_dates(accepted, survey.tz)
    upto = accepted[[d is not None and d <= day for d in upto_dates]] if len(accepted) else accepted
    roster_parts = _roster_parts(survey, upto)
    if fmt == "text":
        return render_text(survey, frame, day, roster_parts)
    if fmt == "zalo":
        messages = zalo_messages(survey, frame, day, roster_parts)
        return "\n\n----------\n\n".join(messages)
    if fmt == "csv":
        return render_csv(frame)
    html = staff_page(survey, frame, day, roster_parts)
    target = Layout(out, survey.id).staff / "index.html"
    atomic_write_text(target, html)
    return f"Đã ghi trang tiến độ cho cán bộ (không liên kết từ trang công khai): {target}"
