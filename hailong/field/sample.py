"""Sample drawing from transactions.csv (the people and organisations who had a procedure done).

Eligibility, as the 2020 district plan states it (contract, section 1): date inside
[sampling] start..end; result received; handled directly (not online, not by post); resident in
[sampling] province when set; field in [sampling] fields when set. Before those, a row needs an
id that no other row claims with different data, a unit of units.csv and a respondent type of
the survey. Every row that fails goes to excluded.csv with the first rule it fails.

Draw: per unit and respondent type, the eligible ids are put in the order of their draw key,
HMAC-SHA256 under the seed (as decimal text) of (survey id, unit code, type, id); the first `k`
are the sample, the next ones the reserve, in that order of use. The key depends only on the
seed and the row itself, so the file's row order, other rows, and the numpy or Python version do
not change the draw: anyone can recompute it with a few lines in any language (sort ids by
HMAC-SHA256(key = seed, message = survey id, unit, type and id joined by NUL bytes), ascending,
bytes compared as unsigned). `k` is the type's quota, plus the
other type's shortfall when this type has people to spare. The reserve holds
ceil(reserve_ratio × k) people, or all that remain.

sample.csv, reserve.csv and excluded.csv hold ids, units, types and order only; the list the
interviewers carry (sample.xlsx, sample.pdf: names, addresses, empty outcome columns) is made
from them by `hailong.field.fieldlist`, beside them under data/, and is never published.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from fractions import Fraction

import pandas as pd

from hailong.errors import HailongError
from hailong.field.fieldlist import write_field_list
from hailong.fsutil import atomic_write_csv, atomic_write_text
from hailong.i18n import _
from hailong.layout import Layout
from hailong.survey import sampled
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.survey.keycheck import KEY_CHECK, key_check, require_same_key
from hailong.survey.tables import nfc, parse_bool, parse_date, read_table
from hailong.survey.tokens import KEY_ENV, sign, signing_key

TRANSACTIONS_FILE = "transactions.csv"
COLUMNS = ["id", "unit_code", "respondent_type", "name", "address", "field", "received_result",
           "channel", "province", "date"]
LIST_COLUMNS = ["id", "unit_code", "respondent_type", "order"]
CHANNELS = {
    "direct": "direct", "trực tiếp": "direct", "truc tiep": "direct",
    "online": "online", "trực tuyến": "online", "truc tuyen": "online",
    "postal": "postal", "bưu chính": "postal", "buu chinh": "postal",
    "bưu chính công ích": "postal",
}
TYPE_NAMES = {label.lower(): key for key, label in RESPONDENT_TYPE_LABELS.items()}


def _norm(text: str) -> str:
    """Trimmed, NFC, case-folded, inner spaces collapsed: how two spellings are compared."""
    return " ".join(nfc(str(text)).split()).casefold()


@dataclass(frozen=True)
class Eligible:
    id: str
    unit_code: str
    respondent_type: str


def check_rows(survey, rows: list[dict[str, str]]) -> tuple[list[Eligible], list[tuple[str, str]]]:
    """Split transaction rows (dicts of the file's cells) into eligible ones and (id, reason).

    Pure: the same rows in any order give the same eligible set and the same reasons.
    """
    s = survey.sampling
    province = _norm(s.province) if s.province else None
    fields = {_norm(f) for f in s.fields}
    by_id: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_id.setdefault(row.get("id", "").strip(), []).append(row)

    eligible: list[Eligible] = []
    excluded: list[tuple[str, str]] = []
    for rid in sorted(by_id):
        group = by_id[rid]
        if rid == "":
            excluded.extend(("", _("missing id")) for _row in group)
            continue
        if len(group) > 1:
            same = all(_same(group[0], other) for other in group[1:])
            if not same:
                excluded.extend((rid, _("duplicate id with different data")) for _row in group)
                continue
            excluded.extend((rid, _("duplicate id")) for _row in group[1:])
        row = group[0]
        reason, unit_code, rtype = _first_failure(survey, row, province, fields)
        if reason:
            excluded.append((rid, reason))
        else:
            eligible.append(Eligible(rid, unit_code, rtype))
    return eligible, excluded


def _same(a: dict[str, str], b: dict[str, str]) -> bool:
    return all(_norm(a.get(c, "")) == _norm(b.get(c, "")) for c in COLUMNS)


def _first_failure(survey, row, province, fields) -> tuple[str | None, str, str]:
    s = survey.sampling
    unit = survey.find_unit(row.get("unit_code", ""))
    if unit is None:
        return _("unknown unit"), "", ""
    raw_type = _norm(row.get("respondent_type", ""))
    rtype = TYPE_NAMES.get(raw_type, raw_type) or survey.respondent_types[0]
    if rtype not in survey.respondent_types:
        return _("respondent type not in survey"), "", ""
    day = parse_date(row.get("date", ""))
    if day is None:
        return _("date not YYYY-MM-DD or DD/MM/YYYY"), "", ""
    if not s.start <= day <= s.end:
        return _("date outside sampling period"), "", ""
    received = parse_bool(row.get("received_result", ""))
    if received is None:
        return _("received_result unreadable"), "", ""
    if not received:
        return _("result not received"), "", ""
    channel = CHANNELS.get(_norm(row.get("channel", "")))
    if channel is None:
        return _("channel unknown"), "", ""
    if channel == "online":
        return _("handled online"), "", ""
    if channel == "postal":
        return _("handled by postal service"), "", ""
    if province is not None and _norm(row.get("province", "")) != province:
        return _("province outside sampling area"), "", ""
    if fields and _norm(row.get("field", "")) not in fields:
        return _("field not sampled"), "", ""
    return None, unit.code, rtype


def allocate(quotas: dict[str, int], available: dict[str, int]) -> dict[str, int]:
    """How many to draw per type: each type's quota, a shortfall moved to the other type.

    Never more than available per type, never more than the total quota.
    """
    base = {t: min(q, available.get(t, 0)) for t, q in quotas.items()}
    out = dict(base)
    types = list(quotas)
    for t in types:
        for other in types:
            if other == t:
                continue
            shortfall = quotas[other] - base[other]
            spare = available.get(t, 0) - out[t]
            out[t] += max(0, min(shortfall, spare))
    return out


def reserve_size(sampled: int, remaining: int, ratio: float) -> int:
    return min(remaining, math.ceil(sampled * Fraction(str(ratio))))


def draw_key(seed: int, survey_id: str, unit_code: str, rtype: str, rid: str) -> bytes:
    """The position of one person in the draw: lower keys are drawn first."""
    message = "\x00".join((survey_id, unit_code, rtype, rid)).encode("utf-8")
    return hmac.new(str(seed).encode("ascii"), message, hashlib.sha256).digest()


def draw_order(seed: int, survey_id: str, unit_code: str, rtype: str, ids) -> list[str]:
    """`ids` in the order of the draw (ties, impossible in practice, broken by id)."""
    return sorted(ids, key=lambda rid: (draw_key(seed, survey_id, unit_code, rtype, rid), rid))


def draw(survey, eligible: list[Eligible], seed: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(sample, reserve, notes) from eligible rows; pure and reproducible from the seed."""
    if seed < 0:
        raise HailongError(_("--seed {seed}: use a whole number 0 or above", seed=seed))
    ratio = survey.sampling.reserve_ratio
    pools: dict[tuple[str, str], list[str]] = {}
    for e in eligible:
        pools.setdefault((e.unit_code, e.respondent_type), []).append(e.id)
    sample_rows, reserve_rows, notes = [], [], []
    for unit in survey.units:
        if unit.quota is None:
            notes.append(_("{code}: no quota in units.csv, nothing drawn", code=unit.code))
            continue
        quotas = {"individual": unit.quota_individual or 0,
                  "organization": unit.quota_organization or 0}
        quotas = {t: q for t, q in quotas.items() if t in survey.respondent_types or q}
        available = {t: len(pools.get((unit.code, t), [])) for t in quotas}
        counts = allocate(quotas, available)
        for rtype in quotas:
            shuffled = draw_order(seed, survey.id, unit.code, rtype,
                                  pools.get((unit.code, rtype), []))
            k = counts[rtype]
            r = reserve_size(k, len(shuffled) - k, ratio)
            sample_rows += [(i, unit.code, rtype, n) for n, i in enumerate(shuffled[:k], 1)]
            reserve_rows += [(i, unit.code, rtype, n) for n, i in enumerate(shuffled[k:k + r], 1)]
        got, want = sum(counts.values()), sum(quotas.values())
        if got < want:
            notes.append(_("{code}: only {got} eligible of a quota of {want}",
                           code=unit.code, got=got, want=want))
    return (pd.DataFrame(sample_rows, columns=LIST_COLUMNS),
            pd.DataFrame(reserve_rows, columns=LIST_COLUMNS), notes)


def read_transactions(survey) -> list[dict[str, str]]:
    path = survey.optional_file(TRANSACTIONS_FILE)
    if path is None:
        raise HailongError(
            _("{path}: transactions.csv is missing; it lists who had a procedure done as "
              "{columns}", path=survey.path, columns=",".join(COLUMNS))
        )
    table = read_table(path, COLUMNS)
    return [row.values for row in table]


def draw_sample(survey, out, seed: int) -> str:
    """Draw the sample and reserve; write sample.csv, reserve.csv and excluded.csv; for access
    = "sample", also the signed code of every member of the official list."""
    layout = Layout(out, survey.id)
    key = None
    if survey.access == "sample":
        key = signing_key()  # first: refuse before anything is written
        require_same_key(layout.links, key_check(key), _(
            "the codes already handed out were signed with another {KEY_ENV}; set it back",
            KEY_ENV=KEY_ENV))
        log = layout.data_file(sampled.LOG_FILE)
        if log.exists():
            raise HailongError(_("{path}: members were already replaced in this sample; drawing "
                                 "it again would lose who was replaced. Move the file away "
                                 "first to start a new sample", path=log))
    rows = read_transactions(survey)
    eligible, excluded = check_rows(survey, rows)
    sample, reserve, notes = draw(survey, eligible, seed)
    atomic_write_csv(layout.data_file("sample.csv"), sample)
    atomic_write_csv(layout.data_file("reserve.csv"), reserve)
    atomic_write_csv(layout.data_file("excluded.csv"), pd.DataFrame(excluded, columns=["id", "reason"]))
    xlsx, pdf = write_field_list(survey, layout.data, sample, reserve, rows, seed)
    lines = [
        _("seed {seed}: {rows} transactions, {eligible} eligible, {excluded} excluded; {sample} "
          "sampled, {reserve} in reserve -> {data}",
          seed=seed, rows=len(rows), eligible=len(eligible), excluded=len(excluded),
          sample=len(sample), reserve=len(reserve), data=layout.data),
        _("interviewers' list (personal data, never published): {xlsx}, {pdf}",
          xlsx=xlsx.name, pdf=pdf.name),
        *notes,
    ]
    if key is not None:
        lines.append(_("{count} codes signed for the official list -> {path}",
                       count=write_codes(survey, layout, key),
                       path=layout.data_file(sampled.CODES_FILE)))
    return "\n".join(lines)


def write_codes(survey, layout: Layout, key: bytes) -> int:
    """data/sample-codes.csv: the signed code (respondent_key) of every active member, and the
    key's fingerprint beside the letters, so that later runs under another key are refused."""
    active = sampled.load_state(layout).active()
    frame = pd.DataFrame([(m.id, m.unit_code, m.respondent_type, sign(survey.id, m.id, key))
                          for m in active],
                         columns=["id", "unit_code", "respondent_type", "code"])
    atomic_write_csv(layout.data_file(sampled.CODES_FILE), frame)
    atomic_write_text(layout.links / KEY_CHECK, key_check(key) + "\n")
    return len(frame)


def replace_member(survey, out, member_id: str, reason: str) -> str:
    """`hailong sample --replace ID --reason R`: the next reserve of the member's unit and type
    takes their place (logged in data/sample-log.csv); its code is signed."""
    if survey.access != "sample":
        raise HailongError(_('--replace: survey \'{id}\' has access = "{access}"; replacements '
                             'are for access = "sample"', id=survey.id, access=survey.access))
    key = signing_key()
    layout = Layout(out, survey.id)
    require_same_key(layout.links, key_check(key), _(
        "the codes already handed out were signed with another {KEY_ENV}; set it back",
        KEY_ENV=KEY_ENV))
    gone, came = sampled.replace(layout, member_id.strip(), reason)
    write_codes(survey, layout, key)
    if came is None:
        return _("{id} replaced ({reason}); no reserve left for {unit}, {type}: the unit "
                 "will have one answer fewer (logged in {path})", id=gone.id, reason=reason,
                 unit=gone.unit_code, type=gone.respondent_type,
                 path=layout.data_file(sampled.LOG_FILE))
    return _("{id} replaced ({reason}) by reserve {new} (order {order}) of {unit}, {type}; "
             "logged in {path}", id=gone.id, reason=reason, new=came.id, order=came.order,
             unit=gone.unit_code, type=gone.respondent_type,
             path=layout.data_file(sampled.LOG_FILE))
