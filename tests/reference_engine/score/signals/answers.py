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

from hailong.survey.load import Survey
from reference_engine.ingest.responses import arrow_cells
from reference_engine.score.codes import U64, Cells, mix

OTHER = 255  # the code of a text outside the question's list (the top of its uint8)


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
    # codes past OTHER (a list of 255 options or more) are told apart by their hash
    radix = [min(len(domain(q, survey)), OTHER) for q in counted]
    # a question a row of uint8 codes (and int8 scale numbers): sums over questions are then
    # a few adds of contiguous bytes
    codes = np.zeros((len(counted), rows), dtype=np.uint8)
    scale = [i for i, q in enumerate(counted) if q.type == "scale"]
    numbers = np.zeros((len(scale), rows), dtype=np.int8)
    others = []
    for i, q in enumerate(counted):
        code, other, number = _column(frame[q.id] if q.id in frame.columns else None, q, survey,
                                      rows)
        codes[i] = code
        others.append(other)  # (positions, hashes) of the texts outside the list
        if q.type == "scale":
            if np.result_type(number, numbers) != numbers.dtype:
                numbers = numbers.astype(np.int64)
            numbers[scale.index(i)] = number
    answered = np.zeros(rows, dtype=small)
    for i, q in enumerate(counted):
        # scale code 0 is "", 1 is "0"; choice code 0 is ""; OTHER (the top) is an answer
        answered += codes[i] >= (2 if q.type == "scale" else 1)
    given = np.zeros(rows, dtype=small)
    bounds = np.iinfo(numbers.dtype)
    # given answers are > 0 and the rest <= 0: the highest of all is the highest given
    high = np.zeros(rows, dtype=numbers.dtype)
    low = np.full(rows, bounds.max, dtype=numbers.dtype)
    for number in numbers:
        hit = number > 0
        given += hit
        np.maximum(high, number, out=high)
        np.minimum(low, np.where(hit, number, bounds.max), out=low)
    lined = np.where((given > 0) & (high == low), given, 0).astype(small)
    return Answers(answered=answered, lined=lined, vector=_keys(codes, others, radix))


def _keys(codes: np.ndarray, others: list, radix: list[int]) -> np.ndarray:
    """The answer-set key of each row: the codes packed (plus one) where they fit in 63 bits
    and the row has no outside text, else a hash with the top bit set (never a packed key)."""
    count, rows = codes.shape
    packs = float(np.prod(np.array(radix, dtype=float))) < 2.0**63
    top = U64(1) << U64(63)
    if packs and count <= 15 and max(radix, default=0) <= 16:
        # four bits a question, two a byte; a row's eight bytes read as one number
        grid = np.zeros((rows, 8), dtype=np.uint8)
        for i in range(0, count, 2):
            pair = codes[i] & np.uint8(15)
            if i + 1 < count:
                pair |= (codes[i + 1] & np.uint8(15)) << np.uint8(4)
            grid[:, i // 2] = pair
        vector = grid.view("<u8")[:, 0] + U64(1)
    else:
        vector = np.zeros(rows, dtype=U64)
        if packs:
            for i, size in enumerate(radix):
                vector = vector * U64(size) + codes[i].astype(U64)
            vector += U64(1)
    odd = np.zeros(rows, dtype=bool)
    for where, _hashes in others:
        odd[where] = True
    at = np.arange(rows) if not packs else np.flatnonzero(odd)
    if len(at):
        hashed = mix(np.full(len(at), count, dtype=U64))
        for i, (where, hashes) in enumerate(others):
            value = codes[i, at].astype(U64)
            if len(where):
                value[np.searchsorted(at, where)] = hashes | top
            hashed = mix(hashed ^ value)
        vector[at] = (hashed >> U64(1)) | top
    return vector


def _column(values: pd.Series | None, q, survey: Survey, rows: int):
    """One question's code per row (uint8), (positions, hashes) of its texts outside the list,
    and its scale number per row (what pd.to_numeric reads, 0 where nothing; int8 unless
    an outside text reads as a larger number)."""
    texts = domain(q, survey)
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=U64))
    if values is None:
        return np.zeros(rows, dtype=np.uint8), none, np.zeros(rows, dtype=np.int8)
    arr = arrow_cells(values)
    if q.type == "scale":
        code, number = _short(Cells(arr), texts)
        rest = np.flatnonzero(code == OTHER)
        arr = arr.take(pa.array(rest)) if len(rest) < rows else arr
    else:
        code, number = np.zeros(rows, dtype=np.uint8), np.zeros(rows, dtype=np.int8)
        rest = np.arange(rows)
    if not len(rest):
        return code, none, number
    # the few distinct texts left, each judged once (as the columns were factorized before)
    enc = pc.dictionary_encode(arr)
    which = enc.indices.to_numpy(zero_copy_only=False)
    seen = pd.Series(enc.dictionary.to_pylist(), dtype="str").str.strip()
    index = {t: i for i, t in enumerate(texts) if i < OTHER}
    ucode = np.array([index.get(t, OTHER) for t in seen], dtype=np.uint8)
    uhash = np.array([_stable(t) if c == OTHER else 0 for t, c in zip(seen, ucode, strict=True)],
                     dtype=U64)
    code[rest] = ucode[which]
    if q.type == "scale":
        numbers = pd.to_numeric(seen, errors="coerce").fillna(0).to_numpy()
        with np.errstate(invalid="ignore"):
            numbers = numbers.astype(np.int64)
        if len(numbers) and (numbers.min() < -128 or numbers.max() > 127):
            number = number.astype(np.int64)
        number[rest] = numbers[which]
    outside = ucode[which] == OTHER
    return code, (rest[outside], uhash[which][outside]), number


