"""Deterministic, realistic answers for a survey: the demo's data and the benchmarks' units.

The same survey and seed give the same rows, byte for byte. The set looks like a real week of
collection: units of different quality (so the ranking spreads over the bands), most units at
their quota and some short of it, mostly good answers with some poor ones and some "no opinion",
a few comments, times in office hours. It then carries what real sheets carry: resubmissions of
one form (same response_id), repeats from one phone, and a few invalid rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from dataclasses import dataclass

import numpy as np

from hailong.survey.load import Question, Survey, Unit

COMMENTS = [
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Nên bố trí thêm ghế ngồi chờ ở bộ phận một cửa.",
    "Thời gian trả kết quả còn chậm so với giấy hẹn.",
    "Đề nghị niêm yết công khai phí, lệ phí rõ ràng hơn.",
    "Thủ tục nhanh gọn, tôi rất hài lòng.",
    "Phòng làm việc hơi chật, mùa hè khá nóng.",
    "Cần hướng dẫn thêm cách nộp hồ sơ trực tuyến cho người lớn tuổi.",
    "Cán bộ tiếp nhận đúng giờ, thái độ lịch sự.",
    "Phải đi lại nhiều lần mới hoàn thiện được hồ sơ.",
    "Không có ý kiến gì thêm.",
]

DEFAULT_QUOTA = {"individual": 15, "organization": 10}


@dataclass(frozen=True)
class Faults:
    """How many of each deliberate fault to add (None: a share of the clean rows)."""

    replays: int | None = None
    device_repeats: int | None = None
    respondent_repeats: int | None = None  # roster access: a member answering twice
    unknown_unit: int = 1
    bad_answer: int = 1
    outside_window: int = 1
    lower_case_unit: int = 2


DEFAULT_FAULTS = Faults()


def generate_responses(survey: Survey, seed: int = 2020, faults: Faults | None = DEFAULT_FAULTS,
                       members: list[tuple[str, str, str]] | None = None
                       ) -> list[dict[str, str]]:
    """Rows for `survey` as dicts over survey.response_columns (all values text).

    `faults=None` gives clean rows only (no resubmissions, repeats or invalid rows).
    `members`: a sample survey's active members (id, unit code, respondent type).
    """
    rng = np.random.default_rng(seed)
    gen = _Generator(survey, rng)
    gen.members = members or []
    rows = gen.clean_rows()
    if faults is not None:
        rows = gen.add_faults(rows, faults)
    if survey.access == "tickets":
        rows = gen.with_tickets(rows, faulty=faults is not None)
    rows.sort(key=lambda r: (dt.datetime.fromisoformat(r["submitted_at"]), r["response_id"]))
    return rows


class _Generator:
    def __init__(self, survey: Survey, rng: np.random.Generator):
        self.survey = survey
        self.rng = rng
        self.columns = survey.response_columns
        days = survey.days()
        # offices work on weekdays; fall back to every day for a window of weekends only
        self.days = [d for d in days if d.weekday() < 5] or days

    # -- identifiers ---------------------------------------------------------------------------
    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self.rng.bytes(16), version=4))

    def device(self) -> str:
        return "d-" + self.rng.bytes(8).hex()

    def moment(self) -> dt.datetime:
        """A time in office hours (7:30-11:30, 13:30-17:00) on a survey day, local."""
        day = self.days[int(self.rng.integers(len(self.days)))]
        if self.rng.random() < 0.6:
            minute = int(self.rng.integers(7 * 60 + 30, 11 * 60 + 30))
        else:
            minute = int(self.rng.integers(13 * 60 + 30, 17 * 60))
        second = int(self.rng.integers(60))
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60, second),
                                   tzinfo=self.survey.tz)

    # -- plan ----------------------------------------------------------------------------------
    def qualities(self) -> np.ndarray:
        """Per unit the chance that an answer is 'satisfied': spread from poor to excellent."""
        n = len(self.survey.units)
        levels = np.linspace(0.45, 0.97, n) if n > 1 else np.array([0.8])
        # Each unit's standing comes from its codes, not the seed, so surveys of one series
        # (the same units in another year) rank alike; the seed only moves them a little.
        stable = np.random.default_rng(zlib.crc32("\n".join(self.survey.unit_codes).encode()))
        base = stable.permutation(levels)
        return np.clip(base + self.rng.normal(0, 0.05, n), 0.3, 0.99)

    def counts(self, unit: Unit) -> dict[str, int]:
        """Respondents per type for a unit: the quota, a little over, or (sometimes) short."""
        quotas = {}
        for t in self.survey.respondent_types:
            q = unit.quota_individual if t == "individual" else unit.quota_organization
            if q is None:
                q = DEFAULT_QUOTA[t] if len(self.survey.respondent_types) > 1 else max(
                    self.survey.scoring.min_responses + 5, 20)
            quotas[t] = q
        draw = self.rng.random()
        if draw < 0.15:  # short of quota: fewer people came or answered
            share = self.rng.uniform(0.45, 0.9)
            return {t: int(round(q * share)) for t, q in quotas.items()}
        return {t: q + int(self.rng.integers(0, 4)) for t, q in quotas.items()}

    def clean_rows(self) -> list[dict[str, str]]:
        if self.survey.access == "roster":
            return self.roster_rows()
        if self.survey.access == "sample":
            return self.sample_rows()
        survey = self.survey
        rows: list[dict[str, str]] = []
        qualities = self.qualities()
        short_unit = int(self.rng.integers(len(survey.units))) if len(survey.units) > 2 else -1
        for i, (unit, quality) in enumerate(zip(survey.units, qualities, strict=True)):
            counts = self.counts(unit)
            if i == short_unit:
                # one unit far short, so the ranking shows an unranked unit too
                total = max(1, survey.scoring.min_responses // 2)
                first = survey.respondent_types[0]
                counts = {t: (total if t == first else 0) for t in counts}
            for rtype, count in counts.items():
                for _ in range(count):
                    rows.append(self.respondent(unit, rtype, float(quality)))
        return rows

    def roster_rows(self) -> list[dict[str, str]]:
        """Roster access: most members answer once on their signed personal link."""
        from hailong.survey.roster import load_roster
        from hailong.survey.tokens import sign, signing_key

        survey = self.survey
        key = signing_key()
        quality = dict(zip(survey.unit_codes, self.qualities(), strict=True))
        # how keen each unit's cooperatives are to answer; one unit lags far behind
        keen = {code: self.rng.uniform(0.7, 0.95) for code in survey.unit_codes}
        if len(keen) > 2:
            keen[survey.unit_codes[int(self.rng.integers(len(keen)))]] = 0.3
        rows = []
        for member in load_roster(survey):
            if self.rng.random() >= keen[member.unit_code]:
                continue
            row = self.respondent(survey.find_unit(member.unit_code), survey.respondent_types[0],
                                  float(quality[member.unit_code]))
            row["respondent_key"] = sign(survey.id, member.id, key)
            rows.append(row)
        return rows

    def sample_rows(self) -> list[dict[str, str]]:
        """Sample access: most active members answer once with their signed code, on their
        own phone (70%), on a paper questionnaire typed by two clerks (20%: now and then the
        keyings differ and a supervisor decides, and a few forms wait for their second
        keying) or guided by a helper at the office (10%)."""
        from hailong.survey.tokens import sign, signing_key

        survey = self.survey
        key = signing_key()
        quality = dict(zip(survey.unit_codes, self.qualities(), strict=True))
        helper_phone = self.device()
        rows = []
        for member_id, code, rtype in self.members:
            if self.rng.random() >= 0.85:
                continue
            row = self.respondent(survey.find_unit(code), rtype, float(quality[code]))
            row["respondent_key"] = sign(survey.id, member_id, key)
            way = self.rng.random()
            if way < 0.1:
                row.update(channel="assisted", entered_by="CCB-01", device_id=helper_phone)
                rows.append(row)
            elif way < 0.3:
                rows.extend(self.keyings(row))
            else:
                rows.append(row)
        return rows

    def keyings(self, form: dict[str, str]) -> list[dict[str, str]]:
        """The clerks' keyings of one paper form (contract v3, section 9)."""
        clerk_pc = "d-nhap-phieu"
        first = {**form, "channel": "paper", "entered_by": "nv01", "entry": "1",
                 "device_id": clerk_pc, "started_at": ""}
        second = {**first, "entered_by": "nv02", "entry": "2", "response_id": self.uuid(),
                  "submitted_at": _later(first["submitted_at"], int(self.rng.integers(600, 7200)))}
        draw = self.rng.random()
        if draw < 0.05:  # only keyed once so far
            return [first]
        if draw < 0.15:  # a typing slip in the second keying; the supervisor decides
            scale = [q.id for q in self.survey.scale_questions if second[q.id] not in ("", "0")]
            if scale:
                q = scale[int(self.rng.integers(len(scale)))]
                second[q] = str(self.survey.scale.min if second[q] != str(self.survey.scale.min)
                                else self.survey.scale.max)
                third = {**first, "entered_by": "gs01", "entry": "3", "response_id": self.uuid(),
                         "submitted_at": _later(second["submitted_at"], 3600)}
                return [first, second, third]
        return [first, second]

    def respondent(self, unit: Unit, rtype: str, quality: float) -> dict[str, str]:
        when = self.moment()
        started = when - dt.timedelta(seconds=int(self.rng.integers(60, 420)))
        row = dict.fromkeys(self.columns, "")
        row.update({
            "submitted_at": when.isoformat(),
            "response_id": self.uuid(),
            "survey_id": self.survey.id,
            "unit_code": unit.code,
            "respondent_type": rtype,
            "device_id": self.device(),
            "started_at": started.isoformat(),
        })
        # each person is a little more or less easily pleased than the unit's average
        p = float(np.clip(quality + self.rng.normal(0, 0.08), 0.02, 0.995))
        for q in self.survey.questions:
            row[q.id] = self.answer(q, p)
        if self.rng.random() < 0.12:
            row["comment"] = COMMENTS[int(self.rng.integers(len(COMMENTS)))]
        return row

    def answer(self, q: Question, p_satisfied: float) -> str:
        scale = self.survey.scale
        rng = self.rng
        if q.type == "choice":
            return q.options[int(rng.integers(len(q.options)))]
        if q.type == "text":
            return COMMENTS[int(rng.integers(len(COMMENTS)))] if rng.random() < 0.1 else ""
        if not q.required:
            r = rng.random()
            if r < 0.03:
                return ""  # skipped
            if r < 0.05:
                return "0"  # "no opinion"
        if rng.random() < p_satisfied:
            good = np.arange(scale.satisfied_min, scale.max + 1)
            weights = np.linspace(1.0, 1.0 + p_satisfied, len(good))  # better units: more top marks
        else:
            good = np.arange(scale.min, scale.satisfied_min)
            weights = np.geomspace(1.0, 4.0, len(good)) if len(good) > 1 else np.ones(1)
        return str(int(rng.choice(good, p=weights / weights.sum())))

    # -- what real sheets also hold ------------------------------------------------------------
    def add_faults(self, rows: list[dict[str, str]], faults: Faults) -> list[dict[str, str]]:
        rng = self.rng
        n = len(rows)
        if n == 0:
            return rows
        out = list(rows)
        replays = faults.replays if faults.replays is not None else max(1, round(n * 0.02))
        for i in rng.choice(n, size=min(replays, n), replace=False):
            # a slow network: the form was sent again a few seconds later, same response_id
            copy = dict(rows[i])
            copy["submitted_at"] = _later(copy["submitted_at"], int(rng.integers(3, 90)))
            out.append(copy)
        repeats = faults.device_repeats if faults.device_repeats is not None else max(1, round(n * 0.015))
        if self.survey.access in ("roster", "sample"):
            repeats = 0  # personal codes: a repeat is the same member again (below)
        for i in rng.choice(n, size=min(repeats, n), replace=False):
            # the same phone answering again for the same unit, as a new form
            again = self.respondent(self.survey.find_unit(rows[i]["unit_code"]),
                                    rows[i]["respondent_type"], 0.5)
            again["device_id"] = rows[i]["device_id"]
            again["submitted_at"] = _later(rows[i]["submitted_at"], int(rng.integers(120, 1800)))
            out.append(again)
        keyed = [i for i, r in enumerate(rows) if r["respondent_key"]]
        repeats = faults.respondent_repeats if faults.respondent_repeats is not None else (
            max(1, round(len(keyed) * 0.02)) if keyed else 0)
        for i in rng.choice(keyed, size=min(repeats, len(keyed)), replace=False) if keyed else []:
            # the same member answering again later from another phone
            again = self.respondent(self.survey.find_unit(rows[i]["unit_code"]),
                                    rows[i]["respondent_type"], 0.6)
            again["respondent_key"] = rows[i]["respondent_key"]
            again["submitted_at"] = _later(rows[i]["submitted_at"], int(rng.integers(3600, 86400)))
            if dt.datetime.fromisoformat(again["submitted_at"]).date() <= self.survey.end:
                out.append(again)
        out.extend(self.invalid_rows(rows, faults))
        return out

    def invalid_rows(self, rows: list[dict[str, str]], faults: Faults) -> list[dict[str, str]]:
        rng = self.rng
        survey = self.survey
        made: list[dict[str, str]] = []

        def fresh() -> dict[str, str]:
            base = rows[int(rng.integers(len(rows)))]
            unit = survey.find_unit(base["unit_code"])
            row = self.respondent(unit, base["respondent_type"], 0.8)
            row["respondent_key"] = base["respondent_key"]  # so only the intended fault fails
            return row

        codes = {u.code.upper() for u in survey.units}
        unknown = next(c for c in (f"ZZ{k:03d}" for k in range(1000)) if c not in codes)
        for _ in range(faults.unknown_unit):
            row = fresh()
            row["unit_code"] = unknown
            made.append(row)
        scored = survey.scale_questions
        for _ in range(faults.bad_answer):
            row = fresh()
            row[scored[int(rng.integers(len(scored)))].id] = str(survey.scale.max + 2)
            made.append(row)
        for _ in range(faults.outside_window):
            row = fresh()
            when = dt.datetime.fromisoformat(row["submitted_at"])
            late = when + dt.timedelta(days=(survey.end - when.date()).days + 3)
            row["submitted_at"] = late.isoformat()
            row["started_at"] = (late - dt.timedelta(minutes=3)).isoformat()
            made.append(row)
        lettered = [u for u in survey.units if u.code.lower() != u.code]
        # (roster access: a hand-typed code comes with no token, so it would not be valid)
        for _ in range(faults.lower_case_unit if lettered and survey.access != "roster" else 0):
            row = fresh()
            unit = lettered[int(rng.integers(len(lettered)))]
            row["unit_code"] = f" {unit.code.lower()}"  # typed by hand: still that unit
            made.append(row)
        return made


    # -- tickets ------------------------------------------------------------------------------
    def with_tickets(self, rows: list[dict[str, str]], faulty: bool) -> list[dict[str, str]]:
        """Tickets access: each visitor's answer carries the next ticket of its unit and day
        (numbers from its run's start, as `hailong tickets` issues them: demo_start); a resent
        form keeps its ticket. With faults, a slip used twice, a forged ticket and an answer
        without one."""
        from hailong.survey.tickets import NUMBERS, display, sign
        from hailong.survey.tokens import signing_key

        key = signing_key()
        last: dict[tuple[str, dt.date], int] = {}
        given: dict[str, str] = {}
        for row in rows:
            if row["response_id"] in given:  # a replay: the same form, the same ticket
                row["ticket"] = given[row["response_id"]]
                continue
            unit = self.survey.find_unit(row["unit_code"])
            code = unit.code if unit else row["unit_code"].strip()
            day = dt.datetime.fromisoformat(row["submitted_at"]).astimezone(self.survey.tz).date()
            last[code, day] = last.get((code, day), 0) + 1
            number = (demo_start(self.survey.id, code, day) + last[code, day] - 1) % NUMBERS
            row["ticket"] = sign(self.survey.id, code, day, number, key)
            given[row["response_id"]] = row["ticket"]
        valid = [r for r in rows if self.survey.find_unit(r["unit_code"])
                 and self.survey.start <= dt.date.fromisoformat(r["submitted_at"][:10]) <= self.survey.end]
        if not faulty or not valid:
            return rows
        extra = []
        for fault in ("reused", "forged", "missing"):
            base = valid[int(self.rng.integers(len(valid)))]
            row = self.respondent(self.survey.find_unit(base["unit_code"]), base["respondent_type"], 0.7)
            row["submitted_at"] = _later(base["submitted_at"], int(self.rng.integers(60, 600)))
            if fault == "reused":  # a slip answered by a second person: both are contested
                row["ticket"] = display(base["ticket"]).lower()
            elif fault == "forged":
                t = base["ticket"]
                row["ticket"] = t[:-1] + ("X" if t[-1] != "X" else "Y")
            extra.append(row)
        return rows + extra


