"""Benchmark of `hailong deploy`: the survey pages of many units sent to each kind of target.

Builds the site of a generated survey of M units (as bench/site_bench.py, not timed), then
times the check of what may leave the machine and, for a local folder, rsync to a local folder
and git to a bare repository on disk: the first deploy, a deploy with nothing changed, and one
after a single page changed. Prints wall times and the disk used by two releases.

    .venv/bin/python bench/deploy_bench.py [--units M]
"""

from __future__ import annotations

import argparse
import functools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from site_bench import write_survey  # noqa: E402

from hailong.collect.build import build_site  # noqa: E402
from hailong.publish.deploy.common import check_site  # noqa: E402
from hailong.publish.deploy.run import deploy  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def du(path: Path) -> int:
    """Bytes on disk, each hard-linked file counted once."""
    seen, total = set(), 0
    for p in path.rglob("*"):
        st = p.lstat()
        if p.is_file() and (st.st_dev, st.st_ino) not in seen:
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_600)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        survey = load_survey(write_survey(tmp / "survey", args.units))
        out = tmp / "out"
        build_site([survey], out, base_url="https://khaosat.example.gov.vn")
        subprocess.run(["git", "init", "-q", "--bare", str(tmp / "site.git")], check=True)
        (tmp / "hailong.toml").write_text(
            '[deploy.folder]\nkind = "folder"\ndest = "www-folder"\n'
            '[deploy.rsync]\nkind = "rsync"\ndest = "www-rsync"\n'
            '[deploy.git]\nkind = "git"\nrepo = "site.git"\n', encoding="utf-8")
        seconds, site = timed(lambda: check_site(out, [survey.id]))
        size = sum((site.root / f).stat().st_size for f in site.files)
        print(f"site: {len(site.files)} files, {size / 2**20:.1f} MiB; check of what may leave: "
              f"{seconds:.2f} s")
        page = site.root / survey.id / "u" / survey.units[0].code / "index.html"
        original = page.read_bytes()
        for kind in ("folder", "rsync", "git"):
            page.write_bytes(original)
            run = functools.partial(deploy, [survey.id], out, target=kind,
                                    config=tmp / "hailong.toml")
            cold, _ = timed(run)
            same, said = timed(run)
            assert "không có gì thay đổi" in said, said
            page.write_bytes(original.replace(b"</body>", b"<!-- 2 --></body>"))
            one, _ = timed(run)
            disk = du(tmp / f"www-{kind}") if kind != "git" else du(tmp / "site.git")
            print(f"{kind:6}: first {cold:.2f} s, nothing changed {same:.2f} s, one page changed "
                  f"{one:.2f} s; on disk after two releases {disk / 2**20:.1f} MiB")
        os.sync()


if __name__ == "__main__":
    main()
