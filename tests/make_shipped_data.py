"""Generate the optional data files of the shipped survey folders, deterministically.

    .venv/bin/python tests/make_shipped_data.py          # rewrite the files under surveys/
    .venv/bin/python tests/make_shipped_data.py --check  # exit 1 if a shipped file differs

Writes surveys/sipas-xa-2020/transactions.csv, surveys/pks02-2024/visitors.csv and
surveys/htx-2022/roster.csv, surveys/htx-2023/roster.csv, and the units.csv of the national
example surveys/sipas-toan-quoc-2026 (the real communes and wards, from `vietnam-provinces`). All people, organisations, tax codes
and phone numbers are fictional. Each generator seeds its own Random from a fixed string, so
editing one file's generator never changes another file; tests/test_shipped_surveys.py checks
that the committed files are exactly what this script produces.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # hailong itself, when run as a script
SURVEYS = ROOT / "surveys"

# -- names -------------------------------------------------------------------------------------
SURNAMES = ["Nguyễn"] * 6 + ["Trần"] * 3 + ["Lê"] * 3 + ["Phan"] * 2 + ["Võ"] * 2 + [
    "Đặng", "Hoàng", "Thái", "Đậu", "Bùi", "Phạm", "Hồ", "Dương", "Đinh", "Ngô", "Tôn", "Đoàn",
]
MIDDLE_MALE = ["Văn", "Văn", "Văn", "Đình", "Hữu", "Xuân", "Công", "Quang", "Đức", "Minh", "Trọng"]
MIDDLE_FEMALE = ["Thị", "Thị", "Thị", "Thị", "Thu", "Thanh", "Ngọc", "Kim", "Hồng", "Mai"]
GIVEN_MALE = [
    "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Hưng", "Hoàng", "Khánh", "Lâm", "Long",
    "Lợi", "Minh", "Nam", "Nghĩa", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Thành", "Tiến", "Toàn",
    "Trung", "Tuấn", "Việt", "Vinh",
]
GIVEN_FEMALE = [
    "Anh", "Bích", "Chung", "Dung", "Giang", "Hà", "Hằng", "Hạnh", "Hiền", "Hoa", "Hương", "Lan",
    "Liên", "Linh", "Loan", "Lý", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Tâm", "Thảo", "Thủy",
    "Trang", "Vân", "Yến",
]
FIRM_WORDS = [
    "Hoàng Long", "Minh Phát", "Thành Đạt", "Phú Hưng", "Hải Đăng", "Trường Sơn", "Hồng Lam",
    "Sông Lam", "An Phú", "Việt Tiến", "Đại Thắng", "Bình Minh", "Tân Phát", "Hưng Thịnh",
    "Phúc Lộc", "Thiên Ân", "Quang Vinh", "Nhật Minh", "Hợp Thành", "Đồng Tiến", "Kim Ngân",
    "Bảo Châu", "Thái Hà", "Lam Hồng",
]
FIRM_TRADES = [
    "Xây dựng", "Thương mại và Dịch vụ", "Vận tải", "Thủy sản", "Vật liệu xây dựng",
    "Chế biến hải sản", "Du lịch", "Cơ khí", "Nông sản",
]
VILLAGES = [
    "Bắc Sơn", "Trung Hòa", "Nam Sơn", "Đông Hải", "Tân Thành", "Hồng Lam", "Phúc Hải",
    "Thành Vân", "Hội Long", "Yên Điềm", "Minh Khai", "Tiên Hòa", "Hải Thịnh", "Song Hải",
    "Lam Thủy", "Trung Tiến", "Thuận Mỹ", "Kim Thành",
]


def person(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_MALE)} {rng.choice(GIVEN_MALE)}"
    return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE_FEMALE)} {rng.choice(GIVEN_FEMALE)}"


def lower_first(name: str) -> str:
    """"Xã Xuân Hội" -> "xã Xuân Hội", as the unit type is written inside an address."""
    return name[0].lower() + name[1:]


def write_csv(header: list[str], rows: list[list[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


# -- sipas-xa-2020: transactions.csv -----------------------------------------------------------
def units(survey_id: str) -> list[tuple[str, str]]:
    """(code, name) of a shipped survey's units.csv, which is written by hand."""
    with open(SURVEYS / survey_id / "units.csv", encoding="utf-8-sig", newline="") as f:
        return [(row["code"], row["name"]) for row in csv.DictReader(f)]