def _later(iso: str, seconds: int) -> str:
    return (dt.datetime.fromisoformat(iso) + dt.timedelta(seconds=seconds)).isoformat()


# -- units for benchmarks of a national survey ----------------------------------------------------
_FIRST = ["Xuân", "Tân", "Hòa", "Phú", "Thạnh", "An", "Bình", "Hưng", "Đông", "Tây", "Nam",
          "Bắc", "Long", "Phước", "Thanh", "Quang", "Đức", "Hồng", "Kim", "Mỹ", "Vĩnh", "Thuận",
          "Trung", "Cẩm", "Sơn", "Hải", "Yên", "Đại", "Thượng", "Hạ", "Nghĩa", "Thiện", "Gia",
          "Hợp", "Quảng", "Tiên", "Thái", "Lộc", "Cát", "Minh"]
_SECOND = ["An", "Bình", "Hòa", "Lợi", "Thịnh", "Phong", "Lâm", "Sơn", "Hải", "Thành", "Tiến",
           "Hưng", "Phú", "Lộc", "Điền", "Giang", "Hà", "Trường", "Mỹ", "Khánh", "Long", "Tân",
           "Định", "Thuận", "Phước", "Lạc", "Yên", "Đồng", "Nghĩa", "Quang", "Trung", "Vinh",
           "Xuyên", "Châu", "Dương", "Cường", "Hiệp", "Tường", "Liên", "Hội"]
