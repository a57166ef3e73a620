"""The manifests of what may leave the machine (contract v3, section 7).

Every stage that writes into `<out>/site/` records the files it wrote, with their SHA-256, in
a manifest of its own beside the survey's output: `<out>/<id>/manifest/<part>.json`. Deploy
sends exactly what the manifests of the named surveys list for the target's audience, and
only while a file still has the bytes recorded; anything else under the site (a copy of a
private file, a planted `.env`, another survey's pages) is left out and named.

A manifest part is written whole by the one stage that owns it (build, results, progress,
entry), so a stage rerun replaces its own list and never touches another's.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hailong.errors import HailongError
from hailong.fsutil import atomic_write_text
from hailong.i18n import _

PUBLIC, STAFF = "public", "staff"
AUDIENCES = (PUBLIC, STAFF)
FORMAT = 1


@dataclass(frozen=True)
class Entry:
    path: str  # relative to <out>/site/, POSIX separators
    sha256: str
    audience: str
    part: str
    demo: bool


def manifest_dir(out: Path, survey_id: str) -> Path:
    return Path(out) / survey_id / "manifest"


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _relative(site: Path, path: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(site)).as_posix()
    except ValueError:
        raise ValueError(f"{path} is not inside {site}") from None


def record(out: Path, survey_id: str, part: str, files: Iterable[Path],
           audience: str = PUBLIC, demo: bool = False) -> Path:
    """Write the manifest `part` of a survey: every file (a path under <out>/site/) with the
    SHA-256 of its bytes now. Replaces that part's earlier list whole."""
    if audience not in AUDIENCES:
        raise ValueError(audience)
    site = Path(out) / "site"
    listed = {}
    for f in files:
        rel = _relative(site, f)
        listed[rel] = digest(site / rel)
    doc = {"format": FORMAT, "survey": survey_id, "part": part, "audience": audience,
           "demo": bool(demo), "files": dict(sorted(listed.items()))}
    target = manifest_dir(out, survey_id) / f"{part}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(doc, ensure_ascii=False, indent=0))
    return target


def record_tree(out: Path, survey_id: str, part: str, root: Path, audience: str = PUBLIC,
                demo: bool = False) -> Path:
    """Record every regular file under `root` (a folder of the site this stage owns whole)."""
    files = []
    for top, _dirs, names in os.walk(root):
        files += [Path(top) / n for n in names if os.path.isfile(os.path.join(top, n))
                  and not os.path.islink(os.path.join(top, n))]
    return record(out, survey_id, part, files, audience, demo)


def forget(out: Path, survey_id: str, part: str) -> None:
    """Drop a part (its files are gone, e.g. a stage that no longer writes them)."""
    (manifest_dir(out, survey_id) / f"{part}.json").unlink(missing_ok=True)


def entries(out: Path, survey_id: str) -> list[Entry]:
    """Every file the survey's manifests list, every part and audience."""
    folder = manifest_dir(out, survey_id)
    found: list[Entry] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            audience, part, demo = doc["audience"], doc["part"], bool(doc.get("demo"))
            files = doc["files"]
            if audience not in AUDIENCES or not isinstance(files, dict):
                raise ValueError
        except (OSError, ValueError, KeyError, TypeError):
            raise HailongError(_("{path}: the list of published files cannot be read; run hailong "
                                 "build and publish again to write it", path=path)) from None
        for rel, sha in files.items():
            if not isinstance(rel, str) or rel.startswith(("/", "../")) or "/../" in rel:
                raise HailongError(_("{path}: the list of published files names '{file}', which "
                                     "is outside the site; run hailong build again", path=path,
                                     file=rel))
            found.append(Entry(rel, str(sha), audience, part, demo))
    return found


def rehash(out: Path, files: Iterable[str]) -> None:
    """A shared file (the site index, a landing page) was rewritten: every manifest of this
    output folder that lists it gets its new SHA-256, so it is still sent."""
    wanted = set(files)
    if not wanted:
        return
    site = Path(out) / "site"
    sums = {rel: digest(site / rel) for rel in wanted if (site / rel).is_file()}
    for path in sorted(Path(out).glob("*/manifest/*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            listed = doc["files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # entries() names a damaged manifest when it matters
        hit = [rel for rel in wanted if rel in listed and rel in sums and listed[rel] != sums[rel]]
        if hit:
            listed.update({rel: sums[rel] for rel in hit})
            atomic_write_text(path, json.dumps(doc, ensure_ascii=False, indent=0))