FIELD_HT = "Hộ tịch"
FIELD_DD = "Đất đai - Môi trường"
FIELD_LD = "Lao động - Thương binh và Xã hội"
OTHER_FIELDS_PERSON = ["Chứng thực", "Chứng thực", "Nông nghiệp", "Xây dựng", "Văn hóa - Thông tin"]
OTHER_FIELDS_ORG = ["Chứng thực", "Xây dựng", "Nông nghiệp", "Thi đua - Khen thưởng"]
OTHER_PROVINCE_ADDRESSES = [
    ("xã Nghi Thái, huyện Nghi Lộc, tỉnh Nghệ An", "Nghệ An"),
    ("xã Nghi Xuân, huyện Nghi Lộc, tỉnh Nghệ An", "Nghệ An"),
    ("phường Bến Thủy, thành phố Vinh, tỉnh Nghệ An", "Nghệ An"),
    ("phường Nghi Hải, thị xã Cửa Lò, tỉnh Nghệ An", "Nghệ An"),
    ("xã Quảng Phú, huyện Quảng Trạch, tỉnh Quảng Bình", "Quảng Bình"),
    ("phường Hoàng Liệt, quận Hoàng Mai, thành phố Hà Nội", "Hà Nội"),
]
# Eligible supply per unit (individuals, organisations). Most communes have plenty; Đan Trường
# and Xuân Lam have too few organisations and Thị trấn Xuân An too few individuals, so the
# sample must move the shortfall to the other respondent type, as the plan allows.
SHORT_SUPPLY = {"NX04": (34, 7), "NX09": (33, 5), "NX02": (12, 30)}
INELIGIBLE_KINDS = ["online", "postal", "not_received", "other_province", "out_of_period",
                    "other_field"]
SAMPLING_START = dt.date(2020, 1, 2)
SAMPLING_END = dt.date(2020, 8, 31)
HOLIDAYS = {dt.date(2020, 1, 23) + dt.timedelta(days=i) for i in range(7)} | {  # Tết Canh Tý
    dt.date(2020, 4, 2), dt.date(2020, 4, 30), dt.date(2020, 5, 1),
}


def working_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    d = start
    while d <= end:
        if d.weekday() < 5 and d not in HOLIDAYS:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


IN_PERIOD = working_days(SAMPLING_START, SAMPLING_END)
BEFORE = working_days(dt.date(2019, 11, 18), dt.date(2019, 12, 31))
AFTER = working_days(dt.date(2020, 9, 3), dt.date(2020, 10, 16))


def organisation(rng: random.Random, place: str) -> str:
    kind = rng.random()
    if kind < 0.45:
        prefix = rng.choice(["Công ty TNHH", "Công ty TNHH", "Công ty Cổ phần"])
        return f"{prefix} {rng.choice(FIRM_TRADES)} {rng.choice(FIRM_WORDS)}"
    if kind < 0.6:
        return f"Doanh nghiệp tư nhân {rng.choice(FIRM_WORDS)}"
    if kind < 0.75:
        return rng.choice([f"Hợp tác xã Nông nghiệp {place}", f"Hợp tác xã Dịch vụ tổng hợp {place}",
                           f"Hợp tác xã Thủy sản {place}", f"Hợp tác xã Môi trường {place}"])
    return rng.choice([
        f"Trường Mầm non {place}", f"Trường Tiểu học {place}", f"Trường Trung học cơ sở {place}",
        f"Trạm Y tế {place}", f"Hội Nông dân {place}", f"Hội Liên hiệp Phụ nữ {place}",
        f"Hội Cựu chiến binh {place}", f"Đoàn Thanh niên {place}", f"Quỹ tín dụng nhân dân {place}",
    ])