# (district kind, its share, the kinds of its communes with their shares)
_DISTRICTS = [
    ("Huyện", 0.8, [("Xã", 0.93), ("Thị trấn", 0.07)]),
    ("Thị xã", 0.12, [("Phường", 0.6), ("Xã", 0.4)]),
    ("Thành phố", 0.08, [("Phường", 0.75), ("Xã", 0.25)]),
]
_PROVINCES = ["Hà Tĩnh", "Nghệ An", "Thanh Hóa", "Quảng Bình", "Quảng Trị", "Thừa Thiên Huế",
              "Quảng Nam", "Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa", "Ninh Thuận",
              "Bình Thuận", "Đắk Lắk", "Gia Lai", "Kon Tum", "Lâm Đồng", "Đồng Nai", "Long An",
              "Tiền Giang", "Bến Tre", "Vĩnh Long", "Trà Vinh", "Sóc Trăng", "Cà Mau",
              "Thái Bình", "Nam Định", "Ninh Bình", "Hà Nam", "Hưng Yên", "Hải Dương",
              "Bắc Ninh", "Bắc Giang", "Phú Thọ", "Tuyên Quang", "Yên Bái", "Lào Cai", "Sơn La",
              "Hòa Bình", "Thái Nguyên"]


def generate_units(n: int, seed: int = 0) -> list[Unit]:
    """`n` plausible communes with 5-digit codes (as in the national list), ~15 per district.

    Names repeat across districts, as real ones do; codes are unique.
    """
    rng = np.random.default_rng(seed)
    district_p = np.array([share for _, share, _ in _DISTRICTS])
    units: list[Unit] = []
    district_no = 0
    used: set[tuple[str, str]] = set()

    def two_syllables() -> str:
        while True:
            a = _FIRST[int(rng.integers(len(_FIRST)))]
            b = _SECOND[int(rng.integers(len(_SECOND)))]
            if a != b:
                return f"{a} {b}"

    while len(units) < n:
        district_no += 1
        dkind, _, communes = _DISTRICTS[int(rng.choice(len(_DISTRICTS), p=district_p))]
        parent = f"{dkind} {two_syllables()}, {_PROVINCES[district_no % len(_PROVINCES)]}"
        kinds = [k for k, _ in communes]
        kind_p = np.array([p for _, p in communes])
        for _ in range(int(rng.integers(8, 23))):
            if len(units) >= n:
                break
            name = two_syllables()
            if (parent, name) in used:
                continue
            used.add((parent, name))
            kind = kinds[int(rng.choice(len(kinds), p=kind_p))]
            units.append(Unit(code=f"{len(units) + 1:05d}", name=f"{kind} {name}", parent=parent,
                              quota_individual=15, quota_organization=10))
    return units


def units_csv(units: list[Unit]) -> str:
    """units.csv text for `units` (code,name,parent,quota_individual,quota_organization)."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["code", "name", "parent", "quota_individual", "quota_organization"])
    for u in units:
        writer.writerow([u.code, u.name, u.parent,
                         "" if u.quota_individual is None else u.quota_individual,
                         "" if u.quota_organization is None else u.quota_organization])
    return buf.getvalue()


def demo_start(survey_id: str, unit_code: str, day: dt.date) -> int:
    """The first ticket number of a unit's day in the demo (fixed, so that the generated
    visitors' tickets are the ones the demo records as issued)."""
    import hashlib

    from hailong.survey.tickets import NUMBERS

    digest = hashlib.blake2b(f"{survey_id}\0{unit_code.upper()}\0{day}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") % NUMBERS
