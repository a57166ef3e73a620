"""Stage: drop duplicate submissions (contract, section 5 "Dedupe").

Among valid rows ordered by submitted_at (ties: file row order), in this order:
1. `replay`: the same response_id again (a resubmitted form): keep the earliest;
2. contested tickets (contract v3): when one (unit_code, ticket), ticket not empty, is carried
   by two or more of the rows replay kept (different responses), none of them counts: all are
   marked CONTESTED, which score sends to quarantine (`contested_ticket`), not to duplicates.
   Keeping the earliest would let whoever holds the slips answer first and silence the visitor
   the slip was for; contesting both gives the office no vote and leaves a trace (the
   `ticket_reuse` signal). Tickets are compared as typed tickets are read (case, spaces and
   dashes aside);
3. `respondent`: the same (unit_code, respondent_key), key not empty: keep per dedupe.keep;
4. `device`: when dedupe.by_device, the same (unit_code, device_id), id not empty: keep per keep;
   rows with channel paper or assisted never take part (contract v3).
The rules are SQL (hailong.score.queries: one UPDATE per rule, window functions over the
keys); each rule looks only at rows the rules before it kept. A dropped row records its rule and the
response_id of the row kept in its place. Rows with an empty response_id are never replays:
there is nothing to say they are the same form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.score import queries
from hailong.score.validate import SUBMITTED, parse_times
from hailong.survey.load import Survey
from hailong.survey.tickets import normalise

CONTESTED = "contested_ticket"  # not a duplicate rule: the reason code of the quarantined rows
RULES = ("replay", CONTESTED, "respondent", "device")
STAFFED = ("paper", "assisted")  # a clerk's computer, a helper's phone: many answers, one device


def _times(valid: pd.DataFrame, survey: Survey) -> np.ndarray:
    """submitted_at as UTC microseconds: the parsed times validate gave, else parsed here
    (rows read back from responses.csv, say)."""
    times = valid[SUBMITTED] if SUBMITTED in valid.columns else parse_times(
        valid["submitted_at"], survey.tz)
    return pd.to_datetime(times, utc=True).to_numpy(dtype="datetime64[us]").astype(np.int64)


def duplicate_rows(valid: pd.DataFrame, survey: Survey, con=None
                   ) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(positions of the dropped rows in `valid`, ascending; their rule; the response_id kept
    in their place, empty for CONTESTED rows, which go to quarantine, not to duplicates).
    Reads only the key columns (response_id, unit_code, ticket, respondent_key, device_id,
    channel, and SUBMITTED or submitted_at). `con`: score's DuckDB connection (else one of
    its own)."""
    times = _times(valid, survey)
    if con is not None:
        return queries.duplicate_rows(con, valid, survey, times)
    with queries.connect() as own:
        return queries.duplicate_rows(own, valid, survey, times)


def contested_sizes(units: pd.Series, tickets: pd.Series) -> np.ndarray:
    """For contested rows (their unit_code and ticket cells), how many responses carried each
    row's ticket: the rows of one (unit, ticket) among them, compared as dedupe compares."""
    if not len(units):
        return np.zeros(0, dtype=np.int64)
    pair = (units.astype("str").str.strip().str.upper() + "\0"
            + tickets.astype("str").map(lambda t: normalise(t) or t.strip().upper()))
    return pair.map(pair.value_counts()).to_numpy(dtype=np.int64)


def dedupe(valid: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, duplicates): kept rows in file order; duplicates + `rule` and `kept_response_id`
    (contested rows among them, rule CONTESTED: score quarantines those)."""
    gone, rules, kept_ids = duplicate_rows(valid, survey)
    if not len(gone):
        kept = valid
    else:
        alive = np.ones(len(valid), dtype=bool)
        alive[gone] = False
        kept = valid.iloc[np.flatnonzero(alive)]
    duplicates = valid.iloc[gone].copy()
    duplicates["rule"] = pd.Series(rules.to_numpy(), index=duplicates.index, dtype="str")
    duplicates["kept_response_id"] = pd.Series(kept_ids.to_numpy(), index=duplicates.index,
                                               dtype="str")
    return kept, duplicates
