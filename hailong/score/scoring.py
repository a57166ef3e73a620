"""Stage: score and rank the units (contract, section 5 "Scoring, exactly").

Pure functions of the accepted responses. Everything is computed on integer unit codes with
numpy (bincount per question), so 10,000 units cost no more than 10: there is no Python loop
over units or rows.

Steps, per unit, over its accepted responses and the scale questions only:
1. question index: percent_satisfied = 100 × satisfied / answers; mean_score = 100 × (mean − min)
   / (max − min); no answers: no value. An empty answer or 0 is "no opinion": not an answer.
2. block index: mean of its question indices that have a value;
3. unit index: weighted mean (block weights) of the block indices that have a value;
4. respondent score: steps 1–3 on one response alone;
5. interval (v3): Korn and Graubard's Clopper-Pearson interval on the effective sample size,
   with the survey's design effect D pooled over its informative units
   (hailong.stats.korn_graubard); the index itself where fewer than two respondents (k) have
   a score. D goes with the ranking (its attrs["design_effect"]) into run.json;
6. n = accepted responses; ranked when n ≥ min_responses and the index has a value;
7. rank on the index rounded to two decimals, highest first, ties share (1, 2, 2, 4); band of
   the rounded index; unranked units get unranked_label;
8. rank range (rank_low, rank_high) from the two-decimal figures (hailong.stats).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from hailong.ingest.responses import text_chunks
from hailong.numbers import round2, two_decimals
from hailong.score.codes import factorize
from hailong.score.queries import TypeTally, unit_tallies
from hailong.score.validate import UNIT
from hailong.stats import design_effect, interval_parts, rank_ranges
from hailong.survey.load import Survey

__all__ = ["round2", "two_decimals"]  # kept importable from here: score's own rounding rules


INTERVAL_INPUTS = ("k", "d", "deff", "effective_n")  # step 5's figures per unit


def block_column(block_id: str) -> str:
    return f"block:{block_id}"


def _unit_positions(responses: pd.DataFrame, survey: Survey) -> np.ndarray:
    """Each response's position in units.csv (-1 for a code not there: such rows are ignored)."""
    if UNIT in responses.columns:  # read once, by the validation query
        return responses[UNIT].to_numpy()
    lookup = pd.Index([c.upper() for c in survey.unit_codes])
    codes, uniques = pd.factorize(responses["unit_code"].astype("str"))
    # match the few distinct codes, not the million rows
    at = lookup.get_indexer(pd.Index(uniques).str.strip().str.upper())
    return np.append(at, -1)[codes]


def _answers(column: pd.Series) -> np.ndarray:
    """A scale column as integers, 0 for no opinion (empty). Values were checked by validate."""
    codes, uniques = factorize(column)
    values = np.zeros(len(uniques) + 1, dtype=np.int64)
    # the few distinct texts are trimmed (as pandas' str.strip trims), not the million rows
    for i, text in enumerate(pd.Index(uniques, dtype="str").str.strip()):
        try:
            values[i] = int(float(text)) if text else 0
        except ValueError:
            values[i] = 0  # unreachable after validate; never counted as an answer
    return values[codes]


def tally_arrays(responses: pd.DataFrame, survey: Survey) -> tuple[np.ndarray, list[np.ndarray]]:
    """What scoring keeps of each response: (unit position int32, -1 for a code not in
    units.csv; per scale question, each row's answer, small ints (int16) clipped to lo-1..hi+1,
    0 for none). `score` keeps the same chunk by chunk, 2 bytes per answer, as the validation
    query read them (validate.UNIT, validate.answer_column)."""
    unit = _unit_positions(responses, survey).astype(np.int32)
    lo, hi = survey.scale.min, survey.scale.max
    questions = survey.scale_questions
    answers = []
    for q in questions:
        a = np.zeros(len(unit), dtype=np.int16)
        if q.id in responses.columns:
            # clipped so a stray huge number cannot wrap round into the scale
            a[:] = np.clip(_answers(responses[q.id]), lo - 1, hi + 1)
        answers.append(a)
    return unit, answers


