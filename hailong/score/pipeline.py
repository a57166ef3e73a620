"""The `score` command: read → validate → dedupe → score, and the data files.

Files at the edges only: this module reads the responses file and writes data/responses.csv,
quarantine.csv, duplicates.csv, ranking.csv, questions.csv and signals.csv (contract, section 4),
each atomically, and two counts-only files the published pages need and may not compute from
responses.csv themselves: block_answers.csv (`unit_code,block_id,answers`, for withholding
small cells) and respondent_types.csv (`unit_code,respondent_type,responses`). Every row read
ends in exactly one of the first three (conservation, checked before anything is written).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.i18n import _
from hailong.ingest.responses import as_read, csv_bytes, read_responses
from hailong.layout import Layout
from hailong.score.dedupe import dedupe
from hailong.score.scoring import score_tables, two_decimals, type_table
from hailong.score.signals.run import find_signals
from hailong.score.validate import SUBMITTED, validate
from hailong.survey.keycheck import refuse_other_key
from hailong.survey.load import Survey
from hailong.survey.tokens import signing_key
from hailong.ui import steps

RANKING_HEAD = ["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high", "band", "ranked",
                "rank_low", "rank_high"]
QUESTIONS_HEAD = ["unit_code", "question_id", "answers", "satisfied", "index"]


def score(survey: Survey, out: Path, responses: Path | None = None) -> str:
    """Score `responses` (default: the pulled data/raw.csv) into the data files; a summary."""
    layout = Layout(Path(out), survey.id)
    path = Path(responses) if responses is not None else layout.raw_csv
    if responses is None and not path.exists():
        raise HailongError(
            _("{path}: no responses pulled yet; run `hailong pull {path2}` first (or give a "
              "file with --responses)", path=path, path2=survey.path)
        )
    if survey.access in ("roster", "tickets"):
        # a wrong key would quarantine every answer and rank nobody: refuse before anything
        refuse_other_key(layout, signing_key(), _("score the answers"))
    with steps(_("Scoring"), 6) as advance:
        return _score(survey, layout, path, advance)


def _score(survey: Survey, layout: Layout, path: Path, advance) -> str:
    read = read_responses(path, survey)
    advance()
    valid, quarantined = validate(read.frame, survey)
    advance()
    kept, duplicates = dedupe(valid, survey)
    advance()
    accepted = kept[survey.response_columns]
    times = kept[SUBMITTED]
    ranking, questions, block_answers = score_tables(accepted, survey)
    signals = find_signals(accepted, survey)  # flags only: reads accepted, changes nothing
    advance()

    # a malformed row cannot be found by its response_id: its reason says where it stands
    before, after = _(" (row {row})", row="\0").split("\0")
    malformed = read.malformed.drop(columns="reason").assign(
        reason_code="malformed",
        reason=read.malformed["reason"] + before + read.malformed.index.astype(str) + after)
    quarantine = pd.concat([as_read(read, quarantined.index).assign(
        reason_code=quarantined["reason_code"], reason=quarantined["reason"]),
        malformed]).sort_index(kind="stable")
    dropped = as_read(read, duplicates.index).assign(
        rule=duplicates["rule"], kept_response_id=duplicates["kept_response_id"])
    if read.rows_read != len(accepted) + len(quarantine) + len(dropped):
        raise AssertionError(  # a bug, not a user error: never publish a result that lost rows
            f"conservation broken: read {read.rows_read}, accepted {len(accepted)}, "
            f"quarantined {len(quarantine)}, duplicates {len(dropped)}"
        )

    del valid, kept  # only accepted and the rows as read are needed from here
    # exactly the contract's columns: the rows as read, plus reason_code and reason (or rule,
    # kept_response_id)
    for name, frame in (("responses.csv", accepted), ("quarantine.csv", quarantine),
                        ("duplicates.csv", dropped),
                        ("ranking.csv", ranking_for_file(ranking)),
                        ("questions.csv", questions_for_file(questions)),
                        ("block_answers.csv", _counts_for_file(block_answers, "answers")),
                        ("respondent_types.csv",
                         _counts_for_file(type_table(accepted, survey), "responses")),
                        ("signals.csv", signals)):
        atomic_write_bytes(layout.data_file(name), csv_bytes(frame))
    advance()

    notes = _participation(survey, layout, accepted, times)
    advance()
    ranked = int(ranking["ranked"].sum())
    summary = (
        _("read {rows_read} rows: {accepted} accepted, {quarantine} quarantined, {dropped} "
          "duplicates; {ranking} units, {ranked} ranked → {data}/",
          rows_read=read.rows_read, accepted=len(accepted), quarantine=len(quarantine),
          dropped=len(dropped), ranking=len(ranking), ranked=ranked, data=layout.data)
    )
    if read.missing_questions:
        summary += (_("\n  {name} has no column for question(s) {value}: their answers count as "
                      "empty",
                      name=path.name, value=', '.join(read.missing_questions)))
    if len(signals):
        summary += _("\n  {count} sign(s) of ballot stuffing at {units} unit(s): see {path}",
                     count=len(signals), units=signals["unit_code"].nunique(),
                     path=layout.data_file("signals.csv"))
    if len(quarantine):
        summary += _("\n  see {value} for the rejected rows and why",
                     value=layout.data_file('quarantine.csv'))
    invalid = int((quarantine["reason_code"] == "invalid_token").sum()) if len(quarantine) else 0
    bad_tickets = int((quarantine["reason_code"] == "invalid_ticket").sum()) if len(quarantine) else 0
    if survey.access == "tickets" and bad_tickets and bad_tickets * 2 >= read.rows_read:
        summary += _("\n  {bad} of {rows_read} rows have an invalid ticket: is "
                     "HAILONG_SIGNING_KEY the key `hailong tickets` signed the slips with, and "
                     "were the slips handed out?", bad=bad_tickets, rows_read=read.rows_read)
    if survey.access == "roster" and invalid and invalid * 2 >= read.rows_read:
        summary += (_("\n  {invalid} of {rows_read} rows have an invalid personal link: is "
                      "HAILONG_SIGNING_KEY the same key `hailong links` signed the letters with?",
                      invalid=invalid, rows_read=read.rows_read))
    return "\n".join([summary, *(f"  {n}" for n in notes)])


def ranking_for_file(ranking: pd.DataFrame) -> pd.DataFrame:
    """ranking.csv cells: numbers with two decimals, empty where no value, ranked true/false."""
    out = pd.DataFrame(index=ranking.index)
    out["rank"] = ranking["rank"].astype("Int64").astype("str").replace("<NA>", "")
    out["unit_code"] = ranking["unit_code"]
    out["unit_name"] = ranking["unit_name"]
    out["n"] = ranking["n"].astype(np.int64).astype("str")
    blocks = [c for c in ranking.columns if c.startswith("block:")]
    for c in ["index", "ci_low", "ci_high"]:
        out[c] = _two_decimals(ranking[c])
    out["band"] = ranking["band"]
    out["ranked"] = np.where(ranking["ranked"].to_numpy(dtype=bool), "true", "false")
    for c in ("rank_low", "rank_high"):
        out[c] = ranking[c].astype("Int64").astype("str").replace("<NA>", "")
    for c in blocks:
        out[c] = _two_decimals(ranking[c])
    return out[RANKING_HEAD + blocks]


def questions_for_file(table: pd.DataFrame) -> pd.DataFrame:
    """questions.csv cells: counts as integers, the index with two decimals or empty."""
    out = table[QUESTIONS_HEAD].copy()
    for c in ("answers", "satisfied"):
        out[c] = table[c].astype(np.int64).astype("str")
    out["index"] = _two_decimals(table["index"])
    return out


def _counts_for_file(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return table.assign(**{column: table[column].astype(np.int64).astype("str")})


def _two_decimals(values: pd.Series) -> pd.Series:
    # the distinct values only: a question index repeats across units (8/10 is 8/10 anywhere)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = np.array([two_decimals(v) for v in uniques] + [""], dtype=object)
    return pd.Series(texts[codes], index=values.index, dtype="str")


def _participation(survey: Survey, layout: Layout, accepted: pd.DataFrame,
                   times: pd.Series) -> list[str]:
    try:
        from hailong.score.participation import write_reports
    except ImportError:  # the participation stage is not part of this build
        return []
    notes = write_reports(survey, layout, accepted, times=times)
    return list(notes or [])
