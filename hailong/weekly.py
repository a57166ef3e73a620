"""The weekly cron job: pull → score → keep a dated copy of the ranking → publish."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hailong.survey import Survey


def weekly(survey: Survey, out: Path, today: dt.date | None = None) -> str:
    from hailong.history import snapshot
    from hailong.pipeline import score
    from hailong.publish import publish
    from hailong.pull import pull

    day = today or dt.datetime.now(survey.tz).date()
    lines = [pull(survey, out), score(survey, out)]
    # the snapshot is taken before publishing so the results pages can show this run's history
    snapshot(survey, out, day)
    lines.append(publish(survey, out))
    return "\n".join(line for line in lines if line)
