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
    vector: np.ndarray  # rows x scale and choice questions: codes of the answers, equal iff same
    device: pd.Series  # device_id, stripped
    n: dict[str, int]  # accepted rows per unit

    @classmethod
    def of(cls, accepted: pd.DataFrame, survey: Survey) -> Rows:
        canonical = {u.code.upper(): u.code for u in survey.units}
        spelled = accepted["unit_code"].astype("str").str.strip().str.upper().map(canonical)
        frame = accepted[spelled.notna()]
        unit = spelled[spelled.notna()].astype("str")

        def col(name: str) -> pd.Series:
            if name in frame.columns:
                return frame[name].fillna("").astype("str").str.strip()
            return pd.Series("", index=frame.index, dtype="str")

        scale_ids = {q.id for q in survey.scale_questions}
        counted = [q.id for q in survey.questions if q.type in ("scale", "choice")]
        # each column once as codes of its distinct texts: a million rows cost a few columns
        codes = np.zeros((len(frame), len(counted)), dtype=np.int64)
        scale = np.zeros((len(frame), len(scale_ids)), dtype=np.int64)
        answered = np.zeros(len(frame), dtype=np.int64)
        j = 0
        for i, qid in enumerate(counted):
            code, uniques = pd.factorize(col(qid))
            codes[:, i] = code
            texts = pd.Index(uniques).astype("str")
            empty = (texts == "") | ((texts == "0") & (qid in scale_ids))
            answered += ~np.asarray(empty)[code]
            if qid in scale_ids:
                numbers = pd.to_numeric(pd.Series(texts), errors="coerce").fillna(0).to_numpy()
                scale[:, j] = numbers.astype(np.int64)[code]
                j += 1
        return cls(
            unit=unit, submitted=parse_times(col("submitted_at"), survey.tz),
            started=parse_times(col("started_at"), survey.tz), scale=scale, answered=answered,
            vector=codes, device=col("device_id"), n=unit.value_counts().to_dict(),
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
