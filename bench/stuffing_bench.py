"""The stuffing simulator of issue 22: how many fake answers move a unit five places in the
ranking of an open survey without any sign of ballot stuffing firing for it, before and after
the signals of issue 22.

An open survey (access = "open": anyone with the link answers) of 20 communes over three
office days; each commune gets 30 to 60 honest answers to 8 scale questions, its citizens
satisfied more or less (the communes spread over the ranking), each respondent with a mood
of their own; answers come in office hours on random devices with a plausible started_at. The
commune ranked 19th then sends fakes as the issue tried them, cheapest first:
- varied: answers of 4 and 5 with a few 3s, all different, in office hours, at most three per
  ten minutes, a new random device each, started_at 2 to 6 minutes before;
- identical: the same all-5 ballot every time, spread over the three days the same way.
and the same on a tickets survey (access = "tickets": each morning the real `hailong tickets`
issues 20 slips to every office; 12 to 20 visitors a day take one, 50-80% of them answer),
where the office can only use the slips nobody answered with (a slip a visitor also uses makes both contested):
- unused: varied fakes with the slips left over or of visitors who did not answer, the same
  day, at most three per ten minutes.
For k = 1, 2, ... fakes the real `hailong score` runs on honest + k fakes; the first k that
lifts the commune to rank 14 or better is reported with the signals that fired for it, and
the first k that does so with no signal at all ("unseen"). "before": the six signals as they
were (identical by its share alone: identical_alpha = 0); "after": the defaults of this
version (identical's chance rule on; on the tickets survey also ticket_reuse, ticket_uptake
and ticket_age). Also: how many honest communes carry a sign with no fakes at all (false alarms).

    .venv/bin/python bench/stuffing_bench.py [--seeds 3] [--max 60]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hailong.score.pipeline import score  # noqa: E402
from hailong.score.signals.run import find_signals  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

UNITS = 20
TARGET_RANK = 19
PLACES = 5
SLIPS = 20  # slips issued to each office each morning (tickets survey)
QUESTIONS = [f"q{i}" for i in range(1, 9)]
DAYS = [dt.date(2024, 6, 10) + dt.timedelta(days=d) for d in range(3)]  # Monday to Wednesday
COLS = ["submitted_at", "response_id", "survey_id", "unit_code", "respondent_type",
        "respondent_key", "device_id", "ticket", "started_at", *QUESTIONS, "comment"]


def survey_toml(extra: str = "", access: str = "open") -> str:
    blocks = '[[blocks]]\nid = "a"\ntitle = "Tiếp cận"\n[[blocks]]\nid = "b"\ntitle = "Kết quả"\n'
    questions = "".join(f'[[questions]]\nid = "{q}"\nblock = "{"a" if i < 4 else "b"}"\n'
                        f'text = "Câu {i + 1}"\n' for i, q in enumerate(QUESTIONS))
    return (f'id = "mo"\ntitle = "Khảo sát mở"\naccess = "{access}"\n[window]\nstart = "{DAYS[0]}"\n'
            f'end = "{DAYS[-1]}"\n{extra}\n{blocks}{questions}')


def office_time(rng, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(seconds=int(rng.integers(0, 9 * 3600)))


def answer_row(rng, unit: str, at: dt.datetime, answers) -> dict:
    took = int(rng.integers(120, 360))
    return dict.fromkeys(COLS, "") | {
        "submitted_at": at.isoformat() + "+07:00", "response_id": f"r{rng.integers(2**62):x}",
        "unit_code": unit, "device_id": f"d{rng.integers(2**62):x}",
        "started_at": (at - dt.timedelta(seconds=took)).isoformat() + "+07:00",
        **dict(zip(QUESTIONS, answers, strict=True))}


def honest_answers(rng, quality: float) -> list[str]:
    mood = np.clip(quality + rng.normal(0, 0.15), 0.02, 0.98)
    satisfied = rng.random(len(QUESTIONS)) < mood
    answers = np.where(satisfied, rng.integers(4, 6, len(QUESTIONS)),
                       rng.integers(1, 4, len(QUESTIONS)))
    return [str(a) for a in answers]


def qualities(rng) -> np.ndarray:
    quality = np.linspace(0.45, 0.9, UNITS)
    rng.shuffle(quality)
    return quality


def honest_rows(rng) -> list[dict]:
    rows = []
    quality = qualities(rng)
    for u in range(UNITS):
        for _ in range(int(rng.integers(30, 61))):
            rows.append(answer_row(rng, f"U{u:02d}", office_time(rng, DAYS[int(rng.integers(3))]),
                                   honest_answers(rng, quality[u])))
    return rows


def ticket_rows(rng, survey, out: Path) -> tuple[list[dict], dict[str, list[tuple]]]:
    """Honest answers of a tickets survey, and each unit's unused slips (ticket, day)."""
    from hailong.collect.tickets import make_tickets

    quality = qualities(rng)
    rate = rng.uniform(0.5, 0.8, UNITS)  # of the visitors who took a slip, those who answer
    for d in DAYS:  # each morning the same number of slips for every office (the routine)
        make_tickets(survey, out, SLIPS, day=d, slips=False)
    issued = pd.read_csv(out / survey.id / "tickets" / "issued.csv", dtype=str, encoding="utf-8-sig")
    rows, unused = [], {}
    for (code, day), slips in issued.groupby(["unit_code", "date"]):
        u, day = int(code[1:]), dt.date.fromisoformat(day)
        visitors = int(rng.integers(12, SLIPS + 1))  # the slips handed out that day
        for i, t in enumerate(slips["ticket"]):
            if i < visitors and rng.random() < rate[u]:
                row = answer_row(rng, code, office_time(rng, day), honest_answers(rng, quality[u]))
                rows.append(row | {"ticket": t})
            else:
                unused.setdefault(code, []).append((t, day))
    return rows, unused


