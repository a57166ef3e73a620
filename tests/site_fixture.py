"""A small built site under <out>/site/ written inline, with the manifests build and publish
would record and the private files a real <out>/ holds beside it, for the deploy tests; and a
helper that reads a folder back as {path: bytes}."""

from __future__ import annotations

import os
from pathlib import Path

from hailong import sitefiles

SID = "thu-nghiem"
PRIVATE = {  # beside the site, as score, pull, links and tickets leave them
    f"{SID}/data/responses.csv": "response_id,comment\nr1,Số điện thoại của tôi 0912345678\n",
    f"{SID}/data/raw.csv": "response_id\nr1\n",
    f"{SID}/sheet.csv": "response_id\nr1\n",
    f"{SID}/links/letters.csv": "id,name,link\nHTX1,Hợp tác xã A,https://x/#k=secret\n",
    f"{SID}/tickets/issued.csv": "ticket,unit_code,date,serial\nABCD2345EFGH,X01,2024-06-12,1\n",
}


def make_site(out: Path, version: str = "1", sid: str = SID) -> Path:
    """<out>/site/ with a home page, a survey page, a unit page, a results page and assets."""
    site = out / "site"
    files = {
        "index.html": f"<!doctype html><title>Khảo sát</title><p>bản {version}</p>",
        f"{sid}/index.html": "<!doctype html><title>Khảo sát thử nghiệm</title>",
        f"{sid}/u/X01/index.html": "<!doctype html><title>Xã Tiên Điền</title><form></form>",
        f"{sid}/ket-qua/index.html": f"<!doctype html><title>Kết quả</title><p>{version}</p>",
        f"{sid}/ket-qua/ranking.csv": "\ufeffrank,unit_code\n1,X01\n",
        "static/hailong.css": "body{font-family:sans-serif}",
    }
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text, encoding="utf-8")
    # what build and publish record of the files they wrote (hailong.sitefiles)
    sitefiles.record(out, sid, "build", [site / r for r in files if "/ket-qua/" not in r])
    sitefiles.record(out, sid, "results", [site / r for r in files if "/ket-qua/" in r])
    for rel, text in PRIVATE.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
    return site


def record_all(out: Path, sid: str = SID) -> None:
    """Record every file now under the site as build and publish would (after a test wrote
    more pages into it by hand)."""
    site = out / "site"
    files = [p for p in site.rglob("*") if p.is_file()
             and (p.relative_to(site).parts[0] in (sid, "static") or p.parent == site)]
    sitefiles.record(out, sid, "build", [p for p in files if "ket-qua" not in p.parts])
    sitefiles.record(out, sid, "results", [p for p in files if "ket-qua" in p.parts])


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` (following the top-level link, as a web server does)."""
    root = Path(os.path.realpath(folder))
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.parts}
