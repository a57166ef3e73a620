"""Benchmark of `hailong score` on a national responses file, beside a DuckDB reference.

Generates N responses over M units across a whole year (not timed), then runs, each in its own
process so each has its own peak memory (os.wait4's ru_maxrss):
- the whole `hailong score` command (read, validate, dedupe, score, participation, files);
- a DuckDB query doing a lighter version of the same work on the same file: read, check the
  survey, unit, answers and window, drop replays and device repeats, per-unit satisfaction
  index, responses.csv and ranking.csv written (no reasons, no intervals, no conservation);
- the engine score had before DuckDB, frozen under tests/reference_engine (issue 26), whose data
  files must be the same bytes as score's: compared file by file (run.json minus its id and
  time), unless --no-compare;
then, unless --no-stages, times each stage of score in this process to show where time goes.
Targets (issue 26): 1,000,000 rows over 10,600 units, a 365-day window, 15 scale questions,
2% replays: the command within 2.5× the DuckDB reference of the same run (the faster of the
two) and under 1 GiB; 10,000,000 rows within 2.5× and under 2.5 GiB.

    .venv/bin/python bench/score_bench.py [--responses N] [--units M] [--questions Q] [--seed S]
                                          [--no-stages] [--no-compare]
                                          [--existing FILE --survey DIR]

--existing FILE --survey DIR reuses a responses file made before (e.g. 10M rows at /work/big)
instead of generating one; its records are counted (hailong.csvtext.digest), which picks the
target, unless --responses gives them. The per-stage breakdown reads the whole file in one process, so it is skipped
above 2M rows: score itself reads in chunks (hailong.score.pipeline).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BLOCKS = ["tiep-can", "thu-tuc", "cong-chuc", "ket-qua", "phan-anh"]
START, END = "2025-01-01", "2025-12-31"  # a whole year: 365 survey days
EPOCH = 1735664400  # 2025-01-01 00:00 +07:00
DAYS = 365
CHUNK = 1_000_000


def write_survey(folder: Path, units: int, questions: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        'id = "bench"', 'title = "Khảo sát đo tốc độ"', "year = 2025",
        'respondent_types = ["individual", "organization"]',
        "[window]", f'start = "{START}"', f'end = "{END}"',
    ]
    for i, b in enumerate(BLOCKS):
        lines += ["[[blocks]]", f'id = "{b}"', f'title = "Khối {i + 1}"', f"weight = {1 + i % 2}"]
    for q in range(questions):
        lines += ["[[questions]]", f'id = "q{q + 1}"', f'block = "{BLOCKS[q % len(BLOCKS)]}"',
                  f'text = "Câu hỏi {q + 1}"']
    lines += ["[[questions]]", 'id = "gop_y"', f'block = "{BLOCKS[0]}"', 'text = "Góp ý"',
              'type = "text"']
    (folder / "survey.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    codes = "\n".join(f"U{i:05d},Xã số {i},Tỉnh {i % 34}" for i in range(units))
    (folder / "units.csv").write_text("code,name,parent\n" + codes + "\n", encoding="utf-8")


@dataclass(frozen=True)
class Form:
    """What a generated answer holds: scale question ids, choice questions and their options,
    and text questions (left empty). Default: write_survey's q1…qN and gop_y."""

    scale: list[str]
    choices: dict[str, list[str]] = field(default_factory=dict)
    texts: list[str] = field(default_factory=lambda: ["gop_y"])

    @classmethod
    def of(cls, survey) -> Form:
        return cls([q.id for q in survey.scale_questions],
                   {q.id: list(q.options) for q in survey.questions if q.type == "choice"},
                   [q.id for q in survey.questions if q.type == "text"])


def write_responses(path: Path, n: int, units: int, questions: int, seed: int,
                    codes: list[str] | None = None, survey_id: str = "bench",
                    form: Form | None = None, start: int = EPOCH, days: int = DAYS) -> None:
    """Realistic enough: 2% resubmissions (replays), 1% device repeats, 0.5% invalid rows,
    spread over `days` days from `start` (Unix seconds, default the year of write_survey);
    written a million rows at a time to keep the generator small. `codes`: the units' codes
    (default U00000, U00001, …, as write_survey makes them); `form`: the questions (default
    write_survey's `questions` scale questions)."""
    names = np.array(codes if codes is not None else [f"U{i:05d}" for i in range(units)], dtype=object)
    form = form or Form([f"q{q + 1}" for q in range(questions)])
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.integers(0, days * 86400, n)) + start
    quality = rng.random(len(names)) * 0.5 + 0.4  # each unit's chance of a satisfied answer
    with open(path, "wb") as fh:
        for first in range(0, n, CHUNK):
            fh.write(_chunk(rng, first, seconds[first:first + CHUNK], n, names, form,
                            quality, header=first == 0, survey_id=survey_id))


