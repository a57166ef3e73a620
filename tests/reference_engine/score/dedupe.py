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
Each rule looks only at rows the rules before it kept. A dropped row records its rule and the
response_id of the row kept in its place. Rows with an empty response_id are never replays:
there is nothing to say they are the same form.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.survey.load import Survey
from hailong.survey.tickets import normalise
from reference_engine.ingest.responses import text_chunks
from reference_engine.score.codes import Cells, needs_trim, text_hash
from reference_engine.score.validate import SUBMITTED, parse_times


def _order(valid: pd.DataFrame, survey: Survey) -> np.ndarray:
    """Positions of the rows by submitted_at, ties by file row number (the index)."""
    rows = np.asarray(valid.index, dtype=np.int64)
    if SUBMITTED in valid.columns:
        times = valid[SUBMITTED]
    else:  # rows that did not come through validate (e.g. read back from responses.csv)
        times = parse_times(valid["submitted_at"], survey.tz)
    stamps = pd.to_datetime(times, utc=True).to_numpy(dtype="datetime64[us]").astype(np.int64)
    if len(rows) < 2 or (np.diff(rows) > 0).all():
        # rows in file order (as score gathers them): a stable sort by time is the same order,
        # and a file appended as answers came is nearly sorted already, which timsort likes
        return np.argsort(stamps, kind="stable")
    return np.lexsort((rows, stamps))


def _group_rule(codes: np.ndarray, keep: str) -> np.ndarray:
    """Within rows already in time order, each row's group as an int code (-1: takes no
    part): the position of the row kept in each row's place (itself when kept; -1 for rows
    that take no part)."""
    chosen_all = np.full(len(codes), -1, dtype=np.int64)
    pos = np.flatnonzero(codes >= 0)
    if not len(pos):
        return chosen_all
    grp = codes[pos]
    if int(grp.max()) >= 4 * len(grp) + 1024:  # sparse (unit, key) pairs: number them densely
        grp = pd.factorize(grp)[0]
    # the first (or last) of each group in time order: its smallest (or largest) position
    best = np.full(int(grp.max()) + 1, -1 if keep == "last" else len(codes), dtype=np.int64)
    (np.maximum if keep == "last" else np.minimum).at(best, grp, pos)
    chosen_all[pos] = best[grp]
    return chosen_all


def _codes(column: pd.Series, read=None) -> np.ndarray:
    """Each row's text (stripped as pandas strips a str column; `read` applied to each
    distinct text) as a dense int code, -1 where it is empty: the rules compare codes, so 10
    million keys cost 8 bytes each, and only the distinct texts are stripped or read.
    pyarrow's dictionary encoding, not pd.factorize: that takes a Python object per row. The
    column stays in the chunks score gathered it in (one dictionary serves them all), and is
    trimmed only when some cell may need it: no copy of ten million keys."""
    arr = text_chunks(column)
    if needs_trim(arr):
        arr = pc.utf8_trim_whitespace(arr)
    encoded = pc.dictionary_encode(arr)
    del arr
    if not encoded.num_chunks:
        return np.zeros(0, dtype=np.int64)
    texts = encoded.chunk(0).dictionary
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False).astype(np.int64)
                            for c in encoded.chunks])
    del encoded
    if read is not None:  # few distinct texts (units, tickets): read each once
        again = pc.dictionary_encode(pa.array([read(t) for t in texts.to_pylist()],
                                              type=pa.large_string()))
        texts = again.dictionary
        codes = again.indices.to_numpy(zero_copy_only=False).astype(np.int64)[codes]
    empty = np.flatnonzero(pc.equal(texts, "").to_numpy(zero_copy_only=False))
    if len(empty):
        codes[codes == empty[0]] = -1
    return codes


def _distinct_codes(column: pd.Series) -> np.ndarray:
    """Codes as _codes gives them (equal texts, equal codes; -1 where empty) for a column of
    mostly distinct texts (response ids), without a dictionary of ten million texts: a row
    whose 64-bit hash no other row shares holds a text no other row holds, and gets a code of
    its own; only rows whose hash repeats (replays, or a collision) are dictionary-encoded,
    so equal codes still mean equal texts, exactly."""
    arr = text_chunks(column)
    if needs_trim(arr):
        arr = pc.utf8_trim_whitespace(arr)
    hashes = (np.concatenate([text_hash(Cells(c)) for c in arr.chunks]) if arr.num_chunks
              else np.zeros(0, dtype=np.uint64))
    repeated = np.flatnonzero(pd.Series(hashes).duplicated(keep=False).to_numpy() & (hashes != 0))
    shared = pc.dictionary_encode(arr.take(pa.array(repeated))).combine_chunks() if len(repeated) \
        else None
    del arr
    size = len(shared.dictionary) if shared is not None else 0
    codes = np.arange(size, size + len(hashes), dtype=np.int64)  # each row a code of its own
    if shared is not None:
        codes[repeated] = shared.indices.to_numpy(zero_copy_only=False)
    codes[hashes == 0] = -1  # the hash of an empty text, and only of one
    return codes


