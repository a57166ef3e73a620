"""The jobs that run several stages in order: `build` (the survey pages, then whatever results
exist) and `weekly` (pull → score → keep a dated copy of the ranking → publish, then deploy
when asked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from hailong.collect.build import build_site
from hailong.ingest.pull import pull
from hailong.layout import Layout, require_survey_output
from hailong.publish.dataset import verify
from hailong.publish.deploy.run import deploy as deploy_site
from hailong.publish.deploy.run import read_live, target_for
from hailong.publish.history import snapshot
from hailong.publish.pages import check_not_worse, publish, publish_if_scored
from hailong.score.pipeline import score
from hailong.survey.load import Survey


def build(surveys: Sequence[Survey], out: Path, base_url: str | None = None,
          workers: int | None = None) -> str:
    """`hailong build`: the survey pages of every survey, then the results of those scored."""
    surveys = list(surveys)
    lines = [build_site(surveys, out, base_url=base_url, workers=workers)]
    lines += [publish_if_scored(s, Path(out)) or "" for s in surveys]
    return "\n".join(line for line in lines if line)


def weekly(survey: Survey, out: Path, today: dt.date | None = None, force: bool = False,
           deploy: bool = False,
           target: str | None = None, config: Path | None = None) -> str:
    """Pull → score → snapshot → publish, then with `deploy` send the site to the target. Any
    failure raises before the deploy, so the public site never gets a half-finished run."""
    # hailong.toml is read first: a mistake in it fails in a second, not after the pull
    chosen = target_for(target, config) if deploy else None
    day = today or dt.datetime.now(survey.tz).date()
    if survey.collector.kind == "local":  # a Google Sheet is pulled from anywhere, this is not
        require_survey_output(survey, out)
    lines = [pull(survey, out), score(survey, out)]
    # before the snapshot: a set that is not one run's, or a ranking refused for publishing,
    # must not enter the history either
    run = verify(survey, Layout(Path(out), survey.id))
    # judged against what the public reads now: on the target when deploying (a fresh runner
    # has no other copy, and its history comes from there), else the local site
    live = read_live(survey, chosen) if chosen is not None else None
    check_not_worse(survey, out, force, live)
    # the snapshot is taken before publishing so the results pages can show this run's history
    snapshot(survey, out, day)
    lines.append(publish(survey, out, force=force, live=live, day=day, run=run))
    if chosen is not None:
        lines.append(deploy_site([survey], out, chosen, force=force))
    return "\n".join(line for line in lines if line)
