"""The schedules and host settings shipped in deploy/, checked by the tools that run them:
systemd-analyze verify for the units, actionlint for the GitHub workflow, click for every
hailong command they contain, and the Apps Script manifest that clasp pushes."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hailong.cli import cli

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("hailong-*@.*"))
ACTIONLINT = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is missing: .ci/run installs Debian's systemd")
    assert {u.name for u in UNITS} == {"hailong-weekly@.service", "hailong-weekly@.timer",
                                       "hailong-progress@.service", "hailong-progress@.timer"}
    # verify checks that ExecStart= can run: point it at a stand-in where hailong is installed
    stand_in = tmp_path / "bin" / "hailong"
    stand_in.parent.mkdir()
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8")
        assert "/usr/local/bin/hailong" in text or unit.suffix == ".timer"
        (tmp_path / unit.name).write_text(text.replace("/usr/local/bin/hailong", str(stand_in)))
    instances = [u.name.replace("@.", "@pks02-2024.") for u in UNITS]
    done = subprocess.run([analyze, "verify", *instances], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
    # and the check is real: a broken calendar is refused
    timer = tmp_path / "hailong-weekly@.timer"
    timer.write_text(timer.read_text().replace("OnCalendar=Mon", "OnCalendar=Mox"))
    bad = subprocess.run([analyze, "verify", "hailong-weekly@x.timer"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "calendar" in bad.stderr


def test_github_workflow_passes_actionlint():
    if not Path(ACTIONLINT).exists():
        pytest.skip("actionlint is missing: pip install -r requirements-dev.txt")
    workflow = DEPLOY / "github-actions" / "hailong-weekly.yml"
    done = subprocess.run([ACTIONLINT, "-no-color", str(workflow)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    text = workflow.read_text(encoding="utf-8")
    for secret in ("secrets.GOOGLE_SERVICE_ACCOUNT_JSON", "secrets.HAILONG_SIGNING_KEY"):
        assert secret in text
    assert "--deploy" in text and "gh-pages" in text


def _hailong_commands() -> list[tuple[str, list[str]]]:
    """Every `hailong VERB …` that a unit, the crontab or the workflow runs."""
    found = []
    for path in [*UNITS, DEPLOY / "crontab.example", DEPLOY / "github-actions" / "hailong-weekly.yml"]:
        text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))  # continued lines
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(("#", "Description=", "name:")):
                continue
            for part in re.split(r"&&|;|\bdo\b|>", line):
                words = shlex.split(part.split("=", 1)[1] if part.startswith("Exec") else part)
                for i, word in enumerate(words[:-1]):
                    if Path(word).name == "hailong" and words[i + 1] in cli.commands:
                        found.append((path.name, words[i + 1:]))
    return found


def test_every_shipped_command_is_one_hailong_accepts():
    commands = _hailong_commands()
    verbs = {args[0] for _, args in commands}
    assert {"weekly", "progress", "deploy", "build"} <= verbs
    for where, args in commands:
        args = [a.replace("%i", "pks02-2024") for a in args]
        ctx = cli.make_context("hailong", list(args))
        sub = cli.get_command(ctx, args[0])
        assert sub is not None, (where, args)
        sub.make_context(args[0], list(args[1:]), parent=ctx)  # raises on an unknown option
    weekly = [a for _, a in commands if a[0] == "weekly"]
    assert weekly and all("--deploy" in a for a in weekly)


def test_apps_script_manifest_and_clasp_files():
    folder = ROOT / "collector" / "apps_script"
    manifest = json.loads((folder / "appsscript.json").read_text(encoding="utf-8"))
    assert manifest["webapp"] == {"executeAs": "USER_DEPLOYING", "access": "ANYONE_ANONYMOUS"}
    assert manifest["runtimeVersion"] == "V8" and manifest["timeZone"] == "Asia/Ho_Chi_Minh"
    clasp = json.loads((folder / ".clasp.json.example").read_text(encoding="utf-8"))
    assert set(clasp) >= {"scriptId", "rootDir"} and clasp["rootDir"] == "."
    rules = [line for line in (folder / ".claspignore").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert rules == ["**/**", "!Code.gs", "!appsscript.json"]  # all but the two files


def test_clasp_pushes_the_script_and_manifest_only(tmp_path):
    """clasp reads .clasp.json and .claspignore offline; package.json installs it for the tests
    (or HAILONG_CLASP=path, or a global install)."""
    local = ROOT / "node_modules" / ".bin" / "clasp"  # package.json: `make node` installs it
    clasp = os.environ.get("HAILONG_CLASP") or (str(local) if local.exists() else None) \
        or shutil.which("clasp")
    if not clasp:
        pytest.skip("clasp is not installed (npm install -g @google/clasp)")
    project = tmp_path / "apps_script"
    shutil.copytree(ROOT / "collector" / "apps_script", project,
                    ignore=shutil.ignore_patterns(".clasp.json"))
    shutil.copy(project / ".clasp.json.example", project / ".clasp.json")
    done = subprocess.run([clasp, "show-file-status", "--json"], cwd=project, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(status["filesToPush"]) == ["Code.gs", "appsscript.json"]
