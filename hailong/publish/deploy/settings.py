"""The site settings file `hailong.toml`: every deploy setting declared once, with its default
and help, then read and checked in one place (contract, section 7).

Other tables of hailong.toml belong to other features and are left alone; inside [deploy]
an unknown key is an error, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hailong.errors import HailongError
from hailong.i18n import N_, _
from hailong.survey.config import REQUIRED, Setting
from hailong.survey.tomltext import load_toml

DEFAULT_CONFIG = Path("hailong.toml")


def _s(types, default, help_) -> Setting:
    return Setting(types if isinstance(types, tuple) else (types,), default, help_)


_KEEP = _s(int, 5, N_("releases kept for going back with --rollback (at least 2)"))
_AUDIENCE = _s(str, "public", N_("who reads the target: \"public\" (the survey and results pages) or "
                                 "\"staff\" (also the staff pages; put it behind a login)"))
# kind -> setting -> Setting; "kind" itself is checked before these
KINDS: dict[str, dict[str, Setting]] = {
    "git": {
        "repo": _s(str, REQUIRED, N_("git repository to push the site to: any address git can push to")),
        "branch": _s(str, "gh-pages", N_("branch holding the site (the branch's whole tree is the content "
                                         "of <out>/site/)")),
        "nojekyll": _s(bool, True, N_("add a .nojekyll file so GitHub Pages publishes the site as it is")),
        "audience": _AUDIENCE,
    },
    "rsync": {
        "dest": _s(str, REQUIRED, N_("a folder on this machine, or user@host:path over ssh; the live "
                                     "site is dest/current")),
        "keep": _KEEP,
        "ssh": _s(str, "", N_("ssh command, e.g. \"ssh -p 2222 -i ~/.ssh/hailong\" (default: the "
                              "RSYNC_RSH variable, otherwise ssh)")),
        "options": _s(list, [], N_("extra rsync options, e.g. [\"--bwlimit=2000\"]")),
        "audience": _AUDIENCE,
    },
    "folder": {
        "dest": _s(str, REQUIRED, N_("folder the web server serves; the live site is dest/current")),
        "keep": _KEEP,
        "audience": _AUDIENCE,
    },
}
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    base: Path = Path(".")  # the folder of hailong.toml: relative local paths start there

    def __getitem__(self, key: str) -> Any:
        return self.options[key]

    @property
    def where(self) -> str:
        """Where it sends, as a person reads it."""
        if self.kind == "git":
            return f"{self.options['repo']} ({self.options['branch']})"
        return str(self.options["dest"])

    def local_path(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self.base / path


def is_remote(location: str) -> bool:
    """True for what git or rsync would reach over the network: a URL, or `[user@]host:path`
    (a colon before the first slash)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", location):
        return True
    head = location.split("/", 1)[0]
    return ":" in head and not re.match(r"^[A-Za-z]:$", head)  # not a Windows drive


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    names = ", ".join(choices)
    return (_("did you mean '{close}'? Valid keys: {names}", close=close[0], names=names) if close
            else _("valid keys: {names}", names=names))


def _check(where: str, setting: Setting, value: Any) -> Any:
    if not isinstance(value, setting.types) or (isinstance(value, bool) and bool not in setting.types):
        kinds = {str: _("text in double quotes"), int: _("a whole number"), bool: _("true or false"),
                 list: _("a list in [ ]")}
        want = _(" or ").join(kinds.get(t, t.__name__) for t in setting.types)
        raise HailongError(_("{where} must be {want}, not {value}", where=where, want=want,
                             value=repr(value)))
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise HailongError(_("{where}: each item must be text in double quotes", where=where))
    return value


def _target(file: Path, name: str, raw: Any) -> Target:
    where = f"{file}: [deploy.{name}]"
    if not _NAME.match(name):
        raise HailongError(_("{where}: a target name has only letters without diacritics, digits, "
                             "'-' and '_'", where=where))
    if not isinstance(raw, dict):
        raise HailongError(_("{where} must be a [deploy.{name}] table with kind = \"git\", \"rsync\" "
                             "or \"folder\"", where=where, name=name))
    kind = raw.get("kind")
    if kind not in KINDS:
        raise HailongError(_("{where}: kind must be \"git\", \"rsync\" or \"folder\", not {kind}",
                             where=where, kind=repr(kind)))
    schema = KINDS[kind]
    options: dict[str, Any] = {}
    for key in raw:
        if key != "kind" and key not in schema:
            raise HailongError(_("{where}: unknown key '{key}'; {suggestion}", where=where, key=key,
                                 suggestion=_suggest(key, ["kind", *schema])))
    for key, setting in schema.items():
        if key in raw:
            options[key] = _check(f"{where} {key}", setting, raw[key])
        elif setting.default is REQUIRED:
            raise HailongError(_("{where}: '{key}' is missing ({help})", where=where, key=key,
                                 help=_(setting.help)))
        else:
            default = setting.default
            options[key] = list(default) if isinstance(default, list) else default
        if setting.default is REQUIRED and not options[key]:
            raise HailongError(_("{where}: '{key}' must not be empty ({help})", where=where, key=key,
                                 help=_(setting.help)))
    if options["audience"] not in ("public", "staff"):
        raise HailongError(_("{where}: audience must be \"public\" or \"staff\", not {value}",
                             where=where, value=repr(options["audience"])))
    if "keep" in options and options["keep"] < 2:
        raise HailongError(_("{where}: keep must be 2 or more (the live release and one to go back "
                             "to)", where=where))
    return Target(name, kind, options, file.resolve().parent)


def load_targets(config: Path | None = None) -> dict[str, Target]:
    """The targets of [deploy] in `config` (default ./hailong.toml), checked, defaults filled."""
    file = Path(config) if config is not None else DEFAULT_CONFIG
    if not file.is_file():
        raise HailongError(
            _("configuration file {path} not found: create hailong.toml with a [deploy.<name>] table "
              "(see the README, section \"Đưa lên mạng\") or give the file with --config",
              path=file.resolve())
        )
    try:
        raw = load_toml(file, file.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise HailongError(_("{path}: not UTF-8 text; save the file as UTF-8", path=file)) from None
    section = raw.get("deploy")
    if not isinstance(section, dict) or not section:
        raise HailongError(_("{path}: no targets yet; add a [deploy.<name>] table with kind = "
                             "\"git\", \"rsync\" or \"folder\"", path=file))
    return {name: _target(file, name, value) for name, value in section.items()}


def choose(targets: dict[str, Target], name: str | None) -> Target:
    """The target called `name`; without a name, the only one there is."""
    if name is None:
        if len(targets) == 1:
            return next(iter(targets.values()))
        raise HailongError(_("hailong.toml has {count} targets ({names}): choose one with --target "
                             "NAME", count=len(targets), names=", ".join(targets)))
    if name not in targets:
        raise HailongError(_("no target '{name}' in hailong.toml; the targets: {names}", name=name,
                             names=", ".join(targets)))
    return targets[name]
