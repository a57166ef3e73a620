"""`hailong deploy` and `weekly --deploy`: pick the target, read what is live there, judge this
run's results against it, then send exactly the files the manifests list."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock, Timeout

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.publish import release
from hailong.publish.deploy import folder, git, rsync
from hailong.publish.deploy.common import collect_site
from hailong.publish.deploy.settings import Target, choose, load_targets
from hailong.survey.load import Survey

KINDS = {"git": git, "rsync": rsync, "folder": folder}


def target_for(name: str | None = None, config: Path | None = None) -> Target:
    """The target to deploy to, read and checked: `weekly --deploy` asks first, so a wrong
    hailong.toml fails before the long pull rather than after it."""
    return choose(load_targets(config), name)


def _chosen(target: str | Target | None, config: Path | None) -> Target:
    return target if isinstance(target, Target) else target_for(target, config)


def read_live(survey: Survey | str, target: str | Target | None = None,
              config: Path | None = None) -> release.Live:
    """The survey's release live on the target: its ranking.json and history.csv, read from
    the git branch, the rsync destination or the folder (a fresh machine has no other copy)."""
    chosen = _chosen(target, config)
    rels = list(release.results_file_paths(_id(survey)))
    found = KINDS[chosen.kind].read(chosen, rels)
    return release.Live.of(f"{chosen.name}: {chosen.where}/{rels[0]}", found[rels[0]],
                           found[rels[1]])


def _id(survey: Survey | str) -> str:
    return survey.id if isinstance(survey, Survey) else survey


def _judge(surveys: Sequence[Survey | str], out: Path, chosen: Target, force: bool) -> None:
    """Each survey's new release against the live one on the target (release.judge)."""
    for survey in surveys:
        local = release.local_live(out, _id(survey))
        if local.ranking is None:
            continue  # no results yet: only the survey pages go
        new = release.live_release(local.ranking)
        release.judge(survey, new, release.live_release(read_live(survey, chosen).ranking),
                      f"{chosen.name} ({chosen.where})", force)


def deploy(surveys: Sequence[Survey | str], out: Path, target: str | Target | None = None,
           config: Path | None = None, rollback: bool = False, force: bool = False) -> str:
    """Send the named surveys' public files (staff pages too for a staff target) to the target,
    after judging their results against the live ones; or, with `rollback`, switch back to the
    release before."""
    chosen = _chosen(target, config)
    module = KINDS[chosen.kind]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # two deploys to one target from this machine (cron and a person) would remove each
    # other's half-sent release
    lock = FileLock(str(out / f".deploy-{chosen.name}.lock"))
    try:
        with lock.acquire(timeout=0):
            if rollback:
                return module.undo(chosen)
            ids = [_id(s) for s in surveys]
            site = collect_site(out, ids, chosen["audience"])
            _judge(surveys, out, chosen, force)
            done = module.deploy(chosen, site, ids)
            return "\n".join(line for line in (done, site.left_out) if line)
    except Timeout:
        raise HailongError(_("another deploy to '{target}' is running from {out}; wait for it to "
                             "finish, then run again", target=chosen.name, out=out)) from None
