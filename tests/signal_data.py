"""A small scored survey where one unit shows signs of ballot stuffing (for the pages' tests)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from conftest import SMALL_TOML, write_survey

from hailong.score.pipeline import score
from hailong.survey.load import load_survey

COLS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
        "respondent_key", "device_id", "ticket", "started_at", "q1", "q2", "q3", "kenh", "gop_y",
        "comment"]


def scored_with_signals(tmp_path, public: str = '["device"]'):
    """X01: 12 answers from one kiosk, all the same (device, identical, straightline fire);
    X02 and X03: 12 ordinary answers each. Scored into tmp_path/out."""
    toml = SMALL_TOML + f"\n[dedupe]\nby_device = false\n\n[signals]\npublic = {public}\n"
    survey = load_survey(write_survey(tmp_path / "s", toml))
    rows = []
    start = dt.datetime(2024, 6, 12, 8, 0)
    for u, unit in enumerate(["X01", "X02", "X03"]):
        for i in range(12):
            at = start + dt.timedelta(days=i // 6, minutes=40 * (i % 6) + u)
            same = unit == "X01"
            rows.append(dict.fromkeys(COLS, "") | {
                "submitted_at": at.isoformat() + "+07:00", "response_id": f"{unit}-{i}",
                "unit_code": unit, "device_id": "kiosk" if same else f"{unit}-d{i}",
                "started_at": (at - dt.timedelta(minutes=3)).isoformat() + "+07:00",
                "q1": "5" if same else str(1 + i % 5), "q2": "5" if same else str(1 + i // 5),
                "q3": "5" if same else str(1 + (i + 3) % 5), "kenh": "Khác",
            })
    raw = tmp_path / "raw.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(raw, index=False)
    out = tmp_path / "out"
    score(survey, out, raw)
    return survey, out
