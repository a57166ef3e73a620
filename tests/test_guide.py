"""The staff guide (docs/huong-dan/) and the README, run as written.

The guide's pages run in their order, in one copy of the repository (each goes on from the
one before). Every ```sh block of a page runs, in the page's order, as one bash script from the
root of that copy (the shipped surveys, deploy/ and scripts/, with the default output/),
with the project's .venv/bin first on PATH as `make setup` leaves it. A line ending in
`# → báo lỗi` must fail with one line on stderr (the guide shows what a mistake looks like); a
line ending in `# (Ctrl+C để dừng)` must still be running after a few seconds (a server).
`make test` itself is what CI runs, so the README's `make test` line is not run again here.

The screenshots of the guide are made here from the pages the commands built: an HTML comment
`<!-- ảnh: anh/NAME.png PATH WIDTH -->` next to an image renders PATH (relative to the copy's
root; a .pdf goes through pdftoppm) at WIDTH px in Chromium. With HAILONG_GUIDE_IMAGES=1 the
pictures are written into docs/huong-dan/anh/ (`make guide-images`), else into a temporary
folder and only checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "huong-dan"
PAGES = sorted(p for p in GUIDE.glob("*.md") if p.name != "README.md")
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)
BLOCK = re.compile(r"^```(sh|toml)\n(.*?)^```", re.S | re.M)
PASTE = "# tệp: "
PICTURE = re.compile(r"<!-- ảnh: (\S+) (\S+) (\d+) -->")
FAILS, SERVER = "# → báo lỗi", "# (Ctrl+C để dừng)"
KEY = "Tq7Vb2Lm9Xc4Rz8Np3Hw6Jd1Fs5Gk0Ye"
COPIED = ("surveys", "deploy", "scripts", "site", "collector")


def script(markdown: str) -> str:
    """The page's sh blocks as one bash script, expected failures and servers checked; a toml
    block that names its file (`# tệp: PATH`) is pasted into that file where it stands, as the
    page tells staff to do."""
    lines = ["set -euo pipefail"]
    for kind, block in BLOCK.findall(markdown):
        if kind == "toml":
            if block.startswith(PASTE):
                lines.append(f"python3 {Path(__file__).resolve()} paste <<'HAILONG_TOML'\n"
                             f"{block}HAILONG_TOML")
            continue
        for line in block.splitlines():
            text = line.strip()
            if not text or text.startswith("#") or text.split("#")[0].strip() == "make test":
                continue
            if text.endswith(FAILS):
                command = text[: -len(FAILS)].strip()
                lines.append(f"if {command} 2> .err; then echo 'should have failed: {command}' >&2; "
                             "exit 1; fi; ! grep -q Traceback .err || { cat .err >&2; exit 1; }")
            elif text.endswith(SERVER):
                command = text[: -len(SERVER)].strip()
                lines.append(f"{{ timeout 6 {command} > .server 2>&1; s=$?; }} || s=$?; "
                             "[ \"$s\" -eq 124 ] || { cat .server >&2; exit 1; }")
            else:
                lines.append(text)
    return "\n".join(lines) + "\n"


def paste(block: str) -> None:
    """Write the settings of `block` into the file its first line names: each `key = value`
    replaces the same key in the same [table] (top level before any table), and the `SỬA:`
    mark of the comment lines just above it is removed, as a person does after checking."""
    first, _nl, body = block.partition("\n")
    path = Path(first[len(PASTE):].strip())
    if not path.exists():  # a new file: written as shown
        path.write_text(body, encoding="utf-8")
        return
    lines = path.read_text(encoding="utf-8").splitlines()
    table = ""
    wanted: dict[tuple[str, str], str] = {}
    for line in body.splitlines():
        if re.match(r"^\[[^\[].*\]$", line.strip()):
            table = line.strip()
        elif "=" in line and not line.lstrip().startswith("#"):
            wanted[table, line.split("=", 1)[0].strip()] = line
    table = ""
    done = set()
    last: dict[str, int] = {}  # table -> the index of its last line that holds a setting
    for i, line in enumerate(lines):
        if re.match(r"^\[[^\[].*\]$", line.strip()):
            table = line.strip()
            last[table] = i
        elif line.lstrip().startswith("[["):
            table = "[[]]"
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if key is not None:
            last[table] = i
        if key is not None and (table, key) in wanted:
            lines[i] = wanted[table, key]
            done.add((table, key))
            j = i - 1
            while j >= 0 and lines[j].lstrip().startswith("#"):
                lines[j] = lines[j].replace("SỬA: ", "").replace("SỬA:", "")
                j -= 1
    # a setting the file does not have yet goes at the end of its table
    for table_key in sorted(set(wanted) - done, key=lambda tk: -last.get(tk[0], -1)):
        assert table_key[0] in last, f"{path}: no table {table_key[0]} to add {table_key[1]} to"
        lines.insert(last[table_key[0]] + 1, wanted[table_key])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def sandbox(tmp: Path) -> Path:
    """A copy of the repository as a clone has it, with the project's .venv beside it."""
    root = tmp / "hailong"
    root.mkdir()
    for name in COPIED:
        shutil.copytree(ROOT / name, root / name, copy_function=shutil.copy2,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    for name in ("Makefile", "requirements.txt", "requirements-dev.txt", "pyproject.toml",
                 "README.md"):
        shutil.copy2(ROOT / name, root / name)
    os.symlink(Path(sys.executable).parent.parent, root / ".venv")
    return root


def run_page(page: Path, root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "HAILONG_SIGNING_KEY": KEY, "PYTHONPATH": str(ROOT)}
    env.pop("HAILONG_LANG", None)  # staff read Vietnamese
    return subprocess.run(["bash", "-c", script(page.read_text(encoding="utf-8"))], cwd=root,
                          env=env, capture_output=True, text=True, timeout=1200)


def pictures(page: Path, root: Path, folder: Path) -> list[Path]:
    made = []
    wanted = PICTURE.findall(page.read_text(encoding="utf-8"))
    if not wanted:
        return made
    with chromium() as browser:
        for name, source, width in wanted:
            target = folder / Path(name).name
            path = root / source
            assert path.exists(), f"{page.name}: {source} was not made by the page's commands"
            if path.suffix == ".pdf":
                stem = target.with_suffix("")
                subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1",
                                "-singlefile", str(path), str(stem)], check=True, timeout=120)
            else:
                context = browser.new_context(viewport={"width": int(width), "height": 800},
                                              locale="vi-VN")
                tab = context.new_page()
                tab.goto(path.as_uri())
                tab.screenshot(path=str(target), full_page=False)
                context.close()
            assert target.stat().st_size > 2_000  # a picture, not an empty frame
            made.append(target)
    return made


