"""Stage: match the keyings of paper questionnaires (contract v3, section 9), before dedupe.

A paper form is typed twice, by two clerks, from the data-entry page (channel `paper`): each
typing is a row with the clerk's code in `entered_by` and its keying number in `entry` (1, 2,
or 3 for a supervisor). The keyings of one form share its code: (unit_code, respondent_key),
or (unit_code, ticket) when the form carries a ticket instead of a member's token.

Per form, among its valid paper rows in submitted_at order (ties: file row order):
- a resubmission of one keying (the same response_id again, from the page's outbox) is a
  `replay` of it, whatever becomes of the keying itself: it is not a keying of its own;
- a supervisor's keying 3 decides: it is accepted (the latest keying 3, when a supervisor keyed
  the form again to correct a decision) and every other keying goes to duplicates as
  `second_entry`; it decides also where keyings 1 and 2 agree (a supervisor who typed the form
  from the paper is trusted over two clerks);
- otherwise one keying 1 and one keying 2 by two different clerks, with the same respondent
  type and the same answers to every scale and choice question, give one accepted row: the
  keying 1, the keying 2 going to duplicates as `second_entry`;
- any other pair or set (answers that differ, one clerk twice, two keyings numbered alike,
  three keyings) is quarantined as `entry_mismatch`, every keying of the form, with a reason
  naming what differs, until a supervisor's keying 3 decides;
- a form keyed once so far (or a paper row carrying no form code) is quarantined as
  `single_entry`.
Text questions and the comment are not compared: a clerk's copy of handwriting differs in
spaces and spelling without changing any figure (text answers are never scored); the accepted
keying's texts are kept.

Paper rows are few (a clerk types a few hundred forms a day), so this works row by row on
them alone; `score` hands it only the valid paper rows of every chunk and takes the rows it
decides out of the set that dedupe sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hailong.i18n import _
from hailong.survey.load import Survey
from hailong.survey.tickets import normalise
from reference_engine.score.validate import SUBMITTED

AT = "_at"  # the row's position among the valid rows that score gathered
SUPERVISOR = "3"


def columns(survey: Survey) -> list[str]:
    """The columns of a paper row that keying reads."""
    compared = [q.id for q in survey.questions if q.type in ("scale", "choice")]
    return ["response_id", "unit_code", "respondent_key", "ticket", "entered_by", "entry",
            "respondent_type", *compared, SUBMITTED]


@dataclass
class Keyed:
    """What keying decided, by position among the valid rows (ascending in each part).
    `dropped`: rows for duplicates.csv with their `rule` and `kept_response_id`;
    `quarantined`: rows for quarantine.csv with their `reason_code` and `reason`."""

    dropped_at: np.ndarray
    rules: list[str]
    kept_ids: list[str]
    quarantined_at: np.ndarray
    codes: list[str]
    reasons: list[str]

    @property
    def removed(self) -> np.ndarray:
        """Every position keying took out of what dedupe sees."""
        return np.union1d(self.dropped_at, self.quarantined_at)


def match_keyings(paper: pd.DataFrame, survey: Survey) -> Keyed:
    """Decide the paper rows (valid rows of channel paper, with `columns(survey)` and AT)."""
    dropped: list[tuple[int, str, str]] = []
    quarantined: list[tuple[int, str, str]] = []
    if len(paper):
        _decide(paper, survey, dropped, quarantined)
    dropped.sort()
    quarantined.sort()
    return Keyed(np.array([d[0] for d in dropped], dtype=np.int64), [d[1] for d in dropped],
                 [d[2] for d in dropped],
                 np.array([q[0] for q in quarantined], dtype=np.int64),
                 [q[1] for q in quarantined], [q[2] for q in quarantined])


def _decide(paper: pd.DataFrame, survey: Survey, dropped: list, quarantined: list) -> None:
    order = np.lexsort((paper[AT].to_numpy(), pd.to_datetime(paper[SUBMITTED], utc=True)
                        .to_numpy(dtype="datetime64[us]").astype(np.int64)))
    rows = paper.iloc[order]
    compared = [q.id for q in survey.questions if q.type in ("scale", "choice")]
    seen: set[str] = set()
    forms: dict[tuple[str, str], list[dict]] = {}
    for row in rows.to_dict("records"):
        rid = str(row["response_id"]).strip()
        row["rid"] = rid
        if rid and rid in seen:
            dropped.append((int(row[AT]), "replay", rid))
            continue
        if rid:
            seen.add(rid)
        code, shown = _form_code(row)
        if not code:
            quarantined.append((int(row[AT]), "single_entry", _(
                "respondent_key and ticket empty: a paper answer needs the code printed on its "
                "form, so that its two keyings can be matched; key it again with the code")))
            continue
        row["shown"] = shown
        forms.setdefault((str(row["unit_code"]).strip().upper(), code), []).append(row)
    for keyings in forms.values():
        _form(keyings, compared, dropped, quarantined)


def _form_code(row: dict) -> tuple[str, str]:
    """(the form's code as compared, as shown): the member's token, else the ticket (read as a
    typed ticket is read); ("", "") when the row carries neither."""
    key = str(row["respondent_key"]).strip()
    if key:
        return "k:" + key, key
    ticket = str(row["ticket"]).strip()
    if ticket:
        return "t:" + (normalise(ticket) or ticket.upper()), ticket
    return "", ""


def _form(keyings: list[dict], compared: list[str], dropped: list, quarantined: list) -> None:
    first = keyings[0]
    supervisor = [k for k in keyings if str(k["entry"]).strip() == SUPERVISOR]
    if supervisor:
        chosen = supervisor[-1]
        dropped.extend((int(k[AT]), "second_entry", chosen["rid"])
                       for k in keyings if k is not chosen)
        return
    if len(keyings) == 1:
        quarantined.append((int(first[AT]), "single_entry", _(
            "form {code} of unit {unit}: keyed once so far (keying {entry}, clerk {clerk}); it "
            "counts when another clerk has keyed it the same way",
            code=first["shown"], unit=first["unit_code"], entry=str(first["entry"]).strip(),
            clerk=str(first["entered_by"]).strip())))
        return
    problems = _problems(keyings, compared)
    if not problems:
        one = next(k for k in keyings if str(k["entry"]).strip() == "1")
        dropped.extend((int(k[AT]), "second_entry", one["rid"]) for k in keyings if k is not one)
        return
    reason = _("form {code} of unit {unit}: {problems}; a supervisor's keying 3 decides",
               code=first["shown"], unit=first["unit_code"], problems="; ".join(problems))
    quarantined.extend((int(k[AT]), "entry_mismatch", reason) for k in keyings)


def _problems(keyings: list[dict], compared: list[str]) -> list[str]:
    """Why these keyings (no keying 3 among them) do not settle the form; [] when they do."""
    problems = []
    entries = sorted(str(k["entry"]).strip() for k in keyings)
    if entries != ["1", "2"]:
        problems.append(_("keyed {count} times as keying {entries} (needs one keying 1 and one "
                          "keying 2)", count=len(keyings), entries=", ".join(entries)))
    clerks = [str(k["entered_by"]).strip() for k in keyings]
    twice = sorted({c for c in clerks if [x.lower() for x in clerks].count(c.lower()) > 1})
    if twice:
        problems.append(_("clerk {clerk} keyed it more than once (the two keyings must be by "
                          "two clerks)", clerk=", ".join(twice)))
    def cell(keying: dict, name: str) -> str:
        text = str(keying[name]).strip()
        return "" if text == "0" else text  # a scale answer's 0 and empty: both no opinion

    differ = [name for name in ["respondent_type", *compared]
              if len({cell(k, name) for k in keyings}) > 1]
    if differ:
        problems.append(_("the keyings differ in {columns}", columns=", ".join(differ)))
    return problems