def fake_rows(rng, unit: str, kind: str, count: int, slips=None) -> list[dict]:
    """`count` fakes at most three per ten minutes, spread over the office hours of the days
    (of the slips' days, with `slips`: (ticket, day) each, one fake per slip)."""
    out, slots = [], []
    if slips is not None:
        count = min(count, len(slips))
    for day in DAYS:  # 10-minute slots 07:30..16:30, three fakes each, visited in random order
        slots += [dt.datetime.combine(day, dt.time(7, 30)) + dt.timedelta(minutes=10 * s)
                  for s in range(54)]
    order = rng.permutation(len(slots))
    used: dict[dt.datetime, int] = {}
    for i in range(count):
        if slips is not None:  # a slot of the slip's own day with room left
            ticket, day = slips[i]
            slot = next(slots[j] for j in order if slots[j].date() == day and used.get(slots[j], 0) < 3)
            at = slot + dt.timedelta(seconds=int(rng.integers(0, 200)) + 200 * used.get(slot, 0))
            used[slot] = used.get(slot, 0) + 1
            answers = [str(a) for a in rng.choice([3, 4, 4, 5, 5, 5], len(QUESTIONS))]
            out.append(answer_row(rng, unit, at, answers) | {"ticket": ticket})
            continue
        slot = slots[order[i // 3 % len(slots)]]
        at = slot + dt.timedelta(seconds=int(rng.integers(0, 200)) + 200 * (i % 3))
        if kind == "identical":
            answers = ["5"] * len(QUESTIONS)
        else:
            answers = [str(a) for a in rng.choice([3, 4, 4, 5, 5, 5], len(QUESTIONS))]
        out.append(answer_row(rng, unit, at, answers))
    return out


def run_once(out: Path, survey, before, rows: list[dict], target: str):
    raw = out / "raw.csv"
    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=COLS).to_csv(raw, index=False)
    score(survey, out, raw)
    data = out / survey.id / "data"
    ranking = pd.read_csv(data / "ranking.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    rank = ranking.set_index("unit_code")["rank"]
    after = pd.read_csv(data / "signals.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    accepted = pd.read_csv(data / "responses.csv", dtype=str, keep_default_na=False,
                           encoding="utf-8-sig")
    earlier = find_signals(accepted, before)
    return rank, after, earlier, target


def search(out: Path, survey, before, honest: list[dict], fakes: list[dict], target: str) -> dict:
    """The first k that lifts `target` PLACES up, the signals then, and the first k that does
    so unseen by each set of signals."""
    found = {"moved": None, "before": None, "after": None, "moved_signals": None}
    for k in range(1, len(fakes) + 1):
        rank, after_sig, before_sig, _ = run_once(out, survey, before, honest + fakes[:k], target)
        if rank[target] == "" or int(rank[target]) > TARGET_RANK - PLACES:
            continue
        if found["moved"] is None:
            found["moved"] = k
            found["moved_signals"] = (fired(before_sig, target), fired(after_sig, target))
        for which, sig in (("before", before_sig), ("after", after_sig)):
            if found[which] is None and not fired(sig, target):
                found[which] = k
        if found["before"] is not None and found["after"] is not None:
            break
    return found


def fired(frame: pd.DataFrame, unit: str) -> list[str]:
    return sorted(set(frame[frame["unit_code"] == unit]["signal"]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max", type=int, default=60, help="most fakes tried")
    args = parser.parse_args(argv)
    os.environ.setdefault("HAILONG_NO_PROGRESS", "1")
    os.environ.setdefault("HAILONG_SIGNING_KEY", "sT5-mQ9xVb2Rk7WcN4yHp0LzE8gJd3fA6uKq1oYi")
    started = time.perf_counter()
    before_checks = ('[signals]\nidentical_alpha = 0\nchecks = '
                     '["burst", "identical", "straightline", "speed", "off_hours", "device"]\n')
    with tempfile.TemporaryDirectory(prefix="hailong-stuffing-") as work:
        work = Path(work)
        surveys = {}
        for access in ("open", "tickets"):
            for name, extra in (("after", ""), ("before", before_checks)):
                folder = work / f"{access}-{name}"
                folder.mkdir()
                (folder / "survey.toml").write_text(survey_toml(extra, access), encoding="utf-8")
                (folder / "units.csv").write_text(
                    "code,name\n" + "".join(f"U{u:02d},Xã {u}\n" for u in range(UNITS)),
                    encoding="utf-8")
                surveys[access, name] = load_survey(folder)
        for seed in range(args.seeds):
            for access in ("open", "tickets"):
                survey, before = surveys[access, "after"], surveys[access, "before"]
                rng = np.random.default_rng(seed)
                out = work / f"out-{access}-{seed}"
                if access == "open":
                    honest, unused = honest_rows(rng), {}
                else:
                    honest, unused = ticket_rows(rng, survey, out)
                rank, after_sig, before_sig, _ = run_once(out, survey, before, honest, "")
                ranked = rank[rank != ""].astype(int).sort_values(kind="stable")
                target = ranked.index[TARGET_RANK - 1]
                alarms = (len(set(before_sig["unit_code"])), len(set(after_sig["unit_code"])))
                kinds = ("varied", "identical") if access == "open" else ("unused",)
                for kind in kinds:
                    slips = unused.get(target) if access == "tickets" else None
                    fakes = fake_rows(np.random.default_rng(1000 + seed), target, kind, args.max,
                                      slips)
                    found = search(out, survey, before, honest, fakes, target)
                    limit = f">{len(fakes)}"
                    print(f"seed {seed} {access:7} {kind:9} {target}: moved {TARGET_RANK}->"
                          f"{TARGET_RANK - PLACES} with {found['moved'] or limit} fakes (signals "
                          f"before {found['moved_signals'][0] if found['moved_signals'] else '-'}, "
                          f"after {found['moved_signals'][1] if found['moved_signals'] else '-'}); "
                          f"unseen: before {found['before'] or limit}, after "
                          f"{found['after'] or limit} fakes; honest units flagged before/after: "
                          f"{alarms[0]}/{alarms[1]}", flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