def _chunk(rng, first: int, seconds, n: int, names: np.ndarray, form: Form, quality,
           header: bool, survey_id: str) -> bytes:
    m = len(seconds)
    at = np.arange(first, first + m)
    unit = rng.integers(0, len(names), m)
    codes = names[unit]
    odd = rng.random(m) < 0.01  # a few codes as people type them: lower case
    codes[odd] = np.char.lower(codes[odd].astype(str)).astype(object)
    stamps = (np.datetime64("1970-01-01T07:00:00") + seconds.astype("timedelta64[s]"))
    submitted = np.char.add(np.datetime_as_string(stamps, unit="s").astype(str), "+07:00")
    rid = np.char.add("r", at.astype(str))
    replay = rng.random(m) < 0.02
    rid[replay] = np.char.add("r", np.maximum(at[replay] - 5, 0).astype(str))
    device = np.char.add("d", rng.integers(0, int(n * 0.99), m).astype(str))
    rtype = np.where(rng.random(m) < 0.6, "individual", "organization")
    columns = {
        "submitted_at": submitted, "response_id": rid, "survey_id": np.full(m, survey_id),
        "unit_code": codes.astype(str), "respondent_type": rtype,
        "respondent_key": np.full(m, ""), "device_id": device, "ticket": np.full(m, ""),
        "started_at": submitted,
    }
    for qid in form.scale:
        p = quality[unit]
        answer = np.where(rng.random(m) < p, rng.integers(4, 6, m), rng.integers(1, 4, m))
        answer[rng.random(m) < 0.05] = 0
        text = answer.astype(str)
        text[answer == 0] = ""
        columns[qid] = text
    columns[form.scale[0]][rng.random(m) < 0.005] = "7"
    for qid, options in form.choices.items():
        columns[qid] = np.array(options, dtype=object)[rng.integers(0, len(options), m)].astype(str)
    for qid in form.texts:
        columns[qid] = np.full(m, "")
    columns["comment"] = np.full(m, "")
    table = pa.table({k: pa.array(v.tolist() if v.dtype == object else v)
                      for k, v in columns.items()})
    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(quoting_style="needed", include_header=header))
    return sink.getvalue().to_pybytes()


def duckdb_reference(folder: Path, raw: Path, out: Path, questions: int, light: bool) -> str:
    """The lighter version of score's work in DuckDB (see the module doc). `light`: lighter
    still, replays only and ranking.csv only (no responses.csv), the reference the target
    is held to: the stricter of the two."""
    import duckdb

    out.mkdir(parents=True, exist_ok=True)
    qs = [f"q{i + 1}" for i in range(questions)]
    con = duckdb.connect()
    con.execute(f"SET threads = {os.cpu_count() or 1}")
    con.execute(f"CREATE TABLE units AS SELECT code, name FROM read_csv('{folder / 'units.csv'}', "
                "all_varchar = true)")
    answers_ok = " AND ".join(f"coalesce(trim({q}), '') IN ('', '0', '1', '2', '3', '4', '5')"
                              for q in qs)
    # in steps, each a table: one query of nested CTEs with row_number() OVER () ran 4× slower
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{raw}', all_varchar = true, "
                "header = true)")
    con.execute(f"""
        CREATE TABLE valid AS
        SELECT raw.rowid AS row, raw.* REPLACE (u.code AS unit_code),
               CAST(submitted_at AS TIMESTAMPTZ) AS t
        FROM raw JOIN units u ON upper(trim(raw.unit_code)) = upper(u.code)
        WHERE coalesce(survey_id, '') IN ('', 'bench') AND {answers_ok}
          AND CAST(submitted_at AS TIMESTAMPTZ) >= TIMESTAMPTZ '{START} 00:00:00+07'
          AND CAST(submitted_at AS TIMESTAMPTZ) < TIMESTAMPTZ '{END} 00:00:00+07' + INTERVAL 1 DAY
    """)
    con.execute("""
        CREATE TABLE accepted AS
        WITH first_form AS (
            SELECT * FROM valid
            QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY t, row) = 1
        )
        SELECT * FROM first_form
    """ + ("" if light else """
        QUALIFY coalesce(device_id, '') = ''
             OR row_number() OVER (PARTITION BY unit_code, device_id ORDER BY t, row) = 1
    """))
    if not light:
        con.execute(f"COPY (SELECT * EXCLUDE (row, t) FROM accepted ORDER BY row) TO "
                    f"'{out / 'responses.csv'}' (HEADER)")
    per_q = ", ".join(
        f"100.0 * count(*) FILTER (WHERE try_cast({q} AS INT) >= 4) / "
        f"nullif(count(*) FILTER (WHERE try_cast({q} AS INT) BETWEEN 1 AND 5), 0) AS {q}"
        for q in qs)
    index = "(" + " + ".join(f"coalesce({q}, 0)" for q in qs) + f") / {len(qs)}"
    con.execute(f"""
        COPY (
            WITH per_unit AS (SELECT unit_code, count(*) AS n, {per_q} FROM accepted GROUP BY 1)
            SELECT rank() OVER (ORDER BY round({index}, 2) DESC) AS rank, u.code, u.name,
                   coalesce(n, 0) AS n, round({index}, 2) AS index
            FROM units u LEFT JOIN per_unit p ON p.unit_code = u.code ORDER BY rank, u.code
        ) TO '{out / 'ranking.csv'}' (HEADER)
    """)
    kept = con.execute("SELECT count(*) FROM accepted").fetchone()[0]
    return f"{kept:,} accepted"