def _pairs(unit: np.ndarray, key: np.ndarray) -> np.ndarray:
    """(unit, key) as one int code per row, -1 where the key is empty."""
    width = int(key.max()) + 1 if len(key) else 1
    return np.where(key >= 0, unit * width + key, -1)


CONTESTED = "contested_ticket"  # not a duplicate rule: the reason code of the quarantined rows
RULES = ("replay", CONTESTED, "respondent", "device")


def _key_codes(valid: pd.DataFrame, survey: Survey) -> dict[str, np.ndarray]:
    """The int codes of every key column the rules compare, found two columns at a time: the
    Arrow kernels let go of the GIL, and at ten million rows each column takes seconds."""
    wanted = {"response_id": partial(_distinct_codes, valid["response_id"]),
              "unit_code": partial(_codes, valid["unit_code"]),
              "respondent_key": partial(_codes, valid["respondent_key"])}
    if "ticket" in valid.columns:
        # tickets are compared as typed tickets are read: each distinct one read once
        wanted["ticket_unit"] = partial(_codes, valid["unit_code"], str.upper)
        wanted["ticket"] = partial(_codes, valid["ticket"], lambda t: normalise(t) or t.upper())
    if survey.dedupe.by_device:
        wanted["device_id"] = partial(_codes, valid["device_id"])
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="dedupe") as pool:
        found = {name: pool.submit(work) for name, work in wanted.items()}
        return {name: future.result() for name, future in found.items()}


STAFFED = ("paper", "assisted")  # a clerk's computer, a helper's phone: many answers, one device


def _off_device(valid: pd.DataFrame, device: np.ndarray) -> np.ndarray:
    """Device codes with paper and assisted rows taking no part (contract v3, dedupe rule 4):
    they are never device duplicates; the `helper` signal watches assisted rows instead."""
    if "channel" not in valid.columns:
        return device
    # validate wrote the channel trimmed and in lower case
    staffed = pc.is_in(text_chunks(valid["channel"]), pa.array(STAFFED, pa.large_string()))
    staffed = staffed.to_numpy(zero_copy_only=False)
    return np.where(staffed, -1, device) if staffed.any() else device


def duplicate_rows(valid: pd.DataFrame, survey: Survey
                   ) -> tuple[np.ndarray, pd.Series, pd.Series]:
    """(positions of the dropped rows in `valid`, ascending; their rule; the response_id kept
    in their place, empty for CONTESTED rows, which go to quarantine, not to duplicates).
    Reads only the key columns (response_id, unit_code, ticket, respondent_key, device_id,
    and SUBMITTED or submitted_at): `score` calls it on those alone,
    gathered from every chunk; keys are compared as int codes of their texts, so no per-row
    Python object or string copy is made."""
    order = _order(valid, survey)
    n = len(valid)
    alive = np.ones(n, dtype=bool)
    rule = np.full(n, -1, dtype=np.int8)
    kept_at = np.full(n, -1, dtype=np.int64)  # sorted position of the row kept instead

    def apply(name: str, codes: np.ndarray, keep: str) -> None:
        codes = codes[order]  # time order
        codes[~alive] = -1
        chosen = _group_rule(codes, keep)
        dropped = (chosen >= 0) & (chosen != np.arange(n))
        rule[dropped] = RULES.index(name)
        kept_at[dropped] = chosen[dropped]
        alive[dropped] = False

    def contest(codes: np.ndarray) -> None:
        codes = codes[order]
        codes[~alive] = -1
        shared = _shared(codes)
        rule[shared] = RULES.index(CONTESTED)
        kept_at[shared] = np.flatnonzero(shared)  # no row is kept in their place
        alive[shared] = False

    codes = _key_codes(valid, survey)
    apply("replay", codes["response_id"], "first")
    if "ticket" in codes:
        contest(_pairs(codes["ticket_unit"], codes["ticket"]))
    keep = survey.dedupe.keep
    apply("respondent", _pairs(codes["unit_code"], codes["respondent_key"]), keep)
    if "device_id" in codes:
        apply("device", _pairs(codes["unit_code"], _off_device(valid, codes["device_id"])), keep)

    gone = np.flatnonzero(~alive)
    gone = gone[np.argsort(order[gone])]
    rules = pd.Series(np.asarray(RULES, dtype=object)[rule[gone]], dtype="str")
    kept_ids = valid["response_id"].astype("str").iloc[order[kept_at[gone]]].str.strip()
    kept_ids = kept_ids.reset_index(drop=True).where(rules.to_numpy() != CONTESTED, "")
    return order[gone], rules, kept_ids


def _shared(codes: np.ndarray) -> np.ndarray:
    """Rows whose code (>= 0) at least one other row carries."""
    shared = np.zeros(len(codes), dtype=bool)
    pos = np.flatnonzero(codes >= 0)
    if len(pos):
        dense = pd.factorize(codes[pos])[0]
        shared[pos] = np.bincount(dense)[dense] >= 2
    return shared


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
