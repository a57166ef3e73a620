"""Benchmark: the survey pages and QR kit of a national survey (10,600 units).

Prints the time to build the pages cold and warm (nothing changed), the QR codes (SVG + PNG)
cold and warm, posters for a small subset, and the weight of one survey page with what it loads.
Target (issue 3): pages + SVG + PNG QR for 10,600 units under 60 s cold and under 5 s warm.
Target (issue 10): `hailong qr` with posters (the whole kit, cold) for 10,600 units under 90 s:
`--posters 10600` times it on its own output folder, with the CPU used, and whether it is met;
`--posters-only` skips the pages and the QR timings above.

    .venv/bin/python bench/site_bench.py [--units N] [--posters N] [--posters-only] [--keep DIR] [--no-qr]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hailong.survey.load import load_survey  # noqa: E402

BASE_URL = "https://khaosat.example.gov.vn"
TARGET_COLD, TARGET_WARM = 60.0, 5.0
TARGET_KIT, KIT_UNITS = 90.0, 10_600  # issue 10: the QR kit with posters, cold

# A national survey in the shape of SIPAS: five blocks, twelve scored questions, two types.
TOML = """\
id = "sipas-quoc-gia"
title = "Khảo sát mức độ hài lòng của người dân, tổ chức đối với sự phục vụ của cơ quan hành chính nhà nước"
year = 2024
organizer = "Bộ Nội vụ"
respondent_types = ["individual", "organization"]

[window]
start = "2024-06-12"
end = "2024-08-31"

