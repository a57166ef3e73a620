"""The daily participation report (`hailong progress`), sent by staff at 16:30–17:00.

Per unit: responses on the day, cumulative up to that day, target (for roster access the
unit's cooperatives on the roster; otherwise its total quota, or the fewest responses that get
it ranked when units.csv gives no quota), percent of target, responses per respondent type
against its quota, and a status; units needing attention first.

Status: before the window every unit is `not_started`. A unit with too many responses for its
visitors on any day so far (or in its total so far) is `too_many`, with those days listed, on
every later report: one stuffed day must not vanish from view. Then the report day's own
count: `too_few` against its visitors, `below_minimum` without a visitor count; then the
cumulative count: `achieved` at or above the target, `behind` below the even pace
ceil(target × days elapsed / days), `short` below target after the window; else `ok` (on pace).
An office with fewer visitors than the daily minimum is judged by the ±tolerance band alone,
because it cannot reach the minimum (participation.csv keeps the plan's literal `too_few`). Four renderings of one frame: aligned text, Zalo
messages (plain Vietnamese, short lines, each message under 4,000 characters), CSV, and an HTML
staff page in the site (noindex, linked from nowhere public).

Contested tickets (quarantine.csv, `contested_ticket`: one slip carried by two or more
answers, none of which counts) come first in every rendering but CSV, by unit, because each
one may be a visitor silenced by whoever held the slips; then the signs of ballot stuffing
(signals.csv, written by `score`): which unit, which sign, and its Vietnamese detail.

Units are named by their names in every rendering (staff know "Xã Xuân Hội", not "NX03").
Who has not answered: the staff page shows counts only, because the site is published; the
Zalo text names the cooperatives but never their contacts, because the cooperatives' own Zalo
group reads it; contacts stay in the text and CSV reports, whose first line says they hold
personal data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path

import pandas as pd

from hailong import cells, sitefiles
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text, replacing_dir
from hailong.i18n import _
from hailong.layout import STAFF_SEGMENT, Layout, root_prefix
from hailong.score import participation as part
from hailong.survey import roster
from hailong.survey.config import RESPONDENT_TYPE_LABELS, SIGNAL_LABELS
from hailong.survey.roster import TOTAL as ROSTER_TOTAL
from hailong.templating import environment

ZALO_LIMIT = 4000  # Zalo cuts longer messages; each message stays below this
# status: (attention order, label). Units are listed from the most urgent; the first five
# need attention. "ok" is on pace, "achieved" has reached its target: a unit at 0% is never
# called achieved.
STATUSES = {
    "too_many": (0, "Số phiếu cao bất thường so với lượt người đến làm thủ tục, cần kiểm tra"),
    "too_few": (1, "Ít phiếu so với lượt người đến làm thủ tục"),
    "below_minimum": (2, "Chưa đủ số phiếu tối thiểu trong ngày"),
    "behind": (3, "Chậm tiến độ"),
    "short": (3, "Không đạt chỉ tiêu"),
    "ok": (4, "Đúng tiến độ"),
    "achieved": (5, "Đạt chỉ tiêu"),
    "not_started": (6, "Chưa bắt đầu khảo sát"),
}
ATTENTION = {s for s, (rank, _) in STATUSES.items() if rank <= 3}
COLUMNS = ["unit_code", "unit_name", "today", "cumulative", "target", "percent", "visitors",
           "min_expected", "max_expected", "day_status", "status", "too_many_days",
           "individual", "organization", "quota_individual", "quota_organization", "made_up",
           "missing", "online", "paper", "assisted", "attention", "notes", "remarks",
           "quota_text"]
CHANNEL_LABELS = {"online": "trực tuyến", "paper": "phiếu giấy", "assisted": "được hỗ trợ"}
WAITING = {"single_entry": "chờ nhập lần 2", "entry_mismatch": "hai lần nhập khác nhau, chờ "
           "người giám sát nhập lần 3"}
INTERNAL = ("attention", "notes", "remarks", "quota_text")  # not in the CSV
PERSONAL_NOTICE = ("DỮ LIỆU CÁ NHÂN: báo cáo này có tên và số liên hệ của hợp tác xã; chỉ dùng để "
                   "gọi nhắc, không gửi vào nhóm Zalo, không đăng lên mạng.")


def _fmt_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def _num(n: int | float) -> str:
    """Vietnamese thousands separator: 1.234."""
    return f"{int(n):,}".replace(",", ".")


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _vn_decimal(text: str) -> str:
    """"39.34" as Vietnamese writes it, "39,34" (CSV files keep the dot)."""
    return str(text).replace(".", ",")


def _phase(survey, day: dt.date) -> str:
    if day < survey.start:
        return "before"
    return "during" if day <= survey.end else "after"


# -- the data ------------------------------------------------------------------------------
def load_responses(survey, out: Path) -> pd.DataFrame:
    path = Layout(Path(out), survey.id).data_file("responses.csv")
    if not path.exists():
        from hailong.layout import require_survey_output

        require_survey_output(survey, out)
        raise HailongError(
            _("{path}: no scored responses yet; run `hailong pull {path2}` and `hailong score "
              "{path2}` first", path=path, path2=survey.path)
        )
    try:
        return cells.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); run `hailong score` again",
                             path=path, exc=exc)) from None


# -- signs of ballot stuffing (signals.csv, written by score): listed before everything else
def load_signals(survey, out: Path) -> pd.DataFrame | None:
    """signals.csv of the last score, with unit names; None when that score wrote none."""
    path = Layout(Path(out), survey.id).data_file("signals.csv")
    if not path.exists():
        return None
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); run `hailong score` again", path=path,
                             exc=exc)) from None
    missing = {"unit_code", "signal", "count", "detail"} - set(frame.columns)
    if missing:
        raise HailongError(_("{path}: no column {column}; run `hailong score` again", path=path,
                             column=sorted(missing)[0]))
    names = {u.code: u.name for u in survey.units}
    return frame.assign(unit_name=frame["unit_code"].map(names).fillna(frame["unit_code"]))


# -- contested tickets (quarantine.csv, written by score): listed first of all ---------------
CONTESTED = "contested_ticket"
SHOWN_TICKETS = 20  # a unit's contested tickets named in the text and on the staff page


def load_contested(survey, out: Path) -> list[dict]:
    """Per unit with contested tickets, in units.csv order: its code, name, the answers
    quarantined and the tickets they carried (display form, most answers first)."""
    from hailong.survey.tickets import display, normalise

    path = Layout(Path(out), survey.id).data_file("quarantine.csv")
    if not path.exists():
        return []
    try:
        frame = cells.read_csv(path, usecols=lambda c: c in ("unit_code", "ticket", "reason_code"))
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); run `hailong score` again",
                             path=path, exc=exc)) from None
    if not {"unit_code", "ticket", "reason_code"} <= set(frame.columns):
        return []
    frame = frame[frame["reason_code"] == CONTESTED]
    if frame.empty:
        return []
    code = frame["unit_code"].str.strip().str.upper()
    ticket = frame["ticket"].map(lambda t: normalise(t) or t.strip().upper())
    rows = []
    for unit in survey.units:
        mine = ticket[code == unit.code.upper()]
        if mine.empty:
            continue
        counts = sorted(mine.value_counts().items(), key=lambda tn: (-tn[1], tn[0]))
        rows.append({"code": unit.code, "name": unit.name, "answers": int(len(mine)),
                     "tickets": [(display(t), int(n)) for t, n in counts]})
    return rows


def _contested_unit_line(u: dict) -> str:
    return (f"{_num(u['answers'])} phiếu dùng chung {_num(len(u['tickets']))} vé, không phiếu nào "
            "được tính")


def _contested_tickets_text(u: dict) -> str:
    shown = [f"{t} ({n} phiếu)" for t, n in u["tickets"][:SHOWN_TICKETS]]
    more = len(u["tickets"]) - SHOWN_TICKETS
    return "vé: " + ", ".join(shown) + (f" và {_num(more)} vé khác" if more > 0 else "")


CONTESTED_HEAD = "VÉ BỊ NHIỀU PHIẾU DÙNG CHUNG, CẦN KIỂM TRA NGAY ({count} đơn vị):"
CONTESTED_WHY = ("Một vé chỉ dành cho một người đến làm thủ tục. Vé bị nhiều phiếu dùng thì "
                 "không phiếu nào được tính: có thể người giữ vé đã trả lời trước người dân.")


def contested_lines(rows: list[dict]) -> list[str]:
    """The text report's very first section: contested tickets by unit."""
    if not rows:
        return []
    lines = ["", CONTESTED_HEAD.format(count=len(rows)), f"  {CONTESTED_WHY}"]
    for u in rows:
        lines.append(f"  {u['code']}  {u['name']}: {_contested_unit_line(u)}")
        lines.append(f"    {_contested_tickets_text(u)}")
    return lines