def measured(args: list[str]) -> tuple[float, float, float, str]:
    """(wall seconds, CPU seconds, peak MiB, first line of stdout) of a child process, reaped
    with wait4 so its own ru_maxrss is read (not the largest of all children). CPU time is
    shown beside wall time because on a shared machine wall time also counts the others."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(map(str, args[:4]))}… failed:\n{err.read().decode()}")
        lines = out.read().decode().strip().splitlines()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines[0] if lines else ""


def stage_breakdown(folder: Path, raw: Path, tmp: Path) -> None:
    from hailong.ingest.responses import read_responses
    from hailong.layout import Layout
    from hailong.score.dedupe import dedupe
    from hailong.score.participation import write_reports
    from hailong.score.queries import csv_bytes
    from hailong.score.scoring import rank_units
    from hailong.score.signals.run import find_signals
    from hailong.score.validate import SUBMITTED, validate
    from hailong.survey.load import load_survey

    survey = load_survey(folder)
    stages = []

    def timed(name, fn, *a, **k):
        w, c = time.perf_counter(), time.process_time()
        result = fn(*a, **k)
        stages.append((name, time.perf_counter() - w, time.process_time() - c))
        return result

    read = timed("read", read_responses, raw, survey)
    valid, quarantine = timed("validate", validate, read.frame, survey)
    kept, duplicates = timed("dedupe", dedupe, valid, survey)
    accepted = kept[survey.response_columns]
    timed("score", rank_units, accepted, survey)
    timed("signals", find_signals, accepted, survey)
    timed("participation", write_reports, survey, Layout(tmp / "part", survey.id), accepted,
          times=kept[SUBMITTED])
    timed("csv text", csv_bytes, accepted)
    print("  stages, in this process:")
    for name, wall, cpu in stages:
        print(f"    {name:<14} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
    print(f"    peak memory of this process: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


def frozen_score(folder: Path, raw: Path, out: Path) -> str:
    """The engine before DuckDB (tests/reference_engine) on the same file."""
    sys.path.insert(0, str(ROOT / "tests"))
    from reference_engine.score.pipeline import score

    from hailong.survey.load import load_survey

    return score(load_survey(folder), out, raw).splitlines()[0]


def different_files(folder: Path, ours: Path, frozen: Path) -> list[str]:
    """The data files (and run.json's records, minus id and time) that are not the same bytes."""
    import hashlib
    import json

    from hailong.survey.load import load_survey

    sid = load_survey(folder).id
    a, b = ours / sid / "data", frozen / sid / "data"
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    differ = []
    for name in names:
        if not (a / name).is_file() or not (b / name).is_file():
            differ.append(f"{name} (only in one)")
        elif name == "run.json":
            docs = [json.loads((d / name).read_text("utf-8")) for d in (a, b)]
            for doc in docs:
                doc.pop("id"), doc.pop("time")
            if docs[0] != docs[1]:
                differ.append(name)
        else:
            digests = []
            for d in (a, b):
                h = hashlib.sha256()
                with open(d / name, "rb") as fh:
                    for block in iter(lambda fh=fh: fh.read(1 << 24), b""):
                        h.update(block)
                digests.append(h.digest())
            if digests[0] != digests[1]:
                differ.append(name)
    return differ


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--responses", type=int, default=None,
                    help="responses to generate (default 1,000,000); with --existing, the "
                         "file's records, counted unless given (they pick the memory target)")
    ap.add_argument("--units", type=int, default=10_600)
    ap.add_argument("--questions", type=int, default=15)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown")
    ap.add_argument("--existing", type=Path, help="a responses CSV made before (not generated)")
    ap.add_argument("--survey", type=Path, help="the survey folder of --existing")
    ap.add_argument("--generate-only", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--duckdb-only", nargs=3, type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--light", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-compare", action="store_true",
                    help="skip the frozen engine and the byte comparison with it")
    ap.add_argument("--frozen-only", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.responses is None:
        # a file made before says itself which target applies (1 GiB up to 2M rows, else 2.5)
        from hailong.csvtext import digest

        args.responses = digest(args.existing)[0] if args.existing else 1_000_000
    if args.generate_only:
        write_responses(args.generate_only, args.responses, args.units, args.questions, args.seed)
        return
    if args.duckdb_only:
        print(duckdb_reference(*args.duckdb_only, args.questions, args.light))
        return
    if args.frozen_only:
        print(frozen_score(*args.frozen_only))
        return

    with tempfile.TemporaryDirectory(prefix="hailong-bench-") as tmp:
        tmp = Path(tmp)
        if args.existing:
            if not args.survey:
                raise SystemExit("--existing needs --survey DIR (the file's survey folder)")
            folder, raw = args.survey, args.existing
            made = "made before"
        else:
            folder = tmp / "bench"
            write_survey(folder, args.units, args.questions)
            raw = tmp / "raw.csv"
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--generate-only", str(raw),
                            "--responses", str(args.responses), "--units", str(args.units),
                            "--questions", str(args.questions), "--seed", str(args.seed)],
                           check=True)
            made = f"generated in {time.perf_counter() - t:.0f} s, not timed"
        size = raw.stat().st_size / 2**20
        print(f"score: {args.responses:,} responses over {args.units:,} units, {DAYS} days, "
              f"{args.questions} scale questions, 2% replays: {size:,.0f} MiB of CSV ({made})")

        refs = []
        for light, name in ((False, "DuckDB, validate+dedupe+rank+files"),
                            (True, "DuckDB, light: replays, ranking only")):
            refs.append(measured(
                [sys.executable, __file__, "--duckdb-only", str(folder), str(raw),
                 str(tmp / "duck"), "--questions", str(args.questions)] + (["--light"] * light)))
            w, c, m, line = refs[-1]
            print(f"  {name:<37} {w:6.2f} s wall {c:6.2f} s CPU  peak {m:6,.0f} MiB  ({line})")
        d_wall = min(r[0] for r in refs)
        h_wall, h_cpu, h_peak, h_line = measured(
            [sys.executable, "-m", "hailong", "score", str(folder), "--responses", str(raw),
             "--out", str(tmp / "out")])
        print(f"  {'hailong score (the whole command)':<37} {h_wall:6.2f} s wall {h_cpu:6.2f} s CPU  "
              f"peak {h_peak:6,.0f} MiB  ({h_wall / d_wall:.1f}× the lighter reference's wall time)")
        print(f"    {h_line}")
        limit = 1.0 if args.responses <= 2_000_000 else 2.5  # GiB
        ok = h_wall <= 2.5 * d_wall and h_peak < limit * 1024
        print(f"  target (within 2.5× the faster DuckDB reference, {h_wall / d_wall:.2f}×; under "
              f"{limit} GiB, {h_peak / 1024:.2f} GiB): {'met' if ok else 'NOT met'}")
        if not args.no_compare:
            f_wall, f_cpu, f_peak, _ = measured(
                [sys.executable, __file__, "--frozen-only", str(folder), str(raw),
                 str(tmp / "frozen")])
            print(f"  {'frozen engine (before DuckDB)':<37} {f_wall:6.2f} s wall {f_cpu:6.2f} s CPU  "
                  f"peak {f_peak:6,.0f} MiB")
            differ = different_files(folder, tmp / "out", tmp / "frozen")
            print("  data files byte-identical to the frozen engine's: "
                  + ("yes" if not differ else "NO: " + ", ".join(differ)))
        if not args.no_stages and args.responses <= 2_000_000:
            stage_breakdown(folder, raw, tmp)


if __name__ == "__main__":
    main()