def sipas_unit_rows(code: str, name: str) -> list[list[object]]:
    """One commune's register: eligible rows, then a few of each ineligible kind."""
    rng = random.Random(f"sipas-xa-2020/transactions/{code}")
    place = name.split(" ", 1)[1] if name.startswith("Xã") else name.split(" ", 2)[2]
    town = name.startswith("Thị trấn")
    villages = rng.sample(VILLAGES, 8)
    n_ind, n_org = SHORT_SUPPLY.get(code, (rng.randint(28, 46), rng.randint(11, 18)))

    def local_address() -> str:
        where = f"Tổ dân phố {rng.randint(1, 12)}" if town else f"Thôn {rng.choice(villages)}"
        return f"{where}, {lower_first(name)}, huyện Nghi Xuân, tỉnh Hà Tĩnh"

    used_orgs: set[str] = set()

    def new_org() -> str:
        while True:
            org = organisation(rng, place)
            if org not in used_orgs:
                used_orgs.add(org)
                return org

    def row(rtype: str, kind: str | None) -> list[object]:
        org = rtype == "organization"
        if org:
            field = rng.choices([FIELD_DD, FIELD_LD], [0.6, 0.4])[0]
        else:
            field = rng.choices([FIELD_HT, FIELD_DD, FIELD_LD], [0.5, 0.3, 0.2])[0]
        who = new_org() if org else person(rng)
        address, province = local_address(), "Hà Tĩnh"
        channel, received, date = "direct", "true", rng.choice(IN_PERIOD)
        if kind == "online":
            channel = "online"
        elif kind == "postal":
            channel = "postal"
        elif kind == "not_received":
            # Still being processed, or the applicant never came back for the result.
            received, date = "false", rng.choice(IN_PERIOD[-40:])
        elif kind == "other_province":
            address, province = rng.choice(OTHER_PROVINCE_ADDRESSES)
        elif kind == "out_of_period":
            date = rng.choice(BEFORE + AFTER)
        elif kind == "other_field":
            field = rng.choice(OTHER_FIELDS_ORG if org else OTHER_FIELDS_PERSON)
        return [code, rtype, who, address, field, received, channel, province, date]

    unit_rows = [row("individual", None) for _ in range(n_ind)]
    unit_rows += [row("organization", None) for _ in range(n_org)]
    for kind in INELIGIBLE_KINDS:
        unit_rows += [row("individual", kind) for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.5 or code in ("NX01", "NX02"):
            unit_rows.append(row("organization", kind))
    # A few rows fail twice (handled online from another province), as real lists do.
    for _ in range(rng.randint(0, 2)):
        r = row("individual", "online")
        r[3], r[7] = rng.choice(OTHER_PROVINCE_ADDRESSES)
        unit_rows.append(r)
    # The one-stop office's register is kept in order of receipt.
    unit_rows.sort(key=lambda r: (r[8], r[2]))
    return [[f"{code}-{i:04d}", *r[:8], r[8].isoformat()] for i, r in enumerate(unit_rows, 1)]


def sipas_transactions() -> str:
    rows = [row for code, name in units("sipas-xa-2020") for row in sipas_unit_rows(code, name)]
    header = ["id", "unit_code", "respondent_type", "name", "address", "field",
              "received_result", "channel", "province", "date"]
    return write_csv(header, rows)


# -- pks02-2024: visitors.csv ------------------------------------------------------------------
# The most populous communes see more than 40 people a day at the one-stop office.
PKS_BUSY = {"NL01": 52, "NL05": 47, "NL09": 44, "NL14": 58, "NL20": 41}
PKS_DAYS = [dt.date(2024, 6, 12), dt.date(2024, 6, 13), dt.date(2024, 6, 14)]


def pks_visitors() -> str:
    rows: list[list[object]] = []
    for code, _name in units("pks02-2024"):
        rng = random.Random(f"pks02-2024/visitors/{code}")
        base = PKS_BUSY.get(code, rng.randint(14, 34))
        for day, factor in zip(PKS_DAYS, (1.0, 0.9, 1.1), strict=True):
            count = max(6, round(base * factor + rng.randint(-5, 5)))
            rows.append([code, day.isoformat(), count])
    return write_csv(["unit_code", "date", "visitors"], rows)


# -- htx-2022, htx-2023: roster.csv ------------------------------------------------------------
DISTRICTS = [  # unit code, district as written in an address
    ("TPHATINH", "Thành phố Hà Tĩnh"), ("TXHONGLINH", "Thị xã Hồng Lĩnh"),
    ("TXKYANH", "Thị xã Kỳ Anh"), ("NGHIXUAN", "Huyện Nghi Xuân"), ("DUCTHO", "Huyện Đức Thọ"),
    ("HUONGSON", "Huyện Hương Sơn"), ("VUQUANG", "Huyện Vũ Quang"), ("CANLOC", "Huyện Can Lộc"),
    ("LOCHA", "Huyện Lộc Hà"), ("THACHHA", "Huyện Thạch Hà"), ("CAMXUYEN", "Huyện Cẩm Xuyên"),
    ("HUONGKHE", "Huyện Hương Khê"), ("KYANH", "Huyện Kỳ Anh"),
]
PROVINCIAL = ["SNNPTNT", "SKHDT", "LMHTX", "SCT"]
# Places and trades per district, so names read like the cooperatives one meets there.
DISTRICT_PLACES = {
    "TPHATINH": ["Thạch Trung", "Thạch Hạ", "Đồng Môn", "Thạch Bình", "Thạch Hưng"],
    "TXHONGLINH": ["Thuận Lộc", "Trung Lương", "Đức Thuận", "Nam Hồng"],
    "TXKYANH": ["Kỳ Hoa", "Kỳ Ninh", "Kỳ Hà", "Kỳ Lợi", "Kỳ Hưng"],
    "NGHIXUAN": ["Xuân Hội", "Xuân Yên", "Cổ Đạm", "Xuân Liên", "Xuân Lĩnh", "Xuân Hồng"],
    "DUCTHO": ["Tùng Ảnh", "Đức Lạng", "Yên Hồ", "Bùi La Nhân", "Tân Dân", "Lâm Trung Thủy"],
    "HUONGSON": ["Sơn Kim", "Sơn Tây", "Sơn Trường", "Sơn Hồng", "Sơn Ninh", "Sơn Lễ"],
    "VUQUANG": ["Hương Minh", "Đức Lĩnh", "Ân Phú", "Quang Thọ", "Đức Bồng"],
    "CANLOC": ["Thiên Lộc", "Vượng Lộc", "Trung Lộc", "Tùng Lộc", "Khánh Vĩnh Yên"],
    "LOCHA": ["Thạch Kim", "Hộ Độ", "Thạch Mỹ", "Tân Lộc", "Hồng Lộc"],
    "THACHHA": ["Thạch Hải", "Thạch Văn", "Thạch Ngọc", "Tượng Sơn", "Thạch Long"],
    "CAMXUYEN": ["Cẩm Nhượng", "Cẩm Lĩnh", "Cẩm Thịnh", "Cẩm Bình", "Cẩm Trung"],
    "HUONGKHE": ["Phúc Trạch", "Hương Trà", "Hương Đô", "Lộc Yên", "Hương Xuân"],
    "KYANH": ["Kỳ Tân", "Kỳ Tây", "Kỳ Lạc", "Kỳ Xuân", "Kỳ Phong"],
}
COOP_KINDS = [
    "Hợp tác xã Nông nghiệp {p}", "Hợp tác xã Dịch vụ nông nghiệp tổng hợp {p}",
    "Hợp tác xã Chăn nuôi {p}", "Hợp tác xã Rau củ quả sạch {p}", "Hợp tác xã Thủy sản {p}",
    "Hợp tác xã Sản xuất và Tiêu thụ nấm {p}", "Hợp tác xã Môi trường {p}",
    "Hợp tác xã Dược liệu {p}", "Hợp tác xã Mây tre đan {p}", "Hợp tác xã Vận tải {p}",
    "Hợp tác xã Nuôi ong {p}", "Hợp tác xã Chế biến nước mắm {p}",
]
DISTRICT_SPECIALTIES = {
    "HUONGKHE": ["Hợp tác xã Bưởi {p}", "Hợp tác xã Cam {p}"],
    "VUQUANG": ["Hợp tác xã Cam {p}"],
    "HUONGSON": ["Hợp tác xã Nuôi hươu {p}", "Hợp tác xã Cam bù {p}"],
    "CAMXUYEN": ["Hợp tác xã Chế biến nước mắm {p}"],
    "THACHHA": ["Hợp tác xã Chế biến nước mắm {p}", "Hợp tác xã Muối {p}"],
    "TPHATINH": ["Hợp tác xã Kẹo cu đơ {p}"],
    "CANLOC": ["Hợp tác xã Sản xuất giống lúa {p}"],
}
TITLES = ["Giám đốc", "Giám đốc", "Giám đốc", "Chủ tịch Hội đồng quản trị", "Phó Giám đốc", "Kế toán"]


def htx_members() -> list[dict[str, object]]:
    """Every cooperative of 2022 and 2023, with the years it was on the roster."""
    rng = random.Random("htx/roster")
    members: list[dict[str, object]] = []
    used: set[str] = set()
    plan = [(code, code, rng.randint(6, 10)) for code, _ in DISTRICTS]
    # Provincial bodies are rated by cooperatives from across the province.
    plan += [(unit, None, rng.randint(6, 8)) for unit in PROVINCIAL]
    for unit, home, count in plan:
        for _ in range(count):
            district_code = home or rng.choice(DISTRICTS)[0]
            district = dict(DISTRICTS)[district_code]
            while True:
                place = rng.choice(DISTRICT_PLACES[district_code])
                pattern = rng.choice(COOP_KINDS + DISTRICT_SPECIALTIES.get(district_code, []) * 2)
                name = pattern.format(p=place)
                if name not in used:
                    used.add(name)
                    break
            contact_name = person(rng)
            phone = f"09{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
            contact = f"{contact_name} ({rng.choice(TITLES)}), {phone}"
            tax_code = f"30{rng.randint(10_000_000, 19_999_999)}"
            years = {2022, 2023}
            roll = rng.random()
            if roll < 0.08:
                years = {2023}  # founded in 2023
            elif roll < 0.14:
                years = {2022}  # dissolved or merged during 2022-2023
            members.append({"unit": unit, "name": name, "tax_code": tax_code,
                            "district": district, "contact": contact, "years": years})
    for i, member in enumerate(members, 1):
        member["id"] = f"HTX{i:03d}"
    return members


def htx_roster(year: int) -> str:
    rows = [[m["id"], m["name"], m["unit"], m["tax_code"], m["district"], m["contact"]]
            for m in htx_members() if year in m["years"]]
    header = ["id", "name", "unit_code", "tax_code", "district", "contact"]
    return write_csv(header, rows)


# -- sipas-toan-quoc-2026: units.csv ---------------------------------------------------------
NATIONAL_WEB_APP = "https://script.google.com/macros/s/thay-bang-web-app-{slug}/exec"


def province_slug(parent: str) -> str:
    """"Thành phố Hà Nội" -> "ha-noi": the province in a placeholder address."""
    from hailong.survey.units import fold

    return fold(parent).replace(" ", "-")


def national_units() -> str:
    """Every commune and ward, 15 individuals + 10 organisations each (the plans' sample), each
    posting to its province's web app; the addresses are placeholders a ministry replaces."""
    from hailong.survey.units import units_frame

    frame = units_frame(everywhere=True)
    rows = [[u.code, u.name, u.parent, u.official_code, 15, 10,
             NATIONAL_WEB_APP.format(slug=province_slug(u.parent))]
            for u in frame.itertuples(index=False)]
    header = ["code", "name", "parent", "official_code", "quota_individual", "quota_organization",
              "collector_url"]
    return write_csv(header, rows)


def national_sheets() -> list[str]:
    """The placeholder spreadsheet ids of survey.toml's [sheets], one per province."""
    from hailong.survey.units import province_names

    return [f"thay-bang-ma-bang-tinh-{province_slug(name)}" for name in province_names()]


def generated() -> dict[Path, str]:
    return {
        SURVEYS / "sipas-xa-2020" / "transactions.csv": sipas_transactions(),
        SURVEYS / "pks02-2024" / "visitors.csv": pks_visitors(),
        SURVEYS / "pks02-2024-ve" / "visitors.csv": pks_visitors(),  # the tickets variant
        SURVEYS / "htx-2022" / "roster.csv": htx_roster(2022),
        SURVEYS / "htx-2023" / "roster.csv": htx_roster(2023),
        SURVEYS / "sipas-toan-quoc-2026" / "units.csv": national_units(),
    }


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in generated().items():
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
            print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10)) - 1} rows)")
    for path in stale:
        print(f"{path.relative_to(ROOT)} differs from the generator; run tests/make_shipped_data.py")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