def contested_blocks(rows: list[dict]) -> list[str]:
    """The Zalo report's first blocks: one per unit, counts only (short lines)."""
    if not rows:
        return []
    blocks = [CONTESTED_HEAD.format(count=len(rows)) + "\n" + CONTESTED_WHY]
    blocks += [f"{i}. {u['name']}\n- {_cap(_contested_unit_line(u))}" for i, u in enumerate(rows, 1)]
    return blocks


def signal_rows(signals: pd.DataFrame | None) -> list[dict]:
    """One entry per unit with signals, in signals.csv's (units.csv) order."""
    if signals is None or signals.empty:
        return []
    out: dict[str, dict] = {}
    for r in signals.itertuples(index=False):
        unit = out.setdefault(r.unit_code, {"code": r.unit_code, "name": r.unit_name, "signals": []})
        unit["signals"].append({"signal": r.signal, "label": SIGNAL_LABELS.get(r.signal, r.signal),
                                "detail": r.detail})
    return list(out.values())


def signal_lines(signals: pd.DataFrame | None) -> list[str]:
    """The text report's first section: every unit with a sign of ballot stuffing."""
    rows = signal_rows(signals)
    if not rows:
        return []
    lines = ["", f"DẤU HIỆU BẤT THƯỜNG, CẦN KIỂM TRA ({len(rows)} đơn vị):"]
    for u in rows:
        lines.append(f"  {u['code']}  {u['name']}")
        lines += [f"    - {s['label']}: {s['detail']}" for s in u["signals"]]
    return lines


def signal_blocks(signals: pd.DataFrame | None) -> list[str]:
    """The Zalo report's first blocks: one per unit, short lines."""
    rows = signal_rows(signals)
    if not rows:
        return []
    blocks = [f"DẤU HIỆU BẤT THƯỜNG, CẦN KIỂM TRA ({len(rows)} đơn vị):"]
    for i, u in enumerate(rows, 1):
        blocks.append("\n".join([f"{i}. {u['name']}"]
                                + [f"- {s['label']}: {s['detail']}" for s in u["signals"]]))
    return blocks


