"""`hailong demo`: the whole pipeline on a shipped survey with generated answers.

build the site → fill the local sheet with generated answers (through the same append the
preview server uses) → weekly (pull, score, publish) → say where the pages and files are.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from hailong.errors import HailongError
from hailong.generate import generate_responses
from hailong.layout import Layout
from hailong.localsheet import append_row
from hailong.survey import Survey, load_survey
from hailong.tokens import KEY_ENV

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SURVEY = REPO / "surveys" / "sipas-xa-2020"
DEMO_KEY = "hailong-demo-key-public-never-use-for-a-real-survey"
MARKER = ".hailong-demo"  # marks an output folder the demo made, so it may be cleared again


def run_demo(out: str | Path, survey_dir: str | Path | None = None, seed: int = 2020) -> str:
    out = Path(out)
    survey = load_survey(Path(survey_dir) if survey_dir else DEFAULT_SURVEY)
    if survey.collector.kind != "local":
        raise HailongError(
            f"{survey.path}: the demo fills the embedded local sheet, but collector.kind is "
            f"'{survey.collector.kind}'; use a survey with collector.kind = \"local\""
        )
    layout = Layout(out, survey.id)
    notes = []
    # earlier years of the same series first, so the results pages show the change over time
    for earlier in earlier_in_series(survey):
        notes.append(_fill_and_score(earlier, out, seed + earlier.year))
    clear(layout)
    if survey.access == "roster" and not os.environ.get(KEY_ENV, "").strip():
        # personal links need a signing key; a demo may use a fixed, public one
        os.environ[KEY_ENV] = DEMO_KEY
        notes.append(f"note: {KEY_ENV} was not set; the demo signed its personal links with a "
                     "fixed demo key (never use it for a real survey)")

    lines = [*notes, _build(survey, out)]
    rows = generate_responses(survey, seed=seed)
    for row in rows:
        append_row(layout.sheet_csv, survey.response_columns, row)
    lines.append(f"generated {len(rows)} answers (seed {seed}) into {layout.sheet_csv}")
    lines.append(_weekly(survey, out))
    lines.append(summary(survey, layout))
    return "\n".join(line for line in lines if line)


def earlier_in_series(survey: Survey) -> list[Survey]:
    """Shipped surveys of the same series and an earlier year, oldest first."""
    if not survey.series or survey.year is None:
        return []
    found = []
    for toml in sorted(survey.path.parent.glob("*/survey.toml")):
        if toml.parent.resolve() == survey.path.resolve():
            continue
        other = load_survey(toml.parent)
        if other.series == survey.series and other.year is not None and other.year < survey.year \
                and other.collector.kind == "local":
            found.append(other)
    return sorted(found, key=lambda s: s.year)


def _fill_and_score(survey: Survey, out: Path, seed: int) -> str:
    from hailong.pipeline import score
    from hailong.pull import pull

    layout = Layout(out, survey.id)
    clear(layout)
    rows = generate_responses(survey, seed=seed)
    for row in rows:
        append_row(layout.sheet_csv, survey.response_columns, row)
    pull(survey, out)
    score(survey, out)
    return f"scored the earlier survey '{survey.id}' of the series ({len(rows)} generated answers)"


def clear(layout: Layout) -> None:
    """Start from an empty `<out>/<id>/`, unless it holds work the demo did not make.

    Real QR codes, personal links, history or a published site must never be replaced by
    generated answers, so anything there without the demo's marker stops the demo.
    """
    root = layout.root
    ours = (root / MARKER).exists()
    theirs = [p for p in (root, layout.survey_site) if p.exists() and any(p.iterdir())]
    if theirs and not ours:
        raise HailongError(
            f"{theirs[0]} holds work that the demo did not make; run the demo with another "
            "--out folder (e.g. --out output/demo) so it is not overwritten"
        )
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("made by `hailong demo`; cleared on the next demo run\n", "utf-8")


def _build(survey: Survey, out: Path) -> str:
    from hailong.build import build_site

    return build_site([survey], out)


def _weekly(survey: Survey, out: Path) -> str:
    try:
        from hailong.weekly import weekly
    except ModuleNotFoundError as exc:
        if exc.name != "hailong.weekly":
            raise
        from hailong.pipeline import weekly
    return weekly(survey, out)


def _count(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, newline="", encoding="utf-8") as fh:
        return max(0, sum(1 for _ in csv.reader(fh)) - 1)


def summary(survey: Survey, layout: Layout) -> str:
    data = layout.data
    raw = _count(layout.raw_csv)
    accepted = _count(data / "responses.csv")
    quarantined = _count(data / "quarantine.csv")
    duplicates = _count(data / "duplicates.csv")
    ranked = 0
    ranking = data / "ranking.csv"
    if ranking.exists():
        with open(ranking, newline="", encoding="utf-8") as fh:
            ranked = sum(1 for r in csv.DictReader(fh) if r.get("ranked") == "true")
    page = layout.results / "index.html"
    return "\n".join([
        "",
        f"Demo of '{survey.id}': {raw} rows read = {accepted} accepted + {quarantined} "
        f"quarantined + {duplicates} duplicates; {ranked} of {len(survey.units)} units ranked",
        f"  ranking page: {page}" + ("" if page.exists() else " (not written)"),
        f"  data files:   {data}/ (responses.csv, quarantine.csv, duplicates.csv, ranking.csv)",
        f"  local sheet:  {layout.sheet_csv}",
        f"  preview:      hailong serve {survey.path} --out {layout.out}",
    ])
