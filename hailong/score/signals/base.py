"""What every signal reads: the accepted rows prepared once (unit, times, answers).

A signal module gets a `Rows` and the survey, and returns `Fired` records: the unit, how many
of its answers show the sign, and a Vietnamese sentence for staff. run.py adds the share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hailong.score.validate import parse_times
from hailong.survey.load import Survey


@dataclass(frozen=True)
class Fired:
    unit_code: str
    count: int
    detail: str


@dataclass
class Rows:
    """Accepted rows of known units, columns aligned; `unit` is the units.csv spelling."""

    unit: pd.Series  # canonical unit code per row
    submitted: pd.Series  # UTC timestamps (NaT where unreadable)
    started: pd.Series  # UTC timestamps (NaT where empty or unreadable)
    scale: np.ndarray  # rows x scale questions, 0 where no answer
    answered: np.ndarray  # per row: questions answered (scale and choice)
    vector: pd.Series  # per row: every scale and choice answer joined, for exact repeats
    device: pd.Series  # device_id, stripped
    n: dict[str, int]  # accepted rows per unit

    @classmethod
    def of(cls, accepted: pd.DataFrame, survey: Survey) -> Rows:
        canonical = {u.code.upper(): u.code for u in survey.units}
        codes = accepted["unit_code"].astype("str").str.strip().str.upper().map(canonical)
        frame = accepted[codes.notna()]
        unit = codes[codes.notna()].astype("str")

        def col(name: str) -> pd.Series:
            if name in frame.columns:
                return frame[name].fillna("").astype("str").str.strip()
            return pd.Series("", index=frame.index, dtype="str")

        scale_ids = [q.id for q in survey.scale_questions]
        scale = np.zeros((len(frame), len(scale_ids)), dtype=np.int64)
        for j, qid in enumerate(scale_ids):
            values = pd.to_numeric(col(qid), errors="coerce").fillna(0)
            scale[:, j] = values.to_numpy(dtype=float).astype(np.int64)
        counted = [q.id for q in survey.questions if q.type in ("scale", "choice")]
        texts = [col(qid) for qid in counted]
        answered = np.zeros(len(frame), dtype=np.int64)
        for q, text in zip(counted, texts, strict=True):
            is_scale = q in scale_ids
            answered += ((text != "") & ~(is_scale & (text == "0"))).to_numpy()
        vector = (pd.concat(texts, axis=1).agg("\x1f".join, axis=1) if texts
                  else pd.Series("", index=frame.index, dtype="str"))
        return cls(
            unit=unit, submitted=parse_times(col("submitted_at"), survey.tz),
            started=parse_times(col("started_at"), survey.tz), scale=scale, answered=answered,
            vector=vector, device=col("device_id"), n=unit.value_counts().to_dict(),
        )


def share_fired(rows: Rows, flagged: pd.Series, min_count: int, share: float) -> pd.Series:
    """Units where at least `min_count` rows are flagged and they are more than `share` of
    the unit's rows: the flagged count per such unit."""
    counts = rows.unit[flagged.to_numpy(dtype=bool)].value_counts()
    totals = pd.Series(rows.n).reindex(counts.index)
    return counts[(counts >= min_count) & (counts > share * totals)].sort_index()


def percent(count: int, total: int) -> str:
    """"42%" as staff read it; never 0% or 100% for a share that is neither."""
    value = 100 * count / total
    text = f"{value:.0f}"
    if text == "100" and count < total:
        text = "99"
    return text + "%"