def _upto(survey, accepted: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The accepted responses of the report day and the days before it."""
    if accepted is None or not len(accepted):
        return accepted
    dates = part.local_dates(accepted, survey.tz)
    return accepted[[d is not None and d <= day for d in dates]]


def _day_notes(survey, v: int | None, today: int, minimum: int, low: int, high: int | None,
               has_visitors: bool) -> tuple[list[str], list[str], bool]:
    """(notes, remarks, few_visitors) on the report day's count against its visitors.

    `remarks` are the notes worth showing even for a unit that needs no attention. An office
    with fewer visitors than the daily minimum cannot reach it (participation.csv keeps the
    literal `too_few`); here it is judged by the ±tolerance band alone and the note says why.
    """
    if v is None:
        if has_visitors:
            note = "chưa có số lượt người đến làm thủ tục hôm nay"
            return [note], [note], False
        return [], [], False
    if v >= minimum:
        return [f"hôm nay {_num(v)} lượt người đến, cần {_num(low)}–{_num(high)} phiếu"], [], False
    band_low, _high = part.tolerance_bounds(v, survey.participation.tolerance)
    if v == 0:
        note = ("hôm nay không có người đến làm thủ tục" if today == 0 else
                f"hôm nay không có người đến làm thủ tục nhưng có {_num(today)} phiếu")
    elif today > high:
        note = f"hôm nay chỉ có {_num(v)} lượt người đến, tối đa {_num(high)} phiếu"
    elif today < band_low:
        note = (f"hôm nay chỉ có {_num(v)} lượt người đến, cần ít nhất {_num(band_low)} phiếu; "
                f"không thể đủ {_num(minimum)} phiếu")
    else:
        note = f"hôm nay chỉ có {_num(v)} lượt người đến, không thể đủ {_num(minimum)} phiếu"
    return [note], [note], today >= band_low


def _flag_notes(found: list[tuple], day: dt.date) -> list[str]:
    """Notes naming each earlier day (and the total so far) with too many responses; the
    report day's own count is in its day note."""
    notes = []
    for d, r, v, m in found:
        if d == part.TOTAL:
            notes.append(f"cộng dồn có {_num(r)} phiếu cho {_num(v)} lượt người đến, tối đa {_num(m)}")
        elif d != day.isoformat():
            when = _fmt_date(dt.date.fromisoformat(d))
            notes.append(f"ngày {when} có {_num(r)} phiếu cho {_num(v)} lượt người đến, tối đa {_num(m)}")
    return notes


def _quota_text(survey, q) -> str:
    """"Cá nhân 12/15, Tổ chức 5/10 (cá nhân bù 3)"; empty for a one-type survey without quotas."""
    has_quota = not pd.isna(q["quota"])
    types = [t for t in RESPONDENT_TYPE_LABELS
             if t in survey.respondent_types or (has_quota and q[f"quota_{t}"])]
    if len(types) < 2 and not has_quota:
        return ""
    parts = [f"{RESPONDENT_TYPE_LABELS[t]} {_num(q[t])}"
             + (f"/{_num(q[f'quota_{t}'])}" if has_quota else "") for t in types]
    text = ", ".join(parts)
    if has_quota and q["made_up"]:
        text += f" ({RESPONDENT_TYPE_LABELS[q['made_up_by']].lower()} bù {_num(q['made_up'])})"
    return text


def _target(survey, unit, visitors: dict, days) -> int:
    """A unit's target over the window: its total quota; without one, where visitors are
    counted, the sum of each day's minimum (10, or 20 on a busy day); else enough to be ranked."""
    if unit.quota is not None:
        return unit.quota
    if visitors:
        return sum(part._minimum(survey, visitors.get((unit.code, d))) for d in days)
    return survey.scoring.min_responses


def progress_frame(survey, accepted: pd.DataFrame, visitors: dict, day: dt.date,
                   roster_parts=None) -> pd.DataFrame:
    """One row per unit, most urgent first; see the module doc for the columns' meaning.

    For roster access the target is the unit's cooperatives on the roster and the cumulative
    count is how many of them have answered, so it agrees with the completion lines.
    """
    upto = _upto(survey, accepted, day)
    counts = part.daily_counts(survey, upto)
    quotas = part.quota_table(survey, upto).set_index("unit_code")
    if survey.access == "roster" and roster_parts is None:
        roster_parts = _roster_parts(survey, upto)
    per_unit = None
    if roster_parts is not None:
        comp = roster_parts[0]
        comp = comp[(comp.district == ROSTER_TOTAL) & (comp.unit_code != ROSTER_TOTAL)]
        per_unit = {r.unit_code: (int(r.eligible), int(r.answered)) for r in comp.itertuples()}
    tol = survey.participation.tolerance
    phase = _phase(survey, day)
    days = survey.days()
    so_far = [d for d in days if d <= day]
    found = part.too_many_rows(part.participation_table(survey, counts, visitors, so_far)) \
        if so_far else {}
    if len(so_far) == 1:  # the total of one day is that day
        found = {u: [f for f in flags if f[0] != part.TOTAL] for u, flags in found.items()}
    by_channel = _channel_counts(survey, upto)
    rows = []
    for unit in survey.units:
        q = quotas.loc[unit.code]
        today = counts.get((unit.code, day), 0)
        if per_unit is not None:
            target, cumulative = per_unit.get(unit.code, (0, 0))
        else:
            cumulative = int(q["responses"])
            target = _target(survey, unit, visitors, days)
        v = visitors.get((unit.code, day))
        minimum = part._minimum(survey, v)
        low, high, day_status = part.judge(today, v, minimum, tol)
        flagged = found.get(unit.code, [])
        notes, remarks, few_visitors = ([], [], False)
        if phase == "during":
            notes, remarks, few_visitors = _day_notes(survey, v, today, minimum, low, high,
                                                      bool(visitors))
        expected_by_now = math.ceil(target * len(so_far) / len(days)) if target else 0
        if phase == "before":
            status = "not_started"
        elif flagged:
            status = "too_many"
            notes = [*_flag_notes(flagged, day), *notes]
        elif phase == "during" and day_status == "too_few" and not few_visitors:
            status = "too_few"
        elif phase == "during" and day_status == "no_visitor_count" and visitors and today < minimum:
            # the daily minimum belongs to surveys counted at the office (visitors.csv); a
            # sampled survey over weeks is judged by its pace against the quota instead
            status = "below_minimum"
        elif target and cumulative >= target:
            status = "achieved"
        elif phase == "after" and target:
            status = "short"
        elif cumulative < expected_by_now:
            status = "behind"
        else:
            status = "ok"
        rows.append({
            "unit_code": unit.code, "unit_name": unit.name, "today": today,
            "cumulative": cumulative, "target": target,
            "percent": round(100 * cumulative / target, 1) if target else None,
            "visitors": v, "min_expected": low, "max_expected": high,
            "day_status": day_status if phase == "during" else "", "status": status,
            "too_many_days": ";".join(d for d, *_ in flagged),
            "individual": int(q["individual"]), "organization": int(q["organization"]),
            "quota_individual": q["quota_individual"], "quota_organization": q["quota_organization"],
            "made_up": q["made_up"], "missing": q["missing"],
            **{c: by_channel.get((unit.code, c), 0) for c in CHANNEL_LABELS},
            "attention": STATUSES[status][0], "notes": notes, "remarks": remarks,
            "quota_text": _quota_text(survey, q),
        })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["attention", "percent", "unit_code"], kind="stable",
                              na_position="last")
    return frame.reset_index(drop=True)