@pytest.fixture(scope="module")
def guide_root(tmp_path_factory) -> Path:
    """One copy of the repository for the whole guide: its pages go on from each other, as a
    person reading it in order does (page 3 prints the posters of the survey page 2 made)."""
    return sandbox(tmp_path_factory.mktemp("guide"))


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_command_of_the_guide_runs_as_written(page, guide_root, tmp_path):
    done = run_page(page, guide_root)
    assert done.returncode == 0, f"{page.name}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    folder = GUIDE / "anh" if os.environ.get("HAILONG_GUIDE_IMAGES") else tmp_path / "anh"
    folder.mkdir(exist_ok=True)
    for picture in pictures(page, guide_root, folder):
        assert picture.is_file()


def test_the_guide_is_vietnamese_and_its_pictures_exist():
    assert PAGES, "docs/huong-dan/ has no page"
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", text), page.name
        for name, _source, _width in PICTURE.findall(text):
            assert (GUIDE / name).is_file(), f"{page.name}: run make guide-images to make {name}"
            assert f"]({name})" in text, f"{page.name}: {name} is made but not shown"


def test_the_readme_commands_run_as_written(tmp_path):
    """The README's first lines: `make demo` in a fresh copy (the .venv is the project's)."""
    root = sandbox(tmp_path)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = SH_BLOCK.findall(readme)[0]
    assert "make demo" in first and "make test" in first
    done = run_page(ROOT / "README.md", root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (root / "output" / "site" / "sipas-xa-2020" / "ket-qua" / "index.html").is_file()


if __name__ == "__main__":  # the paste step of a page's script (see script)
    if sys.argv[1:] == ["paste"]:
        paste(sys.stdin.read())
