"""Coverage of the 95% interval by simulation (issues 11 and 24): the rule of contract v3 step 5
(Korn-Graubard: Clopper-Pearson on the effective size with the survey's pooled design effect),
beside the v2 rule it replaced (Wilson on an effective size estimated unit by unit).

Grid: k respondents per unit ∈ {3, 5, 10, 25, 100} × true satisfaction π ∈ {50, 70, 80, 90, 95,
99}% × 6, 12 or 23 scale questions (three blocks, questions dealt round) × weak or strong
agreement within a respondent. Each respondent has a propensity θ drawn from a Beta
distribution with mean π and intra-respondent correlation ρ (weak: 0.1, strong: 0.6) and
answers each question "satisfied" (4 or 5) with probability θ, else 1–3; one answer in twenty
is left empty (no opinion). One cell is one survey of R simulated units, scored by the real
scoring (`score_arrays`, so D is pooled over the cell's units as in a real survey); coverage
is the share of units whose interval holds 100 × π. The v2 rule is computed here from the same
respondent scores, as contract v2 wrote it. Not a timed test: run by `make bench`.

    .venv/bin/python bench/coverage.py [--reps R] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.score.scoring import score_arrays  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402

KS = (3, 5, 10, 25, 100)
PIS = (0.50, 0.70, 0.80, 0.90, 0.95, 0.99)
QUESTIONS = (6, 12, 23)
AGREEMENT = (("weak", 0.1), ("strong", 0.6))
BLOCKS = 3
FLOOR = 0.93
Z = 1.96


def write_survey(folder: Path, units: int, questions: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    blocks = [f"b{i}" for i in range(BLOCKS)]
    lines = ['id = "coverage"', 'title = "Mô phỏng khoảng tin cậy"', "year = 2024",
             "[window]", 'start = "2024-06-12"', 'end = "2024-06-14"',
             "[scoring]", "min_responses = 1", "min_cell = 1"]
    for b in blocks:
        lines += ["[[blocks]]", f'id = "{b}"', f'title = "Nhóm {b}"']
    for i in range(questions):
        lines += ["[[questions]]", f'id = "q{i + 1}"', f'block = "{blocks[i % BLOCKS]}"',
                  f'text = "Câu {i + 1}"']
    (folder / "survey.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes = "\n".join(f"U{u:05d},Đơn vị {u}" for u in range(units))
    (folder / "units.csv").write_text("code,name\n" + codes + "\n", encoding="utf-8")


def simulate(rng, reps: int, k: int, pi: float, rho: float, questions: int):
    """(unit positions, answers rows × questions as small ints, respondent scores reps × k)."""
    theta = rng.beta(pi * (1 / rho - 1), (1 - pi) * (1 / rho - 1), size=(reps, k))
    satisfied = rng.random((reps, k, questions)) < theta[..., None]
    answers = np.where(satisfied, rng.integers(4, 6, satisfied.shape),
                       rng.integers(1, 4, satisfied.shape))
    answers[rng.random(answers.shape) < 0.05] = 0  # no opinion
    given = answers > 0
    # the respondent score (step 4): the mean of its block indices, blocks dealt round
    block_of = np.arange(questions) % BLOCKS
    block_sat = np.stack([(satisfied & given)[..., block_of == b].sum(-1) for b in range(BLOCKS)], -1)
    block_n = np.stack([given[..., block_of == b].sum(-1) for b in range(BLOCKS)], -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        block_score = np.where(block_n > 0, 100.0 * block_sat / block_n, np.nan)
        scores = np.nanmean(block_score, axis=-1)
    unit = np.repeat(np.arange(reps, dtype=np.int32), k)
    return unit, answers.reshape(reps * k, questions).astype(np.int16), scores


def wilson_v2(index: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contract v2 step 5: Wilson on n = p(1 − p)k / s², n = k where s = 0 or p is 0 or 1."""
    k = np.sum(~np.isnan(scores), axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.nanstd(scores, axis=1, ddof=1)
        p = index / 100
        n = np.where((sd == 0) | (p <= 0) | (p >= 1), k, p * (1 - p) * k / (sd / 100) ** 2)
        centre = p + Z * Z / (2 * n)
        half = Z * np.sqrt(np.maximum(p * (1 - p), 0) / n + Z * Z / (4 * n * n))
        low = 100 * (centre - half) / (1 + Z * Z / n)
        high = 100 * (centre + half) / (1 + Z * Z / n)
    low = np.clip(np.minimum(low, index), 0, 100)
    high = np.clip(np.maximum(high, index), 0, 100)
    few = k < 2
    return np.where(few, index, low), np.where(few, index, high)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2000, help="simulated units per cell")
    ap.add_argument("--seed", type=int, default=24)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for questions in QUESTIONS:
            write_survey(Path(tmp) / f"s{questions}", args.reps, questions)
            survey = load_survey(Path(tmp) / f"s{questions}")
            for name, rho in AGREEMENT:
                for k in KS:
                    for pi in PIS:
                        unit, answers, scores = simulate(rng, args.reps, k, pi, rho, questions)
                        ranking = score_arrays(unit, answers, survey)[0]
                        ranking = ranking.set_index("unit_code").loc[
                            [f"U{u:05d}" for u in range(args.reps)]]
                        index = ranking["index"].to_numpy(dtype=float)
                        low = ranking["ci_low"].to_numpy(dtype=float)
                        high = ranking["ci_high"].to_numpy(dtype=float)
                        v2_low, v2_high = wilson_v2(index, scores)
                        truth = 100 * pi
                        rows.append({
                            "q": questions, "agree": name, "k": k, "pi": truth,
                            "v3": np.mean((low <= truth) & (truth <= high)),
                            "v2": np.mean((v2_low <= truth) & (truth <= v2_high)),
                            "v3_width": np.mean(high - low), "v2_width": np.mean(v2_high - v2_low),
                            "D": ranking.attrs["design_effect"],
                        })
    print(f"Coverage of the 95% interval: {args.reps} simulated units per cell; satisfied = 4 or 5; "
          "5% no opinion; agreement within a respondent weak (ρ = 0.1) or strong (ρ = 0.6)")
    print(f"{'Q':>3} {'agree':>6} {'k':>4} {'true %':>6} | {'v2':>7} {'width':>6} | "
          f"{'v3':>7} {'width':>6} {'D':>6}")
    for r in rows:
        def flag(c):
            return f"{100 * c:6.1f}%" + ("*" if c < FLOOR else " ")
        print(f"{r['q']:>3} {r['agree']:>6} {r['k']:>4} {r['pi']:>6.0f} | {flag(r['v2'])} "
              f"{r['v2_width']:>6.1f} | {flag(r['v3'])} {r['v3_width']:>6.1f} {r['D']:>6.3f}")
    v2_low = [r for r in rows if r["v2"] < FLOOR]
    v3_low = [r for r in rows if r["v3"] < FLOOR]
    worst = min(rows, key=lambda r: r["v3"])
    print(f"* below {FLOOR:.0%}. Monte Carlo error of one cell at 95%: about ±"
          f"{100 * 1.96 * (0.95 * 0.05 / args.reps) ** 0.5:.1f} points.")
    print(f"v2 below {FLOOR:.0%} in {len(v2_low)} of {len(rows)} cells (lowest "
          f"{100 * min(r['v2'] for r in rows):.1f}%); v3 in {len(v3_low)} (lowest "
          f"{100 * worst['v3']:.1f}% at Q={worst['q']}, {worst['agree']}, k={worst['k']}, "
          f"{worst['pi']:.0f}%)")
    sys.exit(1 if v3_low else 0)


if __name__ == "__main__":
    main()