class _Tally:
    """Per-unit and per-response figures shared by the tables below."""

    def __init__(self, responses: pd.DataFrame | None, survey: Survey,
                 arrays: tuple[np.ndarray, list[np.ndarray]] | None = None):
        self.survey = survey
        self.units = len(survey.units)
        unit, answers = arrays if arrays is not None else tally_arrays(responses, survey)
        known = unit >= 0
        if not known.all():  # (a copy of every answer only where some code is unknown)
            unit, answers = unit[known], [a[known] for a in answers]
        self.unit = unit.astype(np.int64)
        scale = survey.scale
        self.lo, self.hi, self.sat_min = scale.min, scale.max, scale.satisfied_min
        self.mean_score = survey.scoring.method == "mean_score"
        self.questions = survey.scale_questions
        # per question: each response's answer, small ints clipped to lo-1..hi+1 (ten million
        # rows hold 20 MB a question)
        self.first = self.lo - 1
        self.row_answers: list[np.ndarray] = []
        for a in answers:
            if len(a) and (a.min() < self.first or a.max() > self.hi + 1):
                a = np.clip(a, self.first, self.hi + 1)  # (tally_arrays clips already)
            self.row_answers.append(a)
        # steps 1 and 6 count in SQL (queries.TALLY); whole numbers, exact as floats
        self.n, self.answers, self.satisfied, self.total = unit_tallies(
            self.unit, self.row_answers, self.units, self.lo, self.hi, self.sat_min)

    def row_score_of(self, a: np.ndarray) -> np.ndarray:
        """Step 1 on single answers `a`; NaN for no answer."""
        given = (a >= self.lo) & (a <= self.hi)
        if self.mean_score:
            score = 100.0 * (a - self.lo) / (self.hi - self.lo)
        else:
            score = np.where(a >= self.sat_min, 100.0, 0.0)
        return np.where(given, score, np.nan)

    def row_scores(self) -> np.ndarray:
        """Steps 2 and 3 on each response's own question scores (row_score_of), with the
        arithmetic of _combine, value for value. Under percent_satisfied a question scores 100
        or 0, so a block's total is 100 × its satisfied answers, exactly as the float sum was:
        counted in small integers. A mean_score answer's score is looked up in a table of the
        few possible answers and summed in question order, as _combine sums."""
        values = np.arange(self.first, self.hi + 2)
        table = self.row_score_table(values)
        size = len(self.unit)
        weighted = np.zeros(size)
        weights = np.zeros(size)
        for block in self.survey.blocks:
            count = np.zeros(size, dtype=np.int32)
            if self.mean_score:
                total = np.zeros(size)
            else:
                satisfied = np.zeros(size, dtype=np.int32)
            for j in self._columns_of(block.id):
                a = self.row_answers[j]
                given = (a >= self.lo) & (a <= self.hi)
                count += given
                if self.mean_score:
                    total += table[a - self.first]  # the score where given, else 0.0
                else:
                    satisfied += given & (a >= self.sat_min)
            if not self.mean_score:
                total = 100.0 * satisfied
            with np.errstate(invalid="ignore", divide="ignore"):
                index = np.where(count > 0, total / count, np.nan)
            has = count > 0  # the index is a number exactly where some question was answered
            weighted += np.where(has, index * block.weight, 0.0)
            weights += np.where(has, block.weight, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weights > 0, weighted / weights, np.nan)

    def row_score_table(self, a: np.ndarray) -> np.ndarray:
        """row_score_of each answer value in `a`, 0.0 where not an answer."""
        score = self.row_score_of(a)
        return np.where(np.isnan(score), 0.0, score)

    def question_index(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.mean_score:
                mean = self.total / self.answers
                index = 100.0 * (mean - self.lo) / (self.hi - self.lo)
            else:
                index = 100.0 * self.satisfied / self.answers
        return np.where(self.answers > 0, index, np.nan)

    def _columns_of(self, block_id: str) -> list[int]:
        return [j for j, q in enumerate(self.questions) if q.block == block_id]

    def _combine(self, per_question, size: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Steps 2 and 3 on per-question vectors (`per_question(j)`, each of length `size`,
        made one at a time to keep memory flat): (combined vector, block vectors)."""
        weighted = np.zeros(size)
        weights = np.zeros(size)
        blocks = []
        for block in self.survey.blocks:
            cols = self._columns_of(block.id)
            total = np.zeros(size)
            count = np.zeros(size)
            for j in cols:
                v = per_question(j)
                has = ~np.isnan(v)
                total += np.where(has, v, 0.0)
                count += has
            with np.errstate(invalid="ignore", divide="ignore"):
                index = np.where(count > 0, total / count, np.nan)
            blocks.append(index)
            has = ~np.isnan(index)
            weighted += np.where(has, index * block.weight, 0.0)
            weights += np.where(has, block.weight, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            combined = np.where(weights > 0, weighted / weights, np.nan)
        return combined, blocks

    def unit_index(self) -> tuple[np.ndarray, list[np.ndarray]]:
        qi = self.question_index()
        return self._combine(lambda j: qi[:, j], self.units)

    def interval(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores = self.row_scores()
        has = ~np.isnan(scores)
        unit, s = self.unit[has], scores[has]
        m = self.units
        k = np.bincount(unit, minlength=m).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.bincount(unit, weights=s, minlength=m) / k
            # two passes (deviations from each unit's mean) to keep sd exact for large units
            dev = np.bincount(unit, weights=(s - mean[unit]) ** 2, minlength=m)
            sd = np.sqrt(dev / (k - 1))
        # D is pooled over every unit of the survey, so it is known only once all are tallied
        self.design_effect = design_effect(index, sd, k)
        parts = interval_parts(index, sd, k, self.design_effect, len(self.questions))
        self.interval_inputs = (k, parts.d, parts.deff, parts.n)  # intervals.csv
        # a guard against float dust only: Clopper-Pearson holds p itself
        return np.minimum(parts.low, index), np.maximum(parts.high, index)


def competition_rank(values: np.ndarray) -> np.ndarray:
    """1, 2, 2, 4: one plus the number of strictly higher values."""
    ordered = np.sort(-values)
    return np.searchsorted(ordered, -values, side="left") + 1


def score_tables(responses: pd.DataFrame, survey: Survey
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(ranking, questions, block answers) from one pass over the responses: what
    `pipeline.score` writes as ranking.csv, questions.csv and block_answers.csv."""
    return tables_of(_Tally(responses, survey))


def score_arrays(unit: np.ndarray, answers: list[np.ndarray], survey: Survey
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """score_tables from what `tally_arrays` gave for every chunk, joined in file order."""
    return tables_of(_Tally(None, survey, (unit, answers)))


def tables_of(tally: _Tally) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return _ranking(tally), _questions(tally), _block_answers(tally)


def rank_units(responses: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """The ranking (ranking.csv content, unrounded floats): one row per unit in units.csv."""
    return _ranking(_Tally(responses, survey))


def _ranking(tally: _Tally) -> pd.DataFrame:
    survey = tally.survey
    index, blocks = tally.unit_index()
    low, high = tally.interval(index)
    rounded = round2(index)
    ranked = (tally.n >= survey.scoring.min_responses) & ~np.isnan(index)
    rank = np.full(len(index), -1, dtype=np.int64)
    if ranked.any():
        rank[ranked] = competition_rank(rounded[ranked])
    rank_low = np.zeros(len(index), dtype=np.int64)
    rank_high = np.zeros(len(index), dtype=np.int64)
    if ranked.any():  # step 8, from the figures as ranking.csv prints them
        rank_low[ranked], rank_high[ranked] = rank_ranges(
            rounded[ranked], round2(low[ranked]), round2(high[ranked]))
    band = np.full(len(index), survey.scoring.unranked_label, dtype=object)
    for i in np.flatnonzero(ranked):
        band[i] = survey.band_for(rounded[i])
    frame = pd.DataFrame({
        "rank": pd.array(np.where(ranked, rank, 0), dtype="Int64"),
        "unit_code": pd.Series(survey.unit_codes, dtype="str"),
        "unit_name": pd.Series([u.name for u in survey.units], dtype="str"),
        "n": tally.n.astype(np.int64),
        "index": index,
        "ci_low": low,
        "ci_high": high,
        "band": pd.Series(band, dtype="str"),
        "ranked": ranked,
        "rank_low": pd.array(rank_low, dtype="Int64"),
        "rank_high": pd.array(rank_high, dtype="Int64"),
    })
    frame.loc[~ranked, ["rank", "rank_low", "rank_high"]] = pd.NA
    for block, values in zip(survey.blocks, blocks, strict=True):
        frame[block_column(block.id)] = values
    # what the interval stands on (not in ranking.csv: in intervals.csv, for the method page)
    for name, values in zip(INTERVAL_INPUTS, tally.interval_inputs, strict=True):
        frame[name] = values
    order = np.lexsort((frame["unit_code"].to_numpy(dtype=object), np.where(ranked, rank, np.iinfo(np.int64).max)))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.attrs["design_effect"] = tally.design_effect  # what run.json publishes as D
    return frame


def question_table(responses: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """One row per unit × scale question: unit_code, question_id, answers, satisfied, index."""
    return _questions(_Tally(responses, survey))


def _questions(tally: _Tally) -> pd.DataFrame:
    survey = tally.survey
    qi = tally.question_index()
    m, q = qi.shape
    return pd.DataFrame({
        "unit_code": pd.Series(np.repeat(np.array(survey.unit_codes, dtype=object), q), dtype="str"),
        "question_id": pd.Series(np.tile(np.array([x.id for x in tally.questions], dtype=object), m), dtype="str"),
        "answers": tally.answers.reshape(-1).astype(np.int64),
        "satisfied": tally.satisfied.reshape(-1).astype(np.int64),
        "index": qi.reshape(-1),
    })


def block_answer_table(responses: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """One row per unit × block: unit_code, block_id, answers, the most answers any question of
    the block got in the unit (at least that many respondents answered it). Counts only: the
    pages withhold a block cell resting on fewer than min_cell answers by it."""
    return _block_answers(_Tally(responses, survey))


def _block_answers(tally: _Tally) -> pd.DataFrame:
    survey = tally.survey
    m, b = tally.units, len(survey.blocks)
    counts = np.zeros((m, b), dtype=np.int64)
    for i, block in enumerate(survey.blocks):
        cols = tally._columns_of(block.id)
        if cols:
            counts[:, i] = tally.answers[:, cols].max(axis=1)
    return pd.DataFrame({
        "unit_code": pd.Series(np.repeat(np.array(survey.unit_codes, dtype=object), b), dtype="str"),
        "block_id": pd.Series(np.tile(np.array([x.id for x in survey.blocks], dtype=object), m), dtype="str"),
        "answers": counts.reshape(-1),
    })


def type_table(responses: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """Accepted responses per unit and respondent type (empty type: the first one), for units
    with any: unit_code, respondent_type, responses. Counts only."""
    counts = TypeCounts(survey)
    counts.add(responses)
    return counts.table()


class TypeCounts:
    """type_table gathered chunk by chunk (queries.TYPE_PART and TYPES): types in order of
    first appearance in the file, as one pass over all rows would see them."""

    def __init__(self, survey: Survey):
        self.survey = survey
        self.tally = TypeTally(survey.respondent_types[0])

    def add(self, responses: pd.DataFrame) -> None:
        kinds = (text_chunks(responses["respondent_type"]) if "respondent_type" in responses
                 else pa.array([""] * len(responses)))
        self.tally.add(_unit_positions(responses, self.survey), kinds)

    def table(self) -> pd.DataFrame:
        counts = self.tally.counts()
        codes = np.array(self.survey.unit_codes, dtype=object)
        return pd.DataFrame({
            "unit_code": pd.Series(codes[counts.column("unit").to_numpy()], dtype="str"),
            "respondent_type": pd.Series(counts.column("rtype").to_pylist(), dtype="str"),
            "responses": counts.column("responses").to_numpy().astype(np.int64),
        })


def block_table(responses: pd.DataFrame, survey: Survey) -> pd.DataFrame:
    """One row per unit × block: unit_code, block_id, index (NaN where no answers)."""
    tally = _Tally(responses, survey)
    _, blocks = tally.unit_index()
    m, b = tally.units, len(survey.blocks)
    values = np.column_stack(blocks) if blocks else np.zeros((m, 0))
    return pd.DataFrame({
        "unit_code": pd.Series(np.repeat(np.array(survey.unit_codes, dtype=object), b), dtype="str"),
        "block_id": pd.Series(np.tile(np.array([x.id for x in survey.blocks], dtype=object), m), dtype="str"),
        "index": values.reshape(-1),
    })

