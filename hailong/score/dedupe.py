"""Stage: drop duplicate submissions (contract, section 5 "Dedupe").

Among valid rows ordered by submitted_at (ties: file row order), in this order:
1. `replay`: the same response_id again (a resubmitted form): keep the earliest;
2. `ticket`: the same (unit_code, ticket), ticket not empty: keep the earliest (a ticket is
   used once); tickets are compared as typed tickets are read (case, spaces and dashes aside);
3. `respondent`: the same (unit_code, respondent_key), key not empty: keep per dedupe.keep;
4. `device`: when dedupe.by_device, the same (unit_code, device_id), id not empty: keep per keep.
Each rule looks only at rows the rules before it kept. A dropped row records its rule and the
response_id of the row kept in its place. Rows with an empty response_id are never replays:
there is nothing to say they are the same form.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hailong.score.validate import SUBMITTED, parse_times
from hailong.survey.load import Survey
from hailong.survey.tickets import normalise


def _order(valid: pd.DataFrame, survey: Survey) -> np.ndarray:
    """Positions of the rows by submitted_at, ties by file row number (the index)."""
    rows = np.asarray(valid.index, dtype=np.int64)
    if SUBMITTED in valid.columns:
        times = valid[SUBMITTED]
    else:  # rows that did not come through validate (e.g. read back from responses.csv)
        times = parse_times(valid["submitted_at"], survey.tz)
    stamps = pd.to_datetime(times, utc=True).to_numpy(dtype="datetime64[us]").astype(np.int64)
    return np.lexsort((rows, stamps))


def _group_rule(keys: pd.Series, keep: str) -> np.ndarray:
    """Within rows already in time order: the position of the row kept in each row's place
    (itself when kept; -1 for rows whose key is None, which take no part)."""
    codes, _ = pd.factorize(keys, use_na_sentinel=True)
    member = codes >= 0
    chosen_all = np.full(len(codes), -1, dtype=np.int64)
    if not member.any():
        return chosen_all
    pos = np.flatnonzero(member)
    grp = codes[member]
    if keep == "last":  # the last of each group is the first of the reversed rows
        pos, grp = pos[::-1], grp[::-1]
    uniq, first = np.unique(grp, return_index=True)
    keeper = np.empty(grp.max() + 1, dtype=np.int64)
    keeper[uniq] = pos[first]
    chosen_all[pos] = keeper[grp]
    return chosen_all


RULES = ("replay", "ticket", "respondent", "device")


def duplicate_rows(valid: pd.DataFrame, survey: Survey
                   ) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(positions of the dropped rows in `valid`, ascending; their rule; the response_id kept
    in their place). Reads only the key columns (response_id, unit_code, ticket,
    respondent_key, device_id, and SUBMITTED or submitted_at): `score` calls it on those alone,
    gathered from every chunk, so no per-row Python object is made for the kept rows."""
    order = _order(valid, survey)
    n = len(valid)

    def sorted_column(name: str) -> pd.Series:
        # only the key columns are put in time order; the frame itself is never copied whole
        values = valid[name].astype("str").iloc[order].str.strip()
        return values.reset_index(drop=True)

    ids = sorted_column("response_id")
    alive = np.ones(n, dtype=bool)
    rule = np.full(n, -1, dtype=np.int8)
    kept_at = np.full(n, -1, dtype=np.int64)  # sorted position of the row kept instead

    def apply(name: str, keys: pd.Series, keep: str) -> None:
        chosen = _group_rule(keys.where(alive), keep)
        dropped = (chosen >= 0) & (chosen != np.arange(n))
        rule[dropped] = RULES.index(name)
        kept_at[dropped] = chosen[dropped]
        alive[dropped] = False

    apply("replay", ids.where(ids != ""), "first")
    unit = sorted_column("unit_code")
    if "ticket" in valid.columns:
        ticket = sorted_column("ticket")
        # each distinct ticket read once: a million rows hold few repeated values
        codes, uniques = pd.factorize(ticket)
        read = np.array([normalise(t) or t.upper() for t in uniques] + [""], dtype=object)
        same = pd.Series(read[codes], index=ticket.index, dtype="str")
        apply("ticket", (unit.str.upper() + "\x1f" + same).where(ticket != ""), "first")
    keep = survey.dedupe.keep
    key = sorted_column("respondent_key")
    apply("respondent", (unit + "\x1f" + key).where(key != ""), keep)
    if survey.dedupe.by_device:
        device = sorted_column("device_id")
        apply("device", (unit + "\x1f" + device).where(device != ""), keep)

    gone = np.flatnonzero(~alive)
    gone = gone[np.argsort(order[gone])]
    rules = pd.Series(np.asarray(RULES, dtype=object)[rule[gone]], dtype="str")
    kept_ids = ids.iloc[kept_at[gone]].reset_index(drop=True)
    return order[gone], rules, kept_ids


def dedupe(valid: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept, duplicates): kept rows in file order; duplicates + `rule` and `kept_response_id`."""
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