[collector]
kind = "apps_script"
url = "https://script.google.com/macros/s/AKfycbxEXAMPLE/exec"
{blocks}
{questions}
[[questions]]
id = "gop_y"
block = "b5"
text = "Ông/bà có góp ý gì thêm để cơ quan phục vụ tốt hơn?"
type = "text"
"""
BLOCKS = ["Tiếp cận dịch vụ", "Thủ tục hành chính", "Công chức giải quyết công việc",
          "Kết quả giải quyết", "Tiếp nhận, xử lý góp ý, phản ánh"]
QUESTIONS = [
    "Nơi ngồi chờ có đủ chỗ ngồi không?", "Trang thiết bị phục vụ có đầy đủ không?",
    "Thủ tục hành chính được niêm yết công khai, đầy đủ không?",
    "Thành phần hồ sơ phải nộp có đúng quy định không?",
    "Phí, lệ phí phải nộp có đúng quy định không?",
    "Công chức có lời nói, thái độ giao tiếp lịch sự không?",
    "Công chức có lắng nghe ý kiến của ông/bà không?",
    "Công chức có hướng dẫn kê khai hồ sơ tận tình, chu đáo không?",
    "Kết quả có được trả đúng hẹn không?", "Kết quả có đúng quy định không?",
    "Thông tin của kết quả có đầy đủ, chính xác không?",
    "Cơ quan có tiếp nhận, xử lý góp ý, phản ánh kịp thời không?",
]


def write_survey(folder: Path, n: int) -> Path:
    try:
        from hailong.demo.generate import generate_units
        units = [(u.code, u.name, u.parent) for u in generate_units(n)]
    except ImportError:  # the generator is another stage's: fall back to plain names
        units = [(f"{i:05d}", f"Xã Số {i}", f"Huyện {i // 15}") for i in range(1, n + 1)]
    blocks = "".join(f'\n[[blocks]]\nid = "b{i}"\ntitle = "{t}"\n' for i, t in enumerate(BLOCKS, 1))
    questions = "".join(
        f'\n[[questions]]\nid = "q{i}"\nblock = "b{min(5, 1 + (i - 1) * 5 // len(QUESTIONS))}"\n'
        f'text = "{t}"\nrequired = {"true" if i == 1 else "false"}\n'
        for i, t in enumerate(QUESTIONS, 1))
    folder.mkdir(parents=True)
    (folder / "survey.toml").write_text(TOML.format(blocks=blocks, questions=questions), encoding="utf-8")
    lines = ["code,name,parent"] + [f'{c},"{nm}","{p}"' for c, nm, p in units]
    (folder / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    print(f"{label:<44} {seconds:7.2f} s")
    return seconds, result


def page_weight(site: Path, page: Path) -> int:
    """Bytes of a page plus the same-site files it links (stylesheet, script)."""
    html = page.read_text(encoding="utf-8")
    total = len(html.encode("utf-8"))
    for ref in re.findall(r'(?:href|src)="([^"#?]+\.(?:css|js))"', html):
        total += (page.parent / ref).resolve().stat().st_size
    return total


def cpu_seconds() -> float:
    """CPU of this process and of every process it started that is still running or reaped
    (Chromium's renderers are reaped by its zygote, so they are read from /proc by session)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def time_kit(survey, out: Path, units: int) -> None:
    """`hailong qr` with posters, cold then warm, for the first `units` units."""
    from hailong.collect import printer
    from hailong.collect.kit import make_qr_kit

    browsers = [0.0]
    close = printer.Printer.close

    def counting_close(self):  # add up each browser's CPU before it goes
        if getattr(self, "_proc", None) is not None and self._proc.poll() is None:
            browsers[0] += session_cpu(self._proc.pid)
        close(self)

    printer.Printer.close = counting_close
    subset = dataclasses.replace(survey, units=survey.units[:units])
    print(f"load average before the kit: {open('/proc/loadavg').read().split()[0]}")
    try:
        start = cpu_seconds()
        wall, _ = timed(f"qr kit + posters, {len(subset.units)} units, cold",
                        lambda: make_qr_kit(subset, out, BASE_URL))
        used = cpu_seconds() - start + browsers[0]
        timed(f"qr kit + posters, {len(subset.units)} units, warm",
              lambda: make_qr_kit(subset, out, BASE_URL))
    finally:
        printer.Printer.close = close
    print(f"{'  CPU used (python + chromium), cold':<44} {used:7.2f} s   ({os.cpu_count()} cores)")
    verdict = ("OK" if wall < TARGET_KIT else "OVER") if len(subset.units) >= KIT_UNITS else \
        f"(target is for {KIT_UNITS:,} units)"
    print(f"{'TOTAL qr kit with posters, cold':<44} {wall:7.2f} s   (target < {TARGET_KIT:.0f} s) {verdict}")


def session_cpu(session: int) -> float:
    """CPU seconds of the processes of one session (a browser started with its own session)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += sum(int(value) for value in fields[11:15])
    return total / tick


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_600)
    parser.add_argument("--posters", type=int, default=500,
                        help=f"units in the poster subset; {KIT_UNITS} times the whole QR kit")
    parser.add_argument("--posters-only", action="store_true",
                        help="only the QR kit with posters (no pages)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--no-qr", action="store_true", help="pages only")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="hailong-site-bench-"))
    out = work / "out"
    try:
        from hailong.collect.build import build_site

        survey_dir = write_survey(work / "survey", args.units)
        print(f"site bench: {args.units} units, output in {work}")
        _, survey = timed("load survey (toml + units.csv)", lambda: load_survey(survey_dir))
        if args.posters_only:
            time_kit(survey, work / "kit", args.posters)
            return 0
        pages_cold, _ = timed("pages, cold", lambda: build_site([survey], out, base_url=BASE_URL))
        pages_warm, _ = timed("pages, warm (nothing changed)",
                              lambda: build_site([survey], out, base_url=BASE_URL))
        renamed = dataclasses.replace(survey, units=[
            dataclasses.replace(survey.units[0], name=survey.units[0].name + " (mới)"),
            *survey.units[1:]])
        timed("pages, one unit renamed", lambda: build_site([renamed], out, base_url=BASE_URL))
        timed("pages, back to the original", lambda: build_site([survey], out, base_url=BASE_URL))

        qr_cold = qr_warm = 0.0
        try:
            if args.no_qr:
                raise ImportError("--no-qr")
            from hailong.collect.qr import generate_qr_images
        except ImportError as exc:
            print(f"QR: skipped ({exc})")
        else:
            qr_cold, _ = timed("QR SVG + PNG, cold", lambda: generate_qr_images(survey, out, BASE_URL))
            qr_warm, _ = timed("QR SVG + PNG, warm", lambda: generate_qr_images(survey, out, BASE_URL))
            if args.posters:
                try:
                    from hailong.collect.posters import make_posters
                except ImportError:
                    print("posters: hailong.collect.posters not available, skipped")
                else:
                    if args.posters >= KIT_UNITS:
                        time_kit(survey, work / "kit", args.posters)
                    else:
                        subset = dataclasses.replace(survey, units=survey.units[:args.posters])
                        timed(f"posters, {args.posters} units, cold",
                              lambda: make_posters(subset, work / "posters", BASE_URL))

        site = out / "site"
        code = survey.units[0].code
        weight = page_weight(site, site / survey.id / "u" / code / "index.html")
        print(f"{'survey page + css + js (one unit)':<44} {weight / 1024:7.1f} KB  (budget 30 KB)")
        cold, warm = pages_cold + qr_cold, pages_warm + qr_warm
        print(f"{'TOTAL pages + QR, cold':<44} {cold:7.2f} s   (target < {TARGET_COLD:.0f} s)"
              f" {'OK' if cold < TARGET_COLD else 'OVER'}")
        print(f"{'TOTAL pages + QR, warm':<44} {warm:7.2f} s   (target < {TARGET_WARM:.0f} s)"
              f" {'OK' if warm < TARGET_WARM else 'OVER'}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
