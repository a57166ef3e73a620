"""Reading the files `hailong score` wrote, for the pages: the only door publish has to data.

Publish never opens responses.csv: everything it shows comes from ranking.csv, questions.csv,
the counts-only block_answers.csv and respondent_types.csv, participation.csv and
completion.csv. A damaged or missing file is one clear line saying which and what to run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hailong import cells
from hailong.errors import HailongError
from hailong.i18n import _

QUESTIONS = "questions.csv"
BLOCK_ANSWERS = "block_answers.csv"
RESPONDENT_TYPES = "respondent_types.csv"
QUESTION_COLUMNS = ["unit_code", "question_id", "answers", "satisfied", "index"]


def read_csv(path: Path, columns: list[str] | None = None, *, required: bool = False
             ) -> pd.DataFrame | None:
    """A data file as text cells; None when it does not exist and is not required."""
    if not path.exists():
        if required:
            raise HailongError(_("{path}: file not found; run `hailong score` again to write it",
                                 path=path))
        return None
    try:
        frame = cells.read_csv(path)  # BOM, and formula-safe cells back as they were sent
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise HailongError(_("{path}: cannot read it ({exc}); run `hailong score` again", path=path,
                             exc=exc)) from None
    missing = [c for c in columns or [] if c not in frame.columns]
    if missing:
        raise HailongError(_("{path}: column '{column}' is missing; run `hailong score` again",
                             path=path, column=missing[0]))
    return frame


MAX_COUNT = 10 ** 15
MAX_FIGURE = 1000  # above any percent (100) or mean score


def _numbers(path: Path, frame: pd.DataFrame, column: str, *, whole: bool) -> np.ndarray:
    """A column as numbers (NaN for an empty cell), or an error naming the first bad row."""
    text = frame[column].astype(str).str.strip()
    values = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    bad = (np.isnan(values) & (text != "").to_numpy()) | np.isinf(values)
    # counts fit a 64-bit integer with room; figures are percents or means on a scale: 1e308 is
    # an edited file, and would overflow the arithmetic of withholding
    bad |= np.nan_to_num(values) < 0
    bad |= np.nan_to_num(values) > (MAX_COUNT if whole else MAX_FIGURE)
    if whole:
        bad |= np.isnan(values) | (np.nan_to_num(values) % 1 != 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise HailongError(_("{name} line {line}, column {column}: '{value}' is not a valid number; "
                             "run `hailong score` again", name=path.name, line=i + 2, column=column,
                             value=frame[column].iloc[i]))
    return values


def read_questions(path: Path) -> pd.DataFrame:
    """questions.csv with answers and satisfied as integers and index as a float (NaN: none);
    no rows when the file does not exist (a ranking alone publishes no question figures)."""
    frame = read_csv(path, QUESTION_COLUMNS)
    if frame is None:
        frame = pd.DataFrame({c: pd.Series(dtype=str) for c in QUESTION_COLUMNS})
    return pd.DataFrame({
        "unit_code": frame["unit_code"].astype(str),
        "question_id": frame["question_id"].astype(str),
        "answers": _numbers(path, frame, "answers", whole=True).astype(np.int64),
        "satisfied": _numbers(path, frame, "satisfied", whole=True).astype(np.int64),
        "index": _numbers(path, frame, "index", whole=False),
    })


def read_block_answers(path: Path) -> dict[tuple[str, str], int] | None:
    """(unit, block) -> answers behind the block cell; None when the file does not exist
    (a survey scored before the file was written: the pages then fall back to min_cell)."""
    frame = read_csv(path, ["unit_code", "block_id", "answers"])
    if frame is None:
        return None
    answers = _numbers(path, frame, "answers", whole=True).astype(np.int64)
    return dict(zip(zip(frame["unit_code"], frame["block_id"], strict=True), answers.tolist(),
                    strict=True))


def read_type_counts(path: Path) -> dict[tuple[str, str], int]:
    """(unit, respondent type) -> accepted responses; empty when the file does not exist."""
    frame = read_csv(path, ["unit_code", "respondent_type", "responses"])
    if frame is None:
        return {}
    counts = _numbers(path, frame, "responses", whole=True).astype(np.int64)
    return dict(zip(zip(frame["unit_code"], frame["respondent_type"], strict=True), counts.tolist(),
                    strict=True))
