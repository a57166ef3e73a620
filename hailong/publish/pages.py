"""Stage: publish. Render the results pages and downloads from the files `hailong score` wrote.

Everything is built into a temporary folder and swapped in whole (fsutil.replacing_dir), so
the live `<out>/site/<id>/ket-qua/` is either the previous results or the new ones, never a mix.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import multiprocessing
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from filelock import FileLock
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from hailong.collect import build
from hailong.errors import HailongError
from hailong.fsutil import atomic_write_bytes, replacing_dir
from hailong.layout import RESULTS_SEGMENT, Layout, root_prefix
from hailong.publish import charts, downloads, history, results, summary
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.survey.load import Survey
from hailong.ui import steps

SITE = Path(__file__).resolve().parents[2] / "site"
STATIC_FILES = ("results.css", "results.js")
RESERVED = {"huyen", "phuong-phap"}  # folders of ket-qua/ that a unit code may not take
QUESTION_TYPES = {"scale": "Chấm điểm", "choice": "Lựa chọn, không chấm điểm",
                  "text": "Câu hỏi mở, không chấm điểm và không công bố"}


def publish_if_scored(survey: Survey, out: Path) -> str:
    """Render the results when the survey has been scored (used by `build`); else do nothing."""
    if not Layout(Path(out), survey.id).data_file("ranking.csv").exists():
        return ""
    return publish(survey, out)


def publish(survey: Survey, out: Path) -> str:
    """Render `<out>/site/<id>/ket-qua/`: the ranking, a page per unit, method and downloads."""
    out = Path(out)
    layout = Layout(out, survey.id)
    ranking_path = layout.data_file("ranking.csv")
    if not ranking_path.exists():
        raise HailongError(f"{ranking_path}: no ranking yet; run `hailong score {survey.path}` first")
    clash = [u.code for u in survey.units if u.code.lower() in RESERVED]
    if clash:
        raise HailongError(f"units.csv: unit code '{clash[0]}' is a reserved results folder name; "
                           "give the unit another code")
    model = _model(survey, layout)
    layout.root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(layout.root / ".publish.lock")):
        _remove_leftovers(layout.results)
        total = len(model["units"]) + len(model["districts"]) + 2
        with replacing_dir(layout.results) as tmp, steps("Xuất bản kết quả", total) as advance:
            pool = _cores() > 1 and len(model["units"]) >= PARALLEL_MIN
            # rendered one at a time: memory stays flat
            none = range(0) if pool else None  # with a pool, the workers render units and areas
            for rel, text in _pages(survey, model, unit_range=none, district_range=none):
                _write(tmp / rel, text.encode("utf-8"))
                advance()
            if pool:  # the downloads are made here while the workers render
                files = _pages_in_pool(survey, model, tmp, advance, lambda: _downloads(survey, model))
            else:
                files = _downloads(survey, model)
            for name, data in files.items():
                _write(tmp / name, data)
        _copy_static(layout.site)
        # the landing page and the site index link to the results only once they exist
        build.refresh_result_links(survey, out)
    units = model["units"]
    ranked = sum(1 for u in units if u.ranked)
    return (f"published results of {len(units)} units ({ranked} ranked, "
            f"{model['meta']['responses']} responses) to {layout.results}/index.html")


# -- reading ------------------------------------------------------------------------------------

def _read_csv(path: Path) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise HailongError(f"{path}: cannot read it ({exc}); run `hailong score` again") from None


def _question_table(survey: Survey, responses: pd.DataFrame | None) -> pd.DataFrame:
    from hailong.score.scoring import question_table

    columns = ["unit_code", "question_id", "answers", "satisfied", "index"]
    if responses is None or responses.empty:
        return pd.DataFrame(columns=columns)
    return question_table(responses, survey)


def _model(survey: Survey, layout: Layout) -> dict:
    """Every figure the pages show, with withheld cells already removed."""
    ranking_path = layout.data_file("ranking.csv")
    rows = results.read_ranking(ranking_path)
    responses = _read_csv(layout.data_file("responses.csv"))
    cells = results.question_cells(survey, _question_table(survey, responses))
    units = results.unit_results(survey, rows, results.block_answers(survey, cells))
    cells = results.withhold_block_questions(survey, units, cells)
    updated = dt.datetime.fromtimestamp(ranking_path.stat().st_mtime, survey.tz)
    meta = {
        "responses": sum(u.n for u in units),
        "updated": updated.isoformat(timespec="minutes"),
        "updated_text": f"{updated:%H:%M} ngày {updated:%d/%m/%Y}",
    }
    out = layout.out
    series = history.series_periods(survey, out)
    weekly = history.weekly_periods(survey, out)
    return {
        "units": units, "cells": cells, "meta": meta,
        "avg": results.averages(survey, units, cells),
        "districts": results.districts(units),
        "participation": results.participation(
            survey, units, _read_csv(layout.data_file("participation.csv")), responses,
            _read_csv(layout.data_file("completion.csv"))),
        "series": series, "weekly": weekly,
        "current": results_of_units(units),
    }


def results_of_units(units: list[results.UnitResult]) -> dict[str, history.Result]:
    return {u.code.upper(): history.Result(u.index if u.ranked else None, u.low if u.ranked else None,
                                           u.high if u.ranked else None, u.rank, u.band, u.n)
            for u in units}


# -- rendering ----------------------------------------------------------------------------------

def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(SITE / "templates"),
                      autoescape=select_autoescape(["html"], default_for_string=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      # one publish renders thousands of pages from templates that do not change
                      # meanwhile: no stat() of every extended or imported template per page
                      auto_reload=False)
    env.filters["num"] = lambda v: charts.fmt(v)
    env.filters["pct"] = lambda v: charts.fmt(v, 0 if float(v).is_integer() else 1) + "%"
    env.filters["int_vi"] = lambda v: f"{int(v):,}".replace(",", ".")
    env.filters["weight"] = lambda v: f"{v:g}".replace(".", ",")
    env.filters["delta"] = lambda v: ("+" if v > 0 else "−" if v < 0 else "±") + charts.fmt(abs(v))
    return env


def _bars(units: list[results.UnitResult]) -> list[charts.Bar]:
    return [charts.Bar(f"{u.rank}. {u.name}", u.index, u.low, u.high, u.band_class, u.band,
                       u.district, u.code)
            for u in units if u.ranked and u.index is not None]


def _previous(model: dict) -> history.Period | None:
    """What the ranking page compares with: the last earlier period, else the last weekly run."""
    if model["series"]:
        return model["series"][-1]
    if model["weekly"]:
        return model["weekly"][-1]
    return None


def _pages(survey: Survey, model: dict, unit_range: range | None = None,
           district_range: range | None = None, others: bool = True) -> Iterator[tuple[str, str]]:
    """(path inside ket-qua/, html) of the pages: the units' pages at `unit_range` (positions
    in model["units"]; None: every unit), the district pages at `district_range` (positions in
    model["districts"]; None: every one) and, when `others`, the ranking and method pages."""
    only_units = not others
    env = _env()
    base = f"{survey.id}/{RESULTS_SEGMENT}/"
    units = model["units"]
    ranked = [u for u in units if u.ranked]
    unranked = [u for u in units if not u.ranked]
    classes = [f"band-{i}" for i in range(len(survey.bands))]
    patterns = Markup(charts.patterns(classes))
    previous = _previous(model)
    changes = {}
    if previous:
        for u in ranked:
            c = history.change(model["current"].get(u.code.upper()), previous.get(u.code))
            if c:
                changes[u.code] = c
    band_order = {b.label: len(survey.bands) - i for i, b in enumerate(survey.bands)}
    common = {"survey": survey, "meta": model["meta"], "districts": model["districts"]}

    ranking = env.get_template("results/ranking.html")

    by_district: dict[str, tuple[list, list]] = {}
    for u in units:
        by_district.setdefault(u.district, ([], []))[0 if u.ranked else 1].append(u)

    def ranking_page(rel: str, district: str | None) -> tuple[str, str]:
        picked, left = (ranked, unranked) if district is None else by_district[district]
        where = f" ở {district}" if district else ""
        chart = charts.ranking_chart(
            _bars(picked), f"Chỉ số hài lòng của các đơn vị{where}",
            "Thanh ngang: chỉ số hài lòng (0–100) của từng đơn vị theo thứ tự xếp hạng; "
            "vạch ngang có hai đầu: khoảng tin cậy 95%.")
        return (rel, ranking.render(
            **common, page_title="Kết quả xếp hạng" + (f" – {district}" if district else ""),
            nav="ranking", root=root_prefix(base + rel), res=_res(rel),
            responses=sum(u.n for u in picked) + sum(u.n for u in left),
            district=district, show_district=len(model["districts"]) > 1 and not district,
            ranked=picked, unranked=left, all_count=len(picked) + len(left),
            chart=Markup(chart), patterns=patterns, previous=previous, changes=changes,
            band_order=band_order, part=model["participation"]))

    if only_units:
        pass
    elif summary.paged(units, model["districts"]):
        # too many units for one page: a summary by province, each province its own page
        yield ("index.html", env.get_template("results/summary.html").render(
            **common, page_title="Kết quả xếp hạng", nav="ranking", root=root_prefix(base + "index.html"),
            res="", responses=sum(u.n for u in units), ranked_count=len(ranked),
            all_count=len(units), provinces=summary.provinces(units, model["districts"]),
            no_parent=summary.without_parent(units)))
    else:
        yield ranking_page("index.html", None)
    areas = model["districts"]
    for i in (range(len(areas)) if district_range is None else district_range):
        name, s, _ = areas[i]
        yield ranking_page(f"huyen/{s}/index.html", name)

    unit_tpl = env.get_template("results/unit.html")
    method_value = ("Tỉ lệ hài lòng (%)" if survey.scoring.method == "percent_satisfied"
                    else "Chỉ số (0–100)")
    value_note = ("Tỉ lệ hài lòng: phần trăm câu trả lời từ mức «"
                  f"{survey.scale.labels[survey.scale.satisfied_min - survey.scale.min]}» trở lên."
                  if survey.scoring.method == "percent_satisfied"
                  else "Chỉ số: điểm trung bình quy đổi về thang 0–100.")
    for u in (units if unit_range is None else [units[i] for i in unit_range]):
        rel = f"{u.code}/index.html"
        blocks = results.unit_blocks(survey, u, model["cells"], model["avg"])
        compare = charts.compare_chart(
            [charts.Compare(b.title, b.value, b.average, "Không công bố" if b.protected else "Chưa đủ")
             for b in blocks],
            f"{u.name}: chỉ số theo nhóm tiêu chí",
            "Thanh: chỉ số của đơn vị theo từng nhóm; vạch đứng: trung bình các đơn vị.",
            "so-sanh")
        yield (rel, unit_tpl.render(
            **common, page_title=u.name, nav="unit", root=root_prefix(base + rel), res="../",
            u=u, ranked_count=len(ranked), avg=model["avg"], blocks=blocks,
            protected_any=any(b.protected or any(q.protected for q in b.questions) for b in blocks),
            compare=Markup(compare), value_header=method_value, value_note=value_note,
            part=model["participation"][u.code], type_labels=RESPONDENT_TYPE_LABELS,
            histories=_histories(u, model)))

    if only_units:
        return
    method = env.get_template("results/method.html")
    rel = "phuong-phap/index.html"
    yield (rel, method.render(
        **common, page_title="Phương pháp", nav="method", root=root_prefix(base + rel), res="../",
        tz_label="Việt Nam" if survey.timezone == "Asia/Ho_Chi_Minh" else survey.timezone,
        respondents=", ".join(RESPONDENT_TYPE_LABELS.get(t, t).lower() for t in survey.respondent_types),
        access_text=_access_text(survey), qtype=QUESTION_TYPES, bands=_band_rows(survey)))


# -- unit pages in a process pool ---------------------------------------------------------------
PARALLEL_MIN = 400  # fewer unit pages render faster here than a pool of processes starts
CHUNK = 250
_JOB: tuple | None = None  # (survey, model, folder), inherited by the forked workers


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _render(kind: str, first: int, last: int) -> int:
    """Write the unit ("units") or district ("districts") pages first..last-1 (runs in a
    forked worker: the model is inherited)."""
    survey, model, folder = _JOB
    count = 0
    units, areas = (range(first, last), range(0)) if kind == "units" else (range(0), range(first, last))
    for rel, text in _pages(survey, model, unit_range=units, district_range=areas, others=False):
        _write(folder / rel, text.encode("utf-8"))
        count += 1
    return count


def _pages_in_pool(survey: Survey, model: dict, folder: Path, advance, meanwhile):
    """The unit and district pages, ten thousand for a national survey, on every core:
    forked workers inherit the model, so nothing but a few numbers is sent to each. Returns
    what `meanwhile()` made here while they worked."""
    global _JOB
    _JOB = (survey, model, folder)
    try:
        context = multiprocessing.get_context("fork")
        with concurrent.futures.ProcessPoolExecutor(max_workers=_cores(), mp_context=context) as pool:
            futures = [pool.submit(_render, kind, a, min(a + CHUNK, n))
                       for kind, n in (("districts", len(model["districts"])), ("units", len(model["units"])))
                       for a in range(0, n, CHUNK)]
            made = meanwhile()
            for future in concurrent.futures.as_completed(futures):
                advance(future.result())
        return made
    finally:
        _JOB = None


def _res(rel: str) -> str:
    """Relative prefix from a page inside ket-qua/ back to ket-qua/."""
    return "../" * rel.count("/")


def _band_rows(survey: Survey) -> list[dict]:
    rows = []
    upper = None
    for i, b in enumerate(survey.bands):
        text = f"từ {b.min:g}".replace(".", ",") + (f" đến dưới {upper:g}".replace(".", ",") if upper is not None else " trở lên")
        rows.append({"label": b.label, "cls": f"band-{i}", "range": text})
        upper = b.min
    return rows


def _access_text(survey: Survey) -> str:
    if survey.access == "roster":
        return "Phiếu gửi theo đường dẫn riêng cho từng người trong danh sách; mỗi người một phiếu."
    return "Người dân quét mã QR tại bộ phận một cửa của đơn vị và trả lời trên điện thoại."


def _histories(u: results.UnitResult, model: dict) -> list[dict]:
    """The unit's earlier periods and earlier weekly runs, each ending with the current result."""
    current = model["current"].get(u.code.upper())
    out = []
    for kind, periods, title, column, now in (
        ("series", model["series"], "Qua các kỳ khảo sát", "Kỳ", "Kỳ này"),
        ("weekly", model["weekly"], "Qua các lần cập nhật trong kỳ", "Ngày cập nhật", "Hiện tại"),
    ):
        if not periods:
            continue
        rows = []
        prev = None
        for p in periods:
            r = p.get(u.code)
            rows.append({"label": p.label, "result": r, "change": history.change(r, prev), "current": False})
            prev = r
        rows.append({"label": now, "result": current, "change": history.change(current, prev), "current": True})
        points = [charts.Point(row["label"], row["result"].index, row["result"].low, row["result"].high)
                  for row in rows if row["result"] and row["result"].index is not None]
        chart = (charts.trend_chart(points, f"{u.name}: chỉ số {title.lower()}",
                                    "Chấm: chỉ số hài lòng; vạch đứng: khoảng tin cậy 95%.",
                                    f"xu-huong-{kind}") if len(points) > 1 else "")
        out.append({"title": title, "column": column, "rows": rows, "chart": Markup(chart),
                    "caption": f"Chỉ số của đơn vị {title.lower()}"})
    return out


# -- files --------------------------------------------------------------------------------------

def _downloads(survey: Survey, model: dict) -> dict[str, bytes]:
    units, meta = model["units"], model["meta"]
    return {
        "ranking.csv": downloads.ranking_csv(survey, units),
        "ranking.json": downloads.ranking_json(survey, units, meta),
        "ranking.xlsx": downloads.ranking_xlsx(survey, units, meta),
    }


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _remove_leftovers(results_dir: Path) -> None:
    """Temporary folders of a publish that was killed before it could swap its folder in.

    Only one publish of a survey runs at a time (the lock), so any such folder is stale.
    """
    if not results_dir.parent.exists():
        return
    for stale in results_dir.parent.glob(f".{results_dir.name}.*"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)


def _copy_static(site: Path) -> None:
    """The results pages' own CSS and script into the site's static folder, and any shared
    file `build` would put there that is still missing (publishing alone must leave working
    pages; a file build already wrote is left as it is)."""
    for source in sorted((SITE / "static").iterdir()):
        if not source.is_file():
            continue
        target = site / "static" / source.name
        if source.name not in STATIC_FILES and target.exists():
            continue
        data = source.read_bytes()
        if not target.exists() or target.read_bytes() != data:
            atomic_write_bytes(target, data)
