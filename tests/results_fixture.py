"""Scored survey folders for the results tests: real `hailong score` on small inline answers.

Every respondent key, device id, response id, ticket, timestamp and comment written here is
distinctive, so the privacy test can look for each of them in the published files.
"""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import SMALL_TOML, write_survey

UNITS = """\
code,name,parent,quota_individual,quota_organization
X01,Xã Tiên Điền,Nghi Xuân,10,5
X02,Xã Xuân An,Nghi Xuân,10,5
X03,<script>alert(1)</script>,Can Lộc,10,5
X04,Xã Ít Phiếu,Can Lộc,10,5
X05,Xã Rất Ít,Can Lộc,10,5
"""

# per unit: one (q1, q2, q3) per response; "" is no answer
ANSWERS: dict[str, list[tuple[str, str, str]]] = {
    "X01": [("5", "5", "5")] * 10 + [("4", "4", "5")] * 3 + [("2", "3", "4")],  # 14, high
    "X02": [("4", "", "4")] * 5 + [("3", "2", "3")] * 4 + [("2", "", "2")] * 3,  # 12; q2: 4 answers
    "X03": [("4", "4", "4")] * 6 + [("2", "2", "2")] * 5,  # 11
    "X04": [("5", "4", "4")] * 6,  # 6: not ranked, shown for reference
    "X05": [("1", "1", "1")] * 3,  # 3: below min_cell, nothing shown
}


def response_rows(answers=ANSWERS, tag: str = "a", day: str = "2024-06-12") -> list[dict]:
    rows = []
    for code, items in answers.items():
        for i, (q1, q2, q3) in enumerate(items):
            k = f"{tag}{code}{i:02d}"
            rows.append({
                "submitted_at": f"{day}T{8 + i // 6:02d}:{7 * (i % 6) + 3:02d}:17+07:00",
                "response_id": f"rid-{k}-5f0c9e",
                "survey_id": "",
                "unit_code": code,
                "respondent_type": "organization" if i % 4 == 3 else "individual",
                "respondent_key": f"rkey-{k}-hash",
                "device_id": f"dev-{k}-b7",
                "ticket": f"tk-{k}-z",
                "started_at": f"{day}T07:5{i % 10}:41+07:00",
                "q1": q1, "q2": q2, "q3": q3,
                "kenh": "Người quen",
                "gop_y": f"Góp ý riêng {k} về cán bộ",
                "comment": f"Bình luận riêng tư {k}",
            })
    return rows


def write_responses(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def scored_survey(tmp: Path, toml: str = SMALL_TOML, answers=ANSWERS, tag: str = "a",
                  folder: str = "thu-nghiem", out: Path | None = None, day: str = "2024-06-12"):
    """(survey, out, rows): a survey folder scored with `hailong score` into `out`."""
    from hailong.score.pipeline import score
    from hailong.survey.load import load_survey

    survey = load_survey(write_survey(tmp / "surveys" / folder, toml=toml, units=UNITS))
    out = out or tmp / "out"
    rows = response_rows(answers, tag, day)
    score(survey, out, responses=write_responses(tmp / f"{folder}-{tag}.csv", rows))
    return survey, out, rows