def _channel_counts(survey, accepted: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Accepted answers per (unit code, channel): online (an empty channel), paper, assisted."""
    if accepted is None or accepted.empty:
        return {}
    channel = (accepted["channel"].astype("str").fillna("").str.strip().str.lower()
               if "channel" in accepted.columns else pd.Series("", index=accepted.index))
    channel = channel.where(channel != "", "online")
    canonical = {u.code.upper(): u.code for u in survey.units}
    units = accepted["unit_code"].astype("str").str.strip().str.upper().map(canonical)
    counts = pd.DataFrame({"unit": units, "channel": channel}).dropna().value_counts()
    return {(u, c): int(n) for (u, c), n in counts.items()}


def waiting_forms(survey, out: Path) -> list[dict]:
    """Paper forms waiting for a second keying or a supervisor's decision (quarantine.csv of
    the last score: `single_entry`, `entry_mismatch`), one entry per form, units.csv order."""
    from hailong.survey.tickets import display
    from hailong.survey.tokens import roster_id_of

    path = Layout(Path(out), survey.id).data_file("quarantine.csv")
    if not path.exists():
        return []
    rows = cells.read_csv(path)
    if "reason_code" not in rows.columns:
        return []
    rows = rows[rows["reason_code"].isin(list(WAITING))]
    order = {u.code.upper(): i for i, u in enumerate(survey.units)}
    forms: dict[tuple[str, str], dict] = {}
    for r in rows.to_dict("records"):
        unit = str(r.get("unit_code", "")).strip().upper()
        key, ticket = str(r.get("respondent_key", "")).strip(), str(r.get("ticket", "")).strip()
        # a member is named by the id in clear in their code; a ticket as printed
        code = (roster_id_of(key) or key) if key else (display(ticket) if len(ticket) >= 12
                                                       else ticket)
        form = forms.setdefault((unit, code or "?"), {
            "unit_code": survey.find_unit(unit).code if survey.find_unit(unit) else unit,
            "code": code or "?", "reason_code": r["reason_code"], "keyings": 0})
        form["keyings"] += 1
    return sorted(forms.values(), key=lambda f: (order.get(f["unit_code"].upper(), len(order)),
                                                 f["reason_code"], f["code"]))


def waiting_lines(survey, forms: list[dict]) -> list[str]:
    if not forms:
        return []
    lines = [f"PHIẾU GIẤY CHỜ NHẬP LẦN 2 HOẶC CHỜ QUYẾT ĐỊNH ({len(forms)}):"]
    for unit in dict.fromkeys(f["unit_code"] for f in forms):
        mine = [f for f in forms if f["unit_code"] == unit]
        parts = []
        for reason, label in WAITING.items():
            codes = [f["code"] for f in mine if f["reason_code"] == reason]
            if codes:
                parts.append(f"{label}: {', '.join(codes)}")
        lines.append(f"  {_unit_name(survey, unit)}: {'; '.join(parts)}")
    return lines


def channel_line(frame: pd.DataFrame) -> str:
    totals = {c: int(pd.to_numeric(frame[c]).sum()) for c in CHANNEL_LABELS}
    return "Theo kênh (cộng dồn): " + ", ".join(f"{label} {_num(totals[c])}"
                                                 for c, label in CHANNEL_LABELS.items())


def sample_lines(survey, out: Path) -> list[str]:
    """A sample survey's completion per unit and type (completion.csv of the last score)."""
    if survey.access != "sample":
        return []
    path = Layout(Path(out), survey.id).data_file("completion.csv")
    if not path.exists():
        return []
    table = cells.read_csv(path)
    lines = ["MẪU ĐIỀU TRA (đã trả lời/số được chọn, số người đã thay):"]
    for r in table.to_dict("records"):
        who = RESPONDENT_TYPE_LABELS.get(r["respondent_type"], r["respondent_type"])
        name = "Tất cả" if r["unit_code"] == "total" else _unit_name(survey, r["unit_code"])
        lines.append(f"  {name}{', ' + who if who else ''}: {r['answered']}/{r['sampled']} "
                     f"({_vn_decimal(r['percent'])}%), đã thay {r['replaced']}")
    return lines


def _roster_parts(survey, accepted: pd.DataFrame):
    if survey.access != "roster":
        return None
    members = roster.load_roster(survey)
    done = roster.answered_ids(members, accepted)
    return roster.completion(members, done), roster.not_answered(members, done)


