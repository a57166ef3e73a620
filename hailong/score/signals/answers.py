"""The answers of each row, reduced to what the signals compare: how many questions it
answered, how many scale answers it gave if they are all one level, and a key of the whole
answer set (equal keys iff equal stripped answers).

Each question's answers are coded by the survey's own list of possible answers ("" , "0", the
scale levels; "" and the options of a choice), never by the order they happen to appear in, so
rows coded in separate chunks keep their codes. A text outside that list (validate lets none
through; a direct caller may) is told apart by its hash. The answer set packs into one
integer while the survey's questions fit in 63 bits; past that, or with such a text, the key
is a 64-bit hash of the codes (odds of two different sets sharing one: about 2**-64).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hailong.score.signals.cells import U64, Cells, arrow_text, mix
from hailong.survey.load import Survey

OTHER = -1  # the code of a text outside the question's list


@dataclass
class Answers:
    answered: np.ndarray  # questions answered per row (scale: not empty and not 0; choice: not empty)
    lined: np.ndarray  # scale answers given (> 0) when all are one level, else 0
    vector: np.ndarray  # uint64 key of the answer set


def domain(question, survey: Survey) -> list[str]:
    """The texts a question's stripped answers can have, in a fixed order (their codes)."""
    if question.type == "scale":
        levels = [str(v) for v in range(survey.scale.min, survey.scale.max + 1) if v != 0]
        return ["", "0", *levels]
    return list(dict.fromkeys(["", *question.options]))


def encode(frame: pd.DataFrame, survey: Survey) -> Answers:
    counted = [q for q in survey.questions if q.type in ("scale", "choice")]
    rows = len(frame)
    small = np.int8 if len(counted) < 128 else np.int16
    answered = np.zeros(rows, dtype=small)
    given = np.zeros(rows, dtype=small)
    high = np.full(rows, np.iinfo(np.int64).min, dtype=np.int64)
    low = np.full(rows, np.iinfo(np.int64).max, dtype=np.int64)
    radix = [len(domain(q, survey)) for q in counted]
    packs = float(np.prod(np.array(radix, dtype=float))) < 2.0**63
    codes, others = [], []
    for q in counted:
        code, other, number = _column(frame[q.id] if q.id in frame.columns else None, q, survey,
                                      rows)
        answered += (code > (1 if q.type == "scale" else 0)) | (code == OTHER)
        if q.type == "scale":
            hit = number > 0
            given += hit
            np.maximum(high, number, out=high, where=hit)
            np.minimum(low, number, out=low, where=hit)
        codes.append(code)
        others.append(other)  # (positions, hashes) of the texts outside the list
    odd = np.zeros(rows, dtype=bool)
    for at, _hash in others:
        odd[at] = True
    top = U64(1) << U64(63)
    vector = np.zeros(rows, dtype=U64)
    if packs:
        for code, size in zip(codes, radix, strict=True):
            vector = vector * U64(size) + code.astype(U64)
        vector += U64(1)
    # hashed keys, top bit set so they never equal a packed one
    at = np.arange(rows) if not packs else np.flatnonzero(odd)
    if len(at):
        hashed = mix(np.full(len(at), len(counted), dtype=U64))
        for code, (where, hashes) in zip(codes, others, strict=True):
            value = code[at].astype(U64)
            if len(where):
                value[np.searchsorted(at, where)] = hashes | top
            hashed = mix(hashed ^ value)
        vector[at] = (hashed >> U64(1)) | top
    lined = np.where((given > 0) & (high == low), given, 0).astype(small)
    return Answers(answered=answered, lined=lined, vector=vector)


def _column(values: pd.Series | None, q, survey: Survey, rows: int):
    """One question's code per row, (positions, hashes) of its texts outside the list, and
    its scale number per row (what pd.to_numeric reads, 0 where nothing)."""
    texts = domain(q, survey)
    code = np.zeros(rows, dtype=np.int16)
    number = np.zeros(rows, dtype=np.int64)
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=U64))
    if values is None:
        return code, none, number
    arr = arrow_text(values)
    rest = np.arange(rows)
    if q.type == "scale":
        rest = _digits(Cells(arr), texts, code, number)
        arr = arr.take(pa.array(rest)) if len(rest) < rows else arr
    if not len(rest):
        return code, none, number
    # the few distinct texts left, each judged once (as the columns were factorized before)
    enc = pc.dictionary_encode(arr)
    which = enc.indices.to_numpy(zero_copy_only=False)
    seen = pd.Series(enc.dictionary.to_pylist(), dtype="str").str.strip()
    index = {t: i for i, t in enumerate(texts)}
    ucode = np.array([index.get(t, OTHER) for t in seen], dtype=np.int16)
    uhash = np.array([_stable(t) if c == OTHER else 0 for t, c in zip(seen, ucode, strict=True)],
                     dtype=U64)
    code[rest] = ucode[which]
    if q.type == "scale":
        numbers = pd.to_numeric(seen, errors="coerce").fillna(0).to_numpy()
        with np.errstate(invalid="ignore"):
            number[rest] = numbers.astype(np.int64)[which]
    outside = ucode[which] == OTHER
    return code, (rest[outside], uhash[which][outside]), number


def _digits(cells: Cells, texts: list[str], code: np.ndarray, number: np.ndarray) -> np.ndarray:
    """Cells of up to two bytes that are one of `texts` ("", "0", "4", "10": what validate
    writes) coded by a table of their bytes; gives the positions of the other cells."""
    length = cells.length
    lut_code, lut_number = _tables(texts)
    if len(length) and length.max() <= 1:
        # one byte or none a cell (a scale of 1..9): the data bytes are the non-empty cells
        full = np.flatnonzero(length == 1) if length.min() == 0 else slice(None)
        key = cells.data[:cells.data.size - 8].astype(np.int32) | (1 << 16)
        code[full] = lut_code[key]
        number[full] = lut_number[key]
        return np.flatnonzero(code == OTHER)
    short = length <= 2
    pair = cells.data[np.minimum(cells.start, len(cells.data) - 2)].astype(np.int32)
    pair |= cells.data[np.minimum(cells.start + 1, len(cells.data) - 1)].astype(np.int32) << 8
    key = np.where(short, (pair & np.where(length == 2, 0xFFFF, np.where(length == 1, 0xFF, 0)))
                   | (np.minimum(length, 2).astype(np.int32) << 16), 0)
    found = lut_code[key]
    known = short & (found != OTHER)
    code[known] = found[known]
    number[known] = lut_number[key[known]]
    return np.flatnonzero(~known)


def _tables(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code and scale number of each text of up to two bytes, by (its bytes | length << 16)."""
    lut_code = np.full(3 << 16, OTHER, dtype=np.int16)
    lut_number = np.zeros(3 << 16, dtype=np.int16)
    for i, t in enumerate(texts):
        raw = t.encode()
        if len(raw) <= 2:
            k = int.from_bytes(raw, "little") | (len(raw) << 16)
            lut_code[k] = i
            lut_number[k] = int(t) if t else 0
    return lut_code, lut_number


def _stable(text: str) -> int:
    """A hash of a text that is the same in every process (Python's hash() is not)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
