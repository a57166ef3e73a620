"""`hailong deploy` and `weekly --deploy`: pick the target, check the site, send it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from filelock import FileLock, Timeout

from hailong.errors import HailongError
from hailong.i18n import _
from hailong.publish.deploy import folder, git, rsync
from hailong.publish.deploy.common import check_site
from hailong.publish.deploy.settings import Target, choose, load_targets

KINDS = {"git": git, "rsync": rsync, "folder": folder}


def target_for(name: str | None = None, config: Path | None = None) -> Target:
    """The target to deploy to, read and checked: `weekly --deploy` asks first, so a wrong
    hailong.toml fails before the long pull rather than after it."""
    return choose(load_targets(config), name)


def deploy(survey_ids: Sequence[str], out: Path, target: str | Target | None = None,
           config: Path | None = None, rollback: bool = False) -> str:
    """Send <out>/site/ to the target (or, with `rollback`, switch back to the release before)."""
    chosen = target if isinstance(target, Target) else target_for(target, config)
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
            site = check_site(out, survey_ids)
            return module.deploy(chosen, site, list(survey_ids))
    except Timeout:
        raise HailongError(_("another deploy to '{target}' is running from {out}; wait for it to "
                             "finish, then run again", target=chosen.name, out=out)) from None