def ticket_rows(survey, out: Path, day: dt.date) -> list[dict] | None:
    """Tickets survey: per unit, the day's tickets issued and used (from participation.csv,
    which score wrote) against its visitors; None for other surveys."""
    if survey.access != "tickets":
        return None
    path = Layout(Path(out), survey.id).data_file("participation.csv")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        part.require_columns(table, ["unit_code", "date", "visitors", *part.TICKET_COLUMNS], str(path))
    except (OSError, pd.errors.ParserError, UnicodeDecodeError):
        raise HailongError(_("{path}: cannot read it; run `hailong score {survey}` again", path=path,
                             survey=survey.path)) from None
    of_day = {r.unit_code: r for r in table[table["date"] == day.isoformat()].itertuples()}

    def number(text: str) -> int | None:
        return int(text) if str(text).strip().isdigit() else None

    rows = []
    for unit in survey.units:
        r = of_day.get(unit.code)
        rows.append({"unit_code": unit.code, "unit_name": unit.name,
                     "issued": number(r.tickets_issued) or 0 if r else 0,
                     "used": number(r.tickets_used) or 0 if r else 0,
                     "visitors": number(r.visitors) if r else None})
    return rows


def _ticket_line(t: dict) -> str:
    seen = "chưa có số" if t["visitors"] is None else _num(t["visitors"])
    line = f"phát {_num(t['issued'])} vé, đã dùng {_num(t['used'])}, người đến {seen}"
    if t["visitors"] is not None and t["issued"] > t["visitors"]:
        line += " (phát nhiều vé hơn số người đến, cần kiểm tra)"
    return line


def _ticket_block(rows: list[dict], day: dt.date) -> list[str]:
    issued, used = sum(t["issued"] for t in rows), sum(t["used"] for t in rows)
    lines = [f"VÉ NGÀY {_fmt_date(day)}: phát {_num(issued)}, đã dùng {_num(used)}"]
    lines += [f"- {t['unit_name']}: {_ticket_line(t)}" for t in rows]
    return lines


def _day(survey, day: dt.date | None) -> dt.date:
    if day is None:
        return dt.datetime.now(survey.tz).date()
    return day


# -- renderings ----------------------------------------------------------------------------
def _heading(survey, day: dt.date) -> list[str]:
    days = survey.days()
    phase = _phase(survey, day)
    if phase == "during":
        which = f", ngày thứ {days.index(day) + 1}/{len(days)} của đợt khảo sát"
    elif phase == "before":
        which = f": đợt khảo sát chưa bắt đầu, sẽ bắt đầu ngày {_fmt_date(survey.start)}"
    else:
        which = f": đợt khảo sát đã kết thúc ngày {_fmt_date(survey.end)}"
    return [f"TIẾN ĐỘ KHẢO SÁT: {survey.title}", f"Ngày {_fmt_date(day)}{which}"]


def _totals(frame: pd.DataFrame) -> tuple[int, int, int]:
    return int(frame["today"].sum()), int(frame["cumulative"].sum()), int(frame["target"].sum())


def _status_text(r) -> str:
    """The status label and its notes on one line, without nested brackets."""
    return STATUSES[r.status][1] + (": " + "; ".join(r.notes) if r.notes else "")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unit_name(survey, code: str) -> str:
    unit = survey.find_unit(code)
    return unit.name if unit is not None else code


def _completion_lines(survey, completion: pd.DataFrame) -> list[str]:
    lines = []
    for r in completion[(completion.district == ROSTER_TOTAL)
                        & (completion.unit_code != ROSTER_TOTAL)].itertuples():
        lines.append(f"  {_unit_name(survey, r.unit_code)}: {r.answered}/{r.eligible} "
                     f"({_vn_decimal(r.percent)}%)")
    by_district = completion[(completion.unit_code == ROSTER_TOTAL)
                             & (completion.district != ROSTER_TOTAL)]
    for r in by_district.itertuples():
        where = f"Huyện/khu vực {r.district}" if r.district else "Chưa ghi huyện/khu vực"
        lines.append(f"  {where}: {r.answered}/{r.eligible} ({_vn_decimal(r.percent)}%)")
    return lines


def _roster_total(completion: pd.DataFrame):
    return completion[(completion.unit_code == ROSTER_TOTAL)
                      & (completion.district == ROSTER_TOTAL)].iloc[0]


