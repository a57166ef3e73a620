"""Releases that cannot be subtracted (contract v3, section 8): a unit's figures move in steps.

Two weekly releases of one unit, subtracted, give the figures of the answers that came in
between: one new answer, and that respondent's answers are public. So a unit's answer-derived
figures (index, interval, blocks, questions with their answer counts, respondent-type counts,
and so its band and rank) stay exactly as last published until the answers behind them differ
by at least `min_cell` from those behind the published figures; the current number of
responses is shown apart (`responses` in ranking.json, a note on the unit's page).

The measure of change is |n_now − n_basis|, n_basis the responses the published figures stand
on. Publish reads no responses (import-linter, house rule), and a fresh runner has only the
public release, so the true count of answers added plus removed is not known here; the
difference of the counts is a lower bound of it, so holding while it is below min_cell never
lets figures move on fewer than min_cell answers (a swap of answers keeps figures held).

The basis is the last published ranking.json: the live one when deploying (a fresh machine
has no other), else the local site's, read before it is replaced. Each of its units carries
every earlier figure set it published (`earlier`), so the basis is the unit's whole chain of
releases: the step rule compares n_now with the n of each, and a unit whose figures move is
checked by withhold.plan together with all of them (withhold.last_of), so the question cells
of no two releases can be subtracted either. A unit the check could only blank keeps its
last figures (its answer counts alone, after removals, could pin a cell).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hailong.publish import history, release, results
from hailong.publish.results import UnitResult
from hailong.publish.withhold import Last, last_of
from hailong.survey.load import Survey

Cells = dict[tuple[str, str], tuple[float | None, int]]


def moves(n_now: int, n_basis: int | None, min_cell: int, earlier: tuple[int, ...] = ()) -> bool:
    """The step rule: figures resting on n_basis responses may be replaced by those of n_now
    only when the two differ by at least min_cell (no published figures: always), and so do
    n_now and the n of every earlier figure set of the unit (`earlier`): after removals a
    unit can come back near an earlier count, and the figures of that release and these,
    subtracted, would be a cell of a few answers."""
    return n_basis is None or all(abs(n_now - n) >= min_cell for n in (n_basis, *earlier))


def earlier_counts(entry: dict) -> tuple[int, ...]:
    """The n of every earlier figure set a unit of ranking.json carries (`earlier`)."""
    sets = entry.get("earlier") if isinstance(entry.get("earlier"), list) else []
    return tuple(e["n"] for e in sets if isinstance(e, dict) and isinstance(e.get("n"), int)
                 and not isinstance(e.get("n"), bool))


def last_release(survey: Survey, out: Path, live: release.Live | None) -> dict | None:
    """The last published ranking.json of the survey: on the target `live` was read from,
    else on the local site. None when there is none, or when it was published for other
    questions or blocks (figures of another questionnaire cannot be kept)."""
    doc = live.ranking if live is not None else release.local_live(out, survey).ranking
    if not isinstance(doc, dict) or not isinstance(doc.get("units"), list):
        return None
    about = doc.get("survey") if isinstance(doc.get("survey"), dict) else {}
    blocks = [b.get("id") for b in about.get("blocks") or [] if isinstance(b, dict)]
    questions = [q.get("id") for q in about.get("questions") or [] if isinstance(q, dict)]
    if (about.get("id") != survey.id or blocks != [b.id for b in survey.blocks]
            or questions != [q.id for q in survey.scale_questions]):
        return None
    return doc


def published_weekly(survey: Survey, out: Path, live: release.Live | None, today: str
                     ) -> list[history.Period] | None:
    """The earlier releases of this survey as they were published: from the history.csv of
    the target `live` was read from, else of the local site. None when there is none (then
    the local snapshots are all there is). The snapshots keep what score wrote, not what was
    published: a held unit's figures there rest on answers no release showed, and a history
    table made from them could be subtracted from the release it stands beside."""
    data = live.history if live is not None else release.local_live(out, survey).history
    if data is None:
        return None
    where = live.where if live is not None else str(Path(out) / "site")
    _series, weekly = release.live_periods(survey, release.read_history_csv(data, where), today)
    return weekly


def final_release(out: Path, survey: Survey) -> dict[str, history.Result] | None:
    """The last release of an earlier survey of the series, as its local site published it
    (from its history.csv), or None when that survey was never published here."""
    data = release.local_live(out, survey).history
    if data is None:
        return None
    releases = release.read_history_csv(data, str(Path(out) / "site"))
    return releases[max(releases)] if releases else None


def as_published(snapshots: list[history.Period], published: list[history.Period] | None
                 ) -> list[history.Period]:
    """The earlier releases of this survey: each date as it was published where a published
    history has it, the local snapshot of what score wrote only for dates no release shows."""
    if not published:
        return snapshots
    dates = {p.date for p in published}
    return sorted([*published, *(p for p in snapshots if p.date not in dates)], key=lambda p: p.date)


def basis_units(doc: dict | None) -> dict[str, dict]:
    """Unit code (upper-cased) -> its entry in the last release, those with a whole count n."""
    if doc is None:
        return {}
    out = {}
    for entry in doc.get("units") or []:
        if (isinstance(entry, dict) and isinstance(entry.get("unit_code"), str)
                and isinstance(entry.get("n"), int) and not isinstance(entry.get("n"), bool)):
            out[entry["unit_code"].upper()] = entry
    return out


def published(survey: Survey, rows: list[dict], table: pd.DataFrame, doc: dict | None
              ) -> tuple[list[UnitResult], Cells]:
    """results.published with the step rule: units whose responses moved by fewer than
    min_cell since the last release keep that release's figures (UnitResult.responses holds
    their count now); the others are checked together with every earlier release (priors)."""
    min_cell = survey.scoring.min_cell
    basis = basis_units(doc)
    held = {r["code"].upper() for r in rows if r["code"].upper() in basis
            and not moves(r["n"], basis[r["code"].upper()]["n"], min_cell,
                          earlier_counts(basis[r["code"].upper()]))}
    priors: dict[str, Last] = {
        r["code"].upper(): last_of(survey, basis[r["code"].upper()])
        for r in rows if r["code"].upper() in basis and r["code"].upper() not in held}
    # a held unit's own figures are not published: skip its plan (withheld in full, cheaply)
    checked = [r if r["code"].upper() not in held else {**r, "n": 0} for r in rows]
    units, cells = results.published(survey, checked, table, priors)
    # a unit the check could make safe only by withholding every figure keeps its last ones
    # instead: its answer counts alone, read with the earlier releases, can pin a cell when
    # answers were removed (and a blank release tells less than the figures it replaces)
    shown = {code for (code, _q), (v, a) in cells.items() if v is not None and a > 0}
    held |= {u.code.upper() for u in units if u.code.upper() in priors and _blank(u, shown)}
    for u in units:
        entry = basis.get(u.code.upper())
        if entry is not None and u.code.upper() not in held:
            u.earlier = _earlier(entry)
    if not held:
        return units, cells
    now = {r["code"].upper(): r["n"] for r in rows}
    kept = []
    for u in units:
        code = u.code.upper()
        if code in held:
            u = _held(survey, u, basis[code], now[code])
            for q in survey.scale_questions:
                cell = (basis[code].get("questions") or {}).get(q.id) or {}
                value, answers = cell.get("value"), cell.get("answers") or 0
                cells[(u.code, q.id)] = (None if value is None else float(value), int(answers))
        kept.append(u)
    ranked = [u for u in kept if u.ranked]
    results._rerank(ranked)
    ranked.sort(key=lambda u: (u.rank, u.code))  # the score's order: rank, then unit code
    results._rerange(ranked)
    return ranked + [u for u in kept if not u.ranked], cells


FIGURES = ("n", "index", "blocks", "questions", "bounds")  # what an earlier figure set keeps


def _blank(u: UnitResult, shown: set[str]) -> bool:
    """Every figure of the unit withheld: index, blocks and (no code in `shown`, the units
    with a question value published) each question."""
    return u.index is None and all(v is None for v in u.blocks.values()) and u.code not in shown


def _earlier(entry: dict) -> list[dict]:
    """Every earlier figure set of the unit, the last release's included, for the next run to
    check against (ranking.json `earlier`). None is dropped: a set that showed everything
    still bounds each question's whole number at its count, and once answers are removed a
    release two or more back can pin, with the ones after it, what the last alone does not;
    and its n is what the step rule compares with (moves)."""
    sets = [e for e in entry.get("earlier") or [] if isinstance(e, dict)]
    return [*sets, {k: entry.get(k) for k in FIGURES}]


def _held(survey: Survey, now: UnitResult, entry: dict, responses: int) -> UnitResult:
    """The unit's line as the last release published it, with today's name and district."""
    min_cell = survey.scoring.min_cell
    n = entry["n"]
    questions = entry.get("questions") if isinstance(entry.get("questions"), dict) else {}
    answers: dict[str, int] = {}
    for q in survey.scale_questions:
        a = (questions.get(q.id) or {}).get("answers") or 0
        answers[q.block] = max(answers.get(q.block, 0), int(a))
    blocks = {b.id: _number((entry.get("blocks") or {}).get(b.id)) for b in survey.blocks}
    index = _number(entry.get("index"))
    ranked = bool(entry.get("ranked")) and index is not None
    band = entry.get("band") if ranked and isinstance(entry.get("band"), str) else survey.scoring.unranked_label
    suppressed = n < min_cell
    return UnitResult(
        code=now.code, name=now.name, district=now.district, n=n, rank=None, index=index,
        low=_number(entry.get("ci_low")), high=_number(entry.get("ci_high")), band=band,
        ranked=ranked, blocks=blocks, band_class=results.band_class(survey, band, ranked),
        reason="" if ranked else str(entry.get("reason") or ""), suppressed=suppressed,
        index_withheld=index is None and (suppressed or any(answers.values())),
        protected=set() if suppressed else {b for b, v in blocks.items()
                                            if v is None and answers.get(b, 0) >= min_cell},
        responses=responses, bounds=_bounds(entry.get("bounds")),
        earlier=[e for e in entry.get("earlier") or [] if isinstance(e, dict)])


def _bounds(value) -> dict[str, tuple[float, float]]:
    if not isinstance(value, dict):
        return {}
    return {q: (float(v[0]), float(v[1])) for q, v in value.items()
            if isinstance(v, list) and len(v) == 2 and all(_number(x) is not None for x in v)}


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def hold_types(units: list[UnitResult], part: dict[str, dict], doc: dict | None) -> None:
    """The respondent-type counts of held units as last published (who answered since then
    must not show), in the participation figures the pages and ranking.json read."""
    basis = basis_units(doc)
    for u in units:
        if u.responses is None or u.code not in part:
            continue
        types = basis.get(u.code.upper(), {}).get("types")
        types = types if isinstance(types, dict) else {}
        for t in part[u.code]["types"]:
            got = types.get(t["type"])
            t["responses"] = got if isinstance(got, int) and not isinstance(got, bool) else 0
            t["percent"] = round(100 * t["responses"] / t["quota"], 1) if t["quota"] else None
