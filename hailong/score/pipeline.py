"""The `score` command: read → validate → dedupe → score, and the four data files.

Files at the edges only: this module reads the responses file and writes data/responses.csv,
quarantine.csv, duplicates.csv and ranking.csv (contract, section 4), each atomically. Every row
read ends in exactly one of the first three (conservation, checked before anything is written).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes
from hailong.ingest.responses import as_read, csv_bytes, read_responses
from hailong.layout import Layout
from hailong.score.dedupe import dedupe
from hailong.score.scoring import rank_units, two_decimals
from hailong.score.validate import SUBMITTED, validate
from hailong.survey.load import Survey
from hailong.ui import steps

RANKING_HEAD = ["rank", "unit_code", "unit_name", "n", "index", "ci_low", "ci_high", "band", "ranked"]


def score(survey: Survey, out: Path, responses: Path | None = None) -> str:
    """Score `responses` (default: the pulled data/raw.csv) into the data files; a summary."""
    layout = Layout(Path(out), survey.id)
    path = Path(responses) if responses is not None else layout.raw_csv
    if responses is None and not path.exists():
        raise HailongError(
            f"{path}: no responses pulled yet; run `hailong pull {survey.path}` first "
            "(or give a file with --responses)"
        )
    with steps("Chấm điểm", 6) as advance:
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
    ranking = rank_units(accepted, survey)
    advance()

    # a malformed row cannot be found by its response_id: its reason says where it stands
    malformed = read.malformed.assign(
        reason=read.malformed["reason"] + " (row " + read.malformed.index.astype(str) + ")")
    quarantine = pd.concat([as_read(read, quarantined.index).assign(reason=quarantined["reason"]),
                            malformed]).sort_index(kind="stable")
    dropped = as_read(read, duplicates.index).assign(
        rule=duplicates["rule"], kept_response_id=duplicates["kept_response_id"])
    if read.rows_read != len(accepted) + len(quarantine) + len(dropped):
        raise AssertionError(  # a bug, not a user error: never publish a result that lost rows
            f"conservation broken: read {read.rows_read}, accepted {len(accepted)}, "
            f"quarantined {len(quarantine)}, duplicates {len(dropped)}"
        )

    del valid, kept  # only accepted and the rows as read are needed from here
    # exactly the contract's columns: the rows as read, plus reason (or rule, kept_response_id)
    for name, frame in (("responses.csv", accepted), ("quarantine.csv", quarantine),
                        ("duplicates.csv", dropped),
                        ("ranking.csv", ranking_for_file(ranking))):
        atomic_write_bytes(layout.data_file(name), csv_bytes(frame))
    advance()

    notes = _participation(survey, layout, accepted, times)
    advance()
    ranked = int(ranking["ranked"].sum())
    summary = (
        f"read {read.rows_read} rows: {len(accepted)} accepted, {len(quarantine)} quarantined, "
        f"{len(dropped)} duplicates; {len(ranking)} units, {ranked} ranked → {layout.data}/"
    )
    if read.missing_questions:
        summary += (f"\n  {path.name} has no column for question(s) "
                    f"{', '.join(read.missing_questions)}: their answers count as empty")
    if len(quarantine):
        summary += f"\n  see {layout.data_file('quarantine.csv')} for the rejected rows and why"
    invalid = int((quarantine["reason"] == "invalid token").sum()) if len(quarantine) else 0
    if survey.access == "roster" and invalid and invalid * 2 >= read.rows_read:
        summary += (f"\n  {invalid} of {read.rows_read} rows have an invalid personal link: is "
                    "HAILONG_SIGNING_KEY the same key `hailong links` signed the letters with?")
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
    for c in blocks:
        out[c] = _two_decimals(ranking[c])
    return out[RANKING_HEAD + blocks]


def _two_decimals(values: pd.Series) -> pd.Series:
    return pd.Series([("" if pd.isna(v) else two_decimals(v)) for v in values],
                     index=values.index, dtype="str")


def _participation(survey: Survey, layout: Layout, accepted: pd.DataFrame,
                   times: pd.Series) -> list[str]:
    try:
        from hailong.score.participation import write_reports
    except ImportError:  # the participation stage is not part of this build
        return []
    notes = write_reports(survey, layout, accepted, times=times)
    return list(notes or [])