def render_text(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None,
                updated: str | None = None, ticket_rows: list[dict] | None = None,
                signals: pd.DataFrame | None = None, contested: list[dict] | None = None) -> str:
    with_quota = bool(frame["quota_text"].astype(bool).any())
    header = ["Đơn vị", "Hôm nay", "Cộng dồn", "Chỉ tiêu", "% chỉ tiêu",
              *(["Theo đối tượng"] if with_quota else []), "Tình trạng"]
    body = [[r.unit_name, _num(r.today), _num(r.cumulative), _num(r.target),
             _pct(r.percent), *([r.quota_text] if with_quota else []), _status_text(r)]
            for r in frame.itertuples()]
    today, cum, target = _totals(frame)
    body.append(["TỔNG CỘNG", _num(today), _num(cum), _num(target),
                 _pct(100 * cum / target if target else None), *([""] if with_quota else []), ""])
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    numeric = {1, 2, 3, 4}

    def line(cells):
        parts = [c.rjust(w) if i in numeric else c.ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    notice = [PERSONAL_NOTICE] if roster_parts is not None and len(roster_parts[1]) else []
    lines = [*notice, *_heading(survey, day), *([updated] if updated else []),
             *contested_lines(contested or []), *signal_lines(signals), "", line(header),
             line(["-" * w for w in widths])]
    lines += [line(row) for row in body[:-1]]
    lines += [line(["-" * w for w in widths]), line(body[-1])]
    if roster_parts is not None:
        completion, pending = roster_parts
        total = _roster_total(completion)
        lines += ["", f"HỢP TÁC XÃ ĐÃ TRẢ LỜI: {total.answered}/{total.eligible} "
                      f"({_vn_decimal(total.percent)}%)"]
        lines += _completion_lines(survey, completion)
        if len(pending):
            lines += ["", f"CHƯA TRẢ LỜI ({len(pending)}), cần gọi nhắc:"]
            for r in pending.itertuples():
                extra = " – ".join(x for x in (r.district, r.contact) if x)
                lines.append(f"  {_unit_name(survey, r.unit_code)}  {r.id}  {r.name}"
                             + (f" – {extra}" if extra else ""))
    if ticket_rows is not None:
        lines += ["", *(("  " + x[2:]) if x.startswith("- ") else x
                        for x in _ticket_block(ticket_rows, day))]
    return "\n".join(lines)


def _quota_split(survey, r) -> str:
    """", gồm cá nhân 15, tổ chức 10" when the target is a quota given per type."""
    if survey.access == "roster" or pd.isna(r.quota_individual):
        return ""
    parts = [f"{RESPONDENT_TYPE_LABELS[t].lower()} {_num(q)}"
             for t, q in (("individual", r.quota_individual),
                          ("organization", r.quota_organization)) if q]
    return ", gồm " + ", ".join(parts) if len(parts) > 1 else ""


def zalo_messages(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None,
                  limit: int = ZALO_LIMIT, updated: str | None = None,
                  ticket_rows: list[dict] | None = None,
                  signals: pd.DataFrame | None = None,
                  contested: list[dict] | None = None) -> list[str]:
    """The report as Zalo messages: no tables, one short line per fact, each message under
    `limit` characters with a "(1/2)" mark when there is more than one."""
    today, cum, target = _totals(frame)
    phase = _phase(survey, day)
    head = _heading(survey, day) + ([updated] if updated else [])
    share = f" ({_pct(100 * cum / target)})" if target else ""
    if phase == "before":
        head.append(f"Toàn bộ: chỉ tiêu {_num(target)} phiếu")
    elif phase == "during":
        head.append(f"Toàn bộ: hôm nay {_num(today)} phiếu, cộng dồn {_num(cum)}/{_num(target)}"
                    + share)
    else:
        head.append(f"Toàn bộ: cộng dồn {_num(cum)}/{_num(target)}" + share)
    so_far = "hôm nay {today}, cộng dồn" if phase == "during" else "cộng dồn"
    blocks: list[str] = [*contested_blocks(contested or []), *signal_blocks(signals)]

    def counts(r) -> str:
        return (so_far.format(today=_num(r.today)) + f" {_num(r.cumulative)}/{_num(r.target)}"
                + (f" ({_pct(r.percent)})" if r.percent is not None else ""))

    need = frame[frame["status"].isin(ATTENTION)]
    if len(need):
        blocks.append(f"CẦN CHÚ Ý ({len(need)} đơn vị):")
        for i, r in enumerate(need.itertuples(), 1):
            lines = [f"{i}. {r.unit_name}", f"- {_cap(counts(r))}"]
            lines += [f"- {r.quota_text}"] if r.quota_text else []
            lines += [f"- {STATUSES[r.status][1]}"] + [f"- {_cap(n)}" for n in r.notes]
            blocks.append("\n".join(lines))
    groups = [("ok", "ĐÚNG TIẾN ĐỘ"), ("achieved", "ĐẠT CHỈ TIÊU")]
    for status, title in groups:
        rows = frame[frame["status"] == status]
        if len(rows):
            blocks.append(f"{title} ({len(rows)} đơn vị):")
            for r in rows.itertuples():
                lines = [f"- {r.unit_name}: {counts(r)}"]
                lines += [f"  {r.quota_text}"] if r.quota_text else []
                lines += [f"  {_cap(n)}" for n in r.remarks]
                blocks.append("\n".join(lines))
    waiting = frame[frame["status"] == "not_started"]
    if len(waiting):
        blocks.append(f"CHỈ TIÊU TỪNG ĐƠN VỊ ({len(waiting)} đơn vị):")
        blocks += [f"- {r.unit_name}: {_num(r.target)} phiếu" + _quota_split(survey, r)
                   for r in waiting.itertuples()]
    if roster_parts is not None:
        completion, pending = roster_parts
        total = _roster_total(completion)
        blocks.append(f"HTX đã trả lời: {total.answered}/{total.eligible} "
                      f"({_vn_decimal(total.percent)}%)")
        if len(pending) and phase != "before":
            blocks.append(f"HTX chưa trả lời ({len(pending)}), nhờ các đơn vị gọi nhắc:")
            # names only: the cooperatives' own group reads this; contacts stay in text and CSV
            blocks += [f"- {r.name} ({_unit_name(survey, r.unit_code)})" for r in pending.itertuples()]
    if ticket_rows is not None and phase == "during":
        head_line, *unit_lines = _ticket_block(ticket_rows, day)
        blocks += [head_line, *unit_lines]
    if len(need):
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


# the CSV's last row, as the text report's TỔNG CỘNG line: unit_code "total" as in
# participation.csv; counts summed, percent of the summed target, no status
CSV_TOTAL = "total"
_SUMMED = ("today", "cumulative", "target", "visitors", "individual", "organization",
           "quota_individual", "quota_organization", "made_up", "missing", "online", "paper",
           "assisted")


def render_csv(frame: pd.DataFrame, ticket_rows: list[dict] | None = None, roster_parts=None) -> str:
    """One row per unit and a total row. For roster access a `not_answered` column lists each
    unit's cooperatives still to answer, with their contacts, under a first line saying so."""
    cols = [c for c in COLUMNS if c not in INTERNAL]
    out = frame[cols].copy()
    today, cum, target = _totals(frame)
    total = {c: "" for c in cols}
    total.update({c: pd.to_numeric(out[c]).sum(min_count=1) for c in _SUMMED})
    total.update(unit_code=CSV_TOTAL, unit_name="TỔNG CỘNG",
                 percent=100 * cum / target if target else None)
    if ticket_rows is not None:
        by_unit = {t["unit_code"]: t for t in ticket_rows}
        out["tickets_issued"] = [by_unit[c]["issued"] for c in out["unit_code"]]
        out["tickets_used"] = [by_unit[c]["used"] for c in out["unit_code"]]
        cols = [*cols, "tickets_issued", "tickets_used"]
        total.update(tickets_issued=out["tickets_issued"].sum(), tickets_used=out["tickets_used"].sum())
    notice = ""
    if roster_parts is not None:
        pending = roster_parts[1]
        names = {code: "; ".join(" – ".join(x for x in (r.name, r.district, r.contact) if x)
                                 for r in rows.itertuples())
                 for code, rows in pending.groupby("unit_code")}
        out["not_answered"] = out["unit_code"].map(names).fillna("")
        cols = [*cols, "not_answered"]
        if len(pending):
            notice = PERSONAL_NOTICE + "\n"
    out = pd.concat([out, pd.DataFrame([total], columns=cols)], ignore_index=True)
    for c in ("today", "cumulative", "target", "visitors", "min_expected", "max_expected",
              "individual", "organization", "quota_individual", "quota_organization", "made_up",
              "missing", "online", "paper", "assisted"):
        out[c] = pd.to_numeric(out[c].replace("", None)).astype("Int64")
    text = cells.csv_text(out).rstrip("\n")
    # the notice goes first, after the BOM, so whoever opens the file reads it before the data
    return cells.BOM + notice + text[len(cells.BOM):] if notice else text


# Above this many units the staff page is paged by province, like the results: one card per
# unit and every signal of 3,321 communes made a 3.6 MB page of 73,000 elements; a province's
# page stays well under 300 KB and the first page summarises each province in one card.
PAGED_ABOVE = 300
PROVINCE_FOLDER = "tinh"  # tien-do/tinh/<slug>/index.html


def _slug(text: str) -> str:
    """An ASCII folder name for a province, by the rule of the results' tinh/ folders."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "khac"


def provinces(survey) -> list[tuple[str, str, list[str]]]:
    """(name, slug, unit codes) per parent of units.csv, in its order; [] when the staff page
    is one page (few units, or one province)."""
    groups: dict[str, list[str]] = {}
    for u in survey.units:
        groups.setdefault(u.parent or "", []).append(u.code)
    if len(survey.units) <= PAGED_ABOVE or len(groups) < 2:
        return []
    out, taken = [], set()
    for name, codes in groups.items():
        s = _slug(name) if name else "khac"
        while s in taken:
            s += "-1"
        taken.add(s)
        out.append((name or "Chưa ghi tỉnh, thành phố", s, codes))
    return out


def staff_pages(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None,
                updated: str | None = None, signals: pd.DataFrame | None = None,
                contested: list[dict] | None = None,
                paperwork: list[str] | None = None) -> dict[str, str]:
    """The staff pages as {path under tien-do/: html}: one page, or at national scale a
    summary by province (each signal counted, never listed; contested tickets listed on the
    summary and on their province's page) and a page per province."""
    groups = provinces(survey)
    if not groups:
        return {"index.html": staff_page(survey, frame, day, roster_parts, updated, signals,
                                         contested=contested, paperwork=paperwork)}
    updated = updated or updated_line(dt.datetime.now(survey.tz))
    pages, cards = {}, []
    for name, s, codes in groups:
        part_frame = frame[frame["unit_code"].isin(codes)]
        part_signals = signals[signals["unit_code"].isin(codes)] if signals is not None else None
        rel = f"{PROVINCE_FOLDER}/{s}/index.html"
        pages[rel] = staff_page(survey, part_frame, day, None, updated, part_signals,
                                province=name, rel=rel,
                                contested=[u for u in contested or [] if u["code"] in codes])
        today, cum, target = _totals(part_frame)
        found = signal_rows(part_signals)
        kinds: dict[str, int] = {}
        for u in found:
            for sig in u["signals"]:
                kinds[sig["label"]] = kinds.get(sig["label"], 0) + 1
        cards.append({
            "name": name, "href": rel, "units": len(codes), "today": _num(today),
            "cumulative": _num(cum), "target": _num(target),
            "percent": _pct(100 * cum / target if target else None),
            "bar": min(100.0, 100 * cum / target) if target else 0,
            "attention": int(part_frame["status"].isin(ATTENTION).sum()),
            "too_many": int((part_frame["status"] == "too_many").sum()),
            "signal_units": len(found), "signal_kinds": sorted(kinds.items()),
        })
    pages["index.html"] = staff_page(survey, frame, day, roster_parts, updated, signals,
                                     summary=cards, contested=contested, paperwork=paperwork)
    return pages


def staff_page(survey, frame: pd.DataFrame, day: dt.date, roster_parts=None,
               updated: str | None = None, signals: pd.DataFrame | None = None,
               summary: list[dict] | None = None, province: str | None = None,
               rel: str = "index.html", contested: list[dict] | None = None,
               paperwork: list[str] | None = None) -> str:
    """One staff page: every unit's card (the whole survey, or one `province`), or with
    `summary` one card per province and the signals counted; contested tickets first, and
    the survey's answers by channel and paper forms waiting (`paperwork`)."""
    env = environment()
    env.filters["capitalize_first"] = _cap
    today, cum, target = _totals(frame)
    rows = []
    for r in frame.itertuples():
        rows.append({
            "code": r.unit_code, "name": r.unit_name, "today": _num(r.today),
            "cumulative": _num(r.cumulative), "target": _num(r.target),
            "percent": _pct(r.percent), "bar": min(100.0, r.percent or 0.0),
            "status": r.status, "label": STATUSES[r.status][1], "notes": r.notes,
            "quota": r.quota_text,
            "flag_days": [_fmt_date(dt.date.fromisoformat(d)) if d != part.TOTAL else "cộng dồn"
                          for d in r.too_many_days.split(";") if d],
        })
    completion = None
    if roster_parts is not None:
        comp, pending = roster_parts
        per_unit = pending.groupby("unit_code").size().to_dict()
        completion = [
            {"unit": r.unit_code, "name": ("Tất cả" if r.unit_code == ROSTER_TOTAL
                                           else _unit_name(survey, r.unit_code)),
             "district": r.district, "eligible": r.eligible,
             "answered": r.answered, "percent": _vn_decimal(r.percent),
             "pending": per_unit.get(r.unit_code, 0) if r.district == ROSTER_TOTAL else None}
            for r in comp.itertuples()
        ]
    page_path = f"{survey.id}/{STAFF_SEGMENT}/{rel}"
    return env.get_template("staff/progress.html").render(
        root=root_prefix(page_path), survey=survey, heading=_heading(survey, day),
        summary=summary, province=province, up="../" * rel.count("/"),
        signal_count=len(signal_rows(signals)),
        day=_fmt_date(day), rows=rows, flagged=[r for r in rows if r["status"] == "too_many"],
        with_quota=any(r["quota"] for r in rows), started=_phase(survey, day) != "before",
        total={"today": _num(today), "cumulative": _num(cum), "target": _num(target),
               "percent": _pct(100 * cum / target if target else None),
               "bar": min(100.0, 100 * cum / target) if target else 0},
        completion=completion, signals=signal_rows(signals), paperwork=paperwork or [],
        contested=[{**u, "line": _cap(_contested_unit_line(u)),
                    "tickets_text": _cap(_contested_tickets_text(u))} for u in contested or []],
        contested_why=CONTESTED_WHY,
        updated=updated or updated_line(dt.datetime.now(survey.tz)),
    )


def refresh_data(survey, out: Path) -> None:
    """Pull the sheet and score it, so the report counts every answer sent so far.

    Their summary lines are dropped: the report is pasted into Zalo as it is.
    """
    from hailong.ingest.pull import pull
    from hailong.layout import require_survey_output
    from hailong.score.pipeline import score

    if survey.collector.kind == "local":  # a Google Sheet is pulled from anywhere, this is not
        require_survey_output(survey, out)
    pull(survey, out)
    score(survey, out)


def data_time(survey, out: Path) -> dt.datetime:
    """When the scored data was written (responses.csv), in the survey's time zone."""
    path = Layout(Path(out), survey.id).data_file("responses.csv")
    return dt.datetime.fromtimestamp(path.stat().st_mtime, survey.tz)


def updated_line(when: dt.datetime) -> str:
    return f"Số liệu cập nhật lúc {when:%H:%M} ngày {when:%d/%m/%Y}"


def progress_report(survey, out, day: dt.date | None = None, fmt: str = "text",
                    refresh: bool = True) -> str:
    """The report for `day` (default: today in the survey's time zone) in format `fmt`.

    With `refresh` the sheet is pulled and scored first (the 16:30 report must not give
    yesterday's figures); without it the last scored data is used. Every format but CSV says
    when that data was scored, so an old figure never passes for a fresh one.
    """
    if fmt not in ("text", "zalo", "csv", "html"):
        raise HailongError(_("--format {fmt}: use text, zalo, csv or html", fmt=fmt))
    out = Path(out)
    day = _day(survey, day)
    if refresh:
        refresh_data(survey, out)
    accepted = load_responses(survey, out)
    updated = updated_line(data_time(survey, out))
    roster_parts = _roster_parts(survey, _upto(survey, accepted, day))
    frame = progress_frame(survey, accepted, part.load_visitors(survey), day, roster_parts)
    tickets = ticket_rows(survey, out, day)
    signals = load_signals(survey, out)
    contested = load_contested(survey, out)
    waiting = waiting_forms(survey, out)
    if fmt == "text":
        extra = ["", channel_line(frame), *sample_lines(survey, out)]
        if waiting:
            extra += ["", *waiting_lines(survey, waiting)]
        return "\n".join([render_text(survey, frame, day, roster_parts, updated,
                                       ticket_rows=tickets, signals=signals,
                                       contested=contested), *extra])
    if fmt == "zalo":
        messages = zalo_messages(survey, frame, day, roster_parts, updated=updated,
                                 ticket_rows=tickets, signals=signals, contested=contested)
        return "\n\n----------\n\n".join(messages)
    if fmt == "csv":
        return render_csv(frame, tickets, roster_parts)
    paperwork = [channel_line(frame), *sample_lines(survey, out), *waiting_lines(survey, waiting)]
    pages = staff_pages(survey, frame, day, roster_parts, updated, signals, contested, paperwork)
    layout = Layout(out, survey.id)
    # the folder is replaced whole: a province page of an earlier run never lingers
    with replacing_dir(layout.staff) as tmp:
        for rel, html in pages.items():
            atomic_write_text(tmp / rel, html)
    # staff pages: listed apart, sent only to a target with audience = "staff"
    sitefiles.record(out, survey.id, "progress", [layout.staff / rel for rel in pages],
                     audience=sitefiles.STAFF)
    target = layout.staff / "index.html"
    if len(pages) > 1:
        return _("Wrote the progress pages for staff (not linked from the public site): {page} "
                 "and a page per province ({count})", page=target, count=len(pages) - 1)
    return _("Wrote the progress page for staff (not linked from the public site): {page}",
             page=target)
