"""First contentful paint of the citizen's survey page on slow 3G, measured in Chromium.

Builds the heaviest shipped survey (sipas-xa-2020), serves it with `hailong serve` on
127.0.0.1 and loads a unit page N times under Lighthouse's mobile profile through the
DevTools protocol: 300 ms round trip, 400 kbit/s, CPU 6× slower. Prints each run and the median
(the test asserts the best of three is within 1.5 s; this prints what a shared machine gives).

    .venv/bin/python bench/first_paint_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import PHONE, chromium  # noqa: E402

from hailong.collect.build import build_site  # noqa: E402
from hailong.collect.serve import make_server  # noqa: E402
from hailong.survey.load import load_survey  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    survey = load_survey(ROOT / "surveys" / "sipas-xa-2020")
    today = dt.date.today()  # open today, so the page shows its form
    survey.start, survey.end = today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        build_site([survey], out)
        server = make_server([survey], out, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/{survey.id}/u/{survey.units[0].code}/"
        times = []
        try:
            with chromium() as browser:
                for _ in range(args.runs):
                    context = browser.new_context(**PHONE)
                    page = context.new_page()
                    cdp = context.new_cdp_session(page)
                    cdp.send("Network.enable")
                    cdp.send("Network.emulateNetworkConditions", {
                        "offline": False, "latency": 300,
                        "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8})
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})
                    page.goto(url, wait_until="load")
                    times.append(page.evaluate(
                        "performance.getEntriesByName('first-contentful-paint')[0].startTime"))
                    context.close()
        finally:
            server.shutdown()
            server.server_close()
    print(f"first contentful paint, survey page, slow 3G + 6x CPU: runs "
          f"{', '.join(f'{t:.0f}' for t in times)} ms; median {statistics.median(times):.0f} ms")


if __name__ == "__main__":
    main()