def _short(cells: Cells, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code and number of cells of up to two bytes that are one of `texts` ("", "0", "4",
    "10": what validate writes), by a table of their bytes; OTHER for every other cell."""
    length = cells.length
    first = cells.data[cells.start]
    levels = [int(t) for t in texts[2:]]
    if (len(length) and length.max() <= 1 and texts[:2] == ["", "0"] and levels
            and levels == list(range(levels[0], levels[0] + len(levels)))
            and 1 <= levels[0] and levels[-1] <= 9):
        # one digit or none a cell (a scale of 1..5): codes by arithmetic on the bytes
        # bools as 0/1 bytes: uint8 arithmetic is several times faster than np.where here
        one = (length == 1).view(np.uint8)
        digit = first - np.uint8(48)  # any other byte wraps above 9
        level = ((digit >= levels[0]) & (digit <= levels[-1])).view(np.uint8)
        code = level * (digit + np.uint8(2) - np.uint8(levels[0])) + (np.uint8(1) - level) * np.uint8(OTHER)
        code -= (digit == 0).view(np.uint8) * np.uint8(OTHER - 1)  # "0" (no opinion) is code 1
        code *= one  # "" is code 0
        return code, (digit * (level & one)).view(np.int8)
    lut_code, lut_number = _tables(texts)
    second = cells.data[cells.start + 1]
    key = (np.minimum(length, 3).astype(np.int32) << 16) | (second.astype(np.int32) << 8) | first
    short = length <= 2
    key = np.where(short, key & np.where(length == 2, 0x3FFFF, np.where(length == 1, 0x300FF, 0x30000)), 0)
    flat_code, flat_number = lut_code.reshape(-1), lut_number.reshape(-1)
    code = np.where(short, flat_code[key], OTHER).astype(np.uint8)
    return code, np.where(short, flat_number[key], 0).astype(np.int8)


def _tables(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code and scale number of each text of up to two bytes, by [length][its bytes]."""
    lut_code = np.full((3, 1 << 16), OTHER, dtype=np.uint8)
    lut_number = np.zeros((3, 1 << 16), dtype=np.int8)
    for i, t in enumerate(texts[:OTHER]):
        raw = t.encode()
        if len(raw) <= 2 and (not t or -128 <= int(t) <= 127):
            lut_code[len(raw), int.from_bytes(raw, "little")] = i
            lut_number[len(raw), int.from_bytes(raw, "little")] = int(t) if t else 0
    return lut_code, lut_number


def _stable(text: str) -> int:
    """A hash of a text that is the same in every process (Python's hash() is not)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
