"""Stage: publish. Render the results pages and downloads from the files `hailong score` wrote.

Everything is built into a temporary folder and swapped in whole (fsutil.replacing_dir), so
the live `<out>/site/<id>/ket-qua/` is either the previous results or the new ones, never a mix.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import gc
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock
from markupsafe import Markup, escape

from hailong import procpool, sitefiles
from hailong.collect import assets, build
from hailong.errors import HailongError
from hailong.fsutil import replacing_dir
from hailong.i18n import _
from hailong.layout import RESULTS_SEGMENT, Layout, require_survey_output, root_prefix
from hailong.publish import (
    charts,
    datafiles,
    dataset,
    downloads,
    history,
    release,
    results,
    review,
    summary,
)
from hailong.publish import steps as figure_steps
from hailong.stats import clearly_above, t975
from hailong.survey.config import RESPONDENT_TYPE_LABELS
from hailong.survey.load import Survey
from hailong.templating import environment
from hailong.ui import steps

AREA_FOLDER = "tinh"  # ket-qua/tinh/<slug>/: one ranking page per parent (a province since July 2025)
RESERVED = {AREA_FOLDER, "phuong-phap"}  # folders of ket-qua/ that a unit code may not take
QUESTION_TYPES = {"scale": "Chấm điểm", "choice": "Lựa chọn, không chấm điểm",
                  "text": "Câu hỏi mở, không chấm điểm và không công bố"}


def publish_if_scored(survey: Survey, out: Path) -> str:
    """Render the results when the survey has been scored (used by `build`); else do nothing."""
    if not Layout(Path(out), survey.id).data_file("ranking.csv").exists():
        return ""
    return publish(survey, out)


def publish(survey: Survey, out: Path, force: bool = False, live: release.Live | None = None,
            day: dt.date | None = None, run: dataset.RunInfo | None = None) -> str:
    """Render `<out>/site/<id>/ket-qua/`: the ranking, a page per unit, method and downloads.

    Refused (the site left as it was) when data/ is not one score run's complete, in-range set
    (dataset.verify; `run`: the set `weekly` verified a moment before), and when the new
    release would leave the public worse informed than the one on the site, or on the target
    `live` came from (check_not_worse). With `live` and no history kept here, the earlier
    releases come from its history.csv."""
    out = Path(out)
    layout = Layout(out, survey.id)
    ranking_path = layout.data_file("ranking.csv")
    if not ranking_path.exists():
        require_survey_output(survey, out)
        raise HailongError(_("{ranking_path}: no ranking yet; run `hailong score {path}` first",
                             ranking_path=ranking_path, path=survey.path))
    if run is None:
        run = dataset.verify(survey, layout)
    check_not_worse(survey, out, force, live)
    clash = [u.code for u in survey.units if u.code.lower() in RESERVED]
    if clash:
        raise HailongError(_("units.csv: unit code '{value}' is a reserved results folder name; "
                             "give the unit another code",
                             value=clash[0]))
    model = _model(survey, layout, live, day)
    model["run"] = run
    layout.root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(layout.root / ".publish.lock")):
        _remove_leftovers(layout)
        total = len(model["units"]) + len(model["districts"]) + 2
        with replacing_dir(layout.results, lambda old: _discard(layout, old)) as tmp, steps(_("Publishing the results"), total) as advance:
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
        static = _copy_static(layout.site)
        # what may leave the machine: every file of the results, and the shared ones they load
        sitefiles.record(out, survey.id, "results", [*_files_under(layout.results), *static],
                         demo=model["meta"]["demo"])
        # the landing page and the site index link to the results only once they exist
        build.refresh_result_links(survey, out)
    units = model["units"]
    ranked = sum(1 for u in units if u.ranked)
    return (_("published results of {units} units ({ranked} ranked, {value} responses) to "
              "{results}/index.html",
              units=len(units), ranked=ranked, value=model['meta']['responses'],
              results=layout.results))


def check_not_worse(survey: Survey, out: Path, force: bool = False,
                    live: release.Live | None = None) -> None:
    """Refuse a release that would leave the public worse informed than the one published,
    on the target `live` was read from or else on the local site (release.judge): made under
    another signing key, older than the published run, or resting on fewer accepted responses
    than publish.min_share of it (unless `force`). A setup mistake (the wrong sheet, a pull
    that lost its state, a changed key) must not replace a good ranking with a poor one."""
    layout = Layout(Path(out), survey.id)
    ranking = datafiles.read_csv(layout.data_file("ranking.csv"), ["n"])
    try:
        now = int(sum(int(v or 0) for v in ranking["n"])) if ranking is not None else 0
    except ValueError:
        raise HailongError(_("{path}: column n cannot be read; run `hailong score` again",
                             path=layout.data_file("ranking.csv"))) from None
    there = live if live is not None else release.local_live(out, survey)
    release.judge(survey, release.release_of(survey, layout, now),
                  release.live_release(there.ranking), there.where, force, local=live is None)


# -- reading ------------------------------------------------------------------------------------

def _model(survey: Survey, layout: Layout, live: release.Live | None = None,
           day: dt.date | None = None) -> dict:
    """Every figure the pages show, with withheld cells already removed."""
    ranking_path = layout.data_file("ranking.csv")
    rows = results.read_ranking(ranking_path)
    # figures move only in steps of min_cell answers from the last release (contract section 8)
    last = figure_steps.last_release(survey, layout.out, live)
    units, cells = figure_steps.published(
        survey, rows, datafiles.read_questions(layout.data_file(datafiles.QUESTIONS)), last)
    updated = dt.datetime.fromtimestamp(ranking_path.stat().st_mtime, survey.tz)
    meta = {
        "responses": sum(u.current for u in units),
        "updated": updated.isoformat(timespec="minutes"),
        "updated_text": f"{updated:%H:%M} ngày {updated:%d/%m/%Y}",
        # answers the demo made up: every page says so, and no public target takes them
        "demo": layout.demo_mark.exists(),
    }
    meta["release"] = release.release_of(survey, layout, meta["responses"], day)
    meta["run"] = release.run_facts(layout)
    out = layout.out
    series = history.series_periods(survey, out, lambda other: figure_steps.final_release(out, other))
    weekly = history.weekly_periods(survey, out)
    # the earlier releases as published (held figures repeat), never as scored
    weekly = figure_steps.as_published(
        weekly, figure_steps.published_weekly(survey, out, live, meta["release"].date))
    if live is not None and live.history is not None and not (series and weekly):
        # a machine with no history of its own (a CI runner): the live site's
        past = release.read_history_csv(live.history, live.where)
        live_series, live_weekly = release.live_periods(survey, past, meta["release"].date)
        series = series or live_series
        weekly = weekly or live_weekly
    part = results.participation(
        survey, units, datafiles.read_csv(layout.data_file("participation.csv")),
        datafiles.read_type_counts(layout.data_file(datafiles.RESPONDENT_TYPES)),
        datafiles.read_csv(layout.data_file("completion.csv")))
    review.mark(part, review.units_under_review(survey, layout.data_file("signals.csv")))
    figure_steps.hold_types(units, part, last)
    return {
        "units": units, "cells": cells, "meta": meta, "data": str(layout.data),
        "avg": results.averages(survey, units, cells),
        "districts": results.districts(units),
        "participation": part,
        "series": series, "weekly": weekly,
        "current": results_of_units(units),
    }


def results_of_units(units: list[results.UnitResult]) -> dict[str, history.Result]:
    return {u.code.upper(): history.Result(u.index if u.ranked else None, u.low if u.ranked else None,
                                           u.high if u.ranked else None, u.rank, u.band, u.n,
                                           u.rank_low, u.rank_high)
            for u in units}


# -- rendering ----------------------------------------------------------------------------------

def _bars(units: list[results.UnitResult]) -> list[charts.Bar]:
    # ◆ (and only ◆) marks the units whose rank range reaches first place, when more than one can be first
    first = sum(1 for u in units if u.may_be_first) > 1
    return [charts.Bar(("◆ " if first and u.may_be_first else "") + f"{u.rank}. {u.name}",
                       u.index, u.low, u.high, u.band_class, u.band, u.district, u.code,
                       first and u.may_be_first)
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
    env = environment()
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
    # the stylesheets inlined: nothing blocks the first paint (a results page is read once,
    # mostly from a link shared on Zalo, so a cached file would rarely be there to help)
    common = {"survey": survey, "meta": model["meta"], "districts": model["districts"],
              "inline_css": Markup(assets.inline_css(assets.SURVEY_CSS)
                                   + assets.inline_css(assets.RESULTS_CSS)),
              "bands": _band_rows(survey), "area_folder": AREA_FOLDER}

    ranking = env.get_template("results/ranking.html")
    links = _DistrictLinks(model["districts"])

    by_district: dict[str, tuple[list, list]] = {}
    for u in units:
        by_district.setdefault(u.district, ([], []))[0 if u.ranked else 1].append(u)

    def ranking_page(rel: str, district: str | None) -> tuple[str, str]:
        picked, left = (ranked, unranked) if district is None else by_district[district]
        where = f" ở {district}" if district else ""
        chart = charts.ranking_chart(
            _bars(picked), f"Chỉ số hài lòng của các đơn vị{where}",
            "Thanh ngang: chỉ số hài lòng (0–100) của từng đơn vị theo thứ tự xếp hạng; "
            "vạch ngang có hai đầu: khoảng tin cậy 95%"
            + ("; dấu ◆: đơn vị có thể đứng đầu (khoảng hạng bắt đầu từ hạng 1)."
               if sum(1 for u in picked if u.may_be_first) > 1 else "."))
        return (rel, ranking.render(
            **common, page_title="Kết quả xếp hạng" + (f" – {district}" if district else ""),
            nav="ranking", root=root_prefix(base + rel), res=_res(rel),
            responses=sum(u.n for u in picked) + sum(u.n for u in left),
            district=district, show_district=len(model["districts"]) > 1 and not district,
            ranked=picked, unranked=left, all_count=len(picked) + len(left),
            chart=Markup(chart), patterns=patterns, previous=previous, changes=changes,
            district_links=links.html(_res(rel), district),
            band_order=band_order, part=model["participation"]))

    if only_units:
        pass
    elif summary.paged(units, model["districts"]):
        # too many units for one page: a summary by province, each province its own page
        yield ("index.html", env.get_template("results/summary.html").render(
            **common, page_title="Kết quả xếp hạng", nav="ranking", root=root_prefix(base + "index.html"),
            res="", responses=sum(u.n for u in units), ranked_count=len(ranked),
            all_count=len(units), provinces=summary.provinces(units, model["districts"]),
            no_parent=summary.without_parent(units), search_file=summary.SEARCH_FILE))
    else:
        yield ranking_page("index.html", None)
    areas = model["districts"]
    for i in (range(len(areas)) if district_range is None else district_range):
        name, s, _count = areas[i]
        yield ranking_page(f"{AREA_FOLDER}/{s}/index.html", name)

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
        access_text=_access_text(survey), qtype=QUESTION_TYPES,
        example=_range_example(ranked), run=model.get("run"),
        interval=_interval_example(survey, model)))


class _DistrictLinks:
    """The filter's link to every district, on the ranking page and on each district page:
    a national survey has hundreds, so the links are escaped once per relative prefix and
    each page only marks its own (aria-current) instead of rendering them all again."""

    def __init__(self, districts: list[tuple[str, str, int]]):
        self.districts = districts
        self.parts: dict[str, list[tuple[str, str, str]]] = {}

    def html(self, res: str, current: str | None) -> Markup:
        if res not in self.parts:
            self.parts[res] = [
                (name, f'<a href="{escape(res)}{AREA_FOLDER}/{escape(s)}/index.html" data-district="{escape(name)}" '
                       f'data-slug="{escape(s)}"',
                 f'>{escape(name)} <span class="count">({escape(count)})</span></a>')
                for name, s, count in self.districts]
        return Markup("".join(head + (' aria-current="page"' if name == current else "") + tail
                              for name, head, tail in self.parts[res]))


def _range_example(ranked: list[results.UnitResult]) -> dict | None:
    """Step 8 worked through on two neighbouring units of this ranking, for the method page:
    the first unit whose range is wider than one rank, and the unit just below it."""
    for a, b in zip(ranked, ranked[1:], strict=False):
        if a.rank_low != a.rank_high and None not in (a.index, b.index, a.low, b.low):
            def side(u):
                return {"name": u.name, "index": u.index, "low": u.low, "high": u.high,
                        "width": round(u.high - u.low, 2), "rank": u.rank,
                        "rank_low": u.rank_low, "rank_high": u.rank_high}
            a_, b_ = side(a), side(b)
            return {"a": a_, "b": b_, "gap": round(a.index - b.index, 2),
                    "threshold": 0.5 * math.hypot(a_["width"], b_["width"]),
                    "is_clear": clearly_above(a.index, a.low, a.high, b.index, b.low, b.high)}
    return None


def _interval_example(survey: Survey, model: dict) -> dict | None:
    """Step 5 worked through on one unit of this survey, for the method page: from its line of
    intervals.csv (k, d, deff, effective n) and ranking.csv (index, interval), with the
    survey's D from run.json. The ranked unit with the most respondents among the informative
    ones whose figures are shown (none withheld), else any ranked unit shown."""
    run = model.get("run")
    if run is None or dataset.INTERVALS not in run.files:
        return None
    rows = datafiles.read_csv(Path(model["data"]) / dataset.INTERVALS, dataset.INTERVAL_COLUMNS)
    if rows is None:
        return None
    inputs = {str(r.unit_code).upper(): r for r in rows.itertuples(index=False)}
    shown = [u for u in model["units"] if u.ranked and None not in (u.index, u.low, u.high)
             and u.code.upper() in inputs and inputs[u.code.upper()].deff != ""]
    if not shown:
        return None
    informative = [u for u in shown if inputs[u.code.upper()].d != ""]
    u = max(informative or shown, key=lambda x: (int(inputs[x.code.upper()].k), x.code))
    r = inputs[u.code.upper()]
    k = int(r.k)
    d = float(r.d) if r.d != "" else None
    before = (d + run.design_effect) / 2 if d is not None else run.design_effect
    floor = 1 / max(run.scale_questions, 1)
    return {"name": u.name, "k": k, "index": u.index, "p": u.index / 100, "d": d,
            "D": run.design_effect, "Q": run.scale_questions, "before": before,
            "floored": before < floor, "deff": float(r.deff), "n": float(r.effective_n),
            "x": u.index / 100 * float(r.effective_n), "t": t975(k - 1), "low": u.low,
            "high": u.high}


# -- unit pages in a process pool ---------------------------------------------------------------
PARALLEL_MIN = 400  # fewer unit pages render faster here than a pool of processes starts
CHUNK = 250


def _cores() -> int:
    return procpool.cores()


def _render(kind: str, first: int, last: int) -> int:
    """Write the unit ("units") or district ("districts") pages first..last-1 (runs in a
    worker that was given the job by its initializer)."""
    survey, model, folder = procpool.job("pages")
    count = 0
    units, areas = (range(first, last), range(0)) if kind == "units" else (range(0), range(first, last))
    for rel, text in _pages(survey, model, unit_range=units, district_range=areas, others=False):
        _write(folder / rel, text.encode("utf-8"))
        count += 1
    return count


def _pages_in_pool(survey: Survey, model: dict, folder: Path, advance, meanwhile):
    """The unit and district pages, ten thousand for a national survey, on every core:
    each worker gets the model once (inherited under fork, pickled once under spawn), then
    nothing but a few numbers per task. Returns what `meanwhile()` made here while they worked."""
    # the collector of a forked worker would write to every inherited object it scans,
    # copying the parent's memory page by page: what exists now is left out of its scans
    gc.freeze()
    try:
        with procpool.executor(_cores(), procpool.set_job, ("pages", (survey, model, folder))) as pool:
            futures = [pool.submit(_render, kind, a, min(a + CHUNK, n))
                       for kind, n in (("districts", len(model["districts"])), ("units", len(model["units"])))
                       for a in range(0, n, CHUNK)]
            made = meanwhile()
            for future in concurrent.futures.as_completed(futures):
                advance(future.result())
        return made
    finally:
        gc.unfreeze()


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
    if survey.access == "sample":
        return ("Phiếu dành cho những người và tổ chức được chọn ngẫu nhiên từ danh sách đã giải "
                "quyết thủ tục; mỗi người được chọn trả lời một phiếu qua đường dẫn hoặc phiếu giấy "
                "có mã riêng.")
    if survey.access == "tickets":
        return ("Mỗi người đến làm thủ tục tại bộ phận một cửa được phát một vé có mã QR, không ghi "
                "tên, khi đã làm xong thủ tục; mỗi vé chỉ được tính một phiếu, phiếu không có vé "
                "hợp lệ không được tính. Nếu một vé được hai phiếu khác nhau trở lên dùng thì không "
                "phiếu nào trong số đó được tính, và đơn vị được ghi chú đang kiểm tra số phiếu: "
                "người giữ vé không thể trả lời thay người dân mà không bị phát hiện.")
    # issue 22: say plainly what an open survey cannot prevent, and what can
    return ("Người dân quét mã QR tại bộ phận một cửa của đơn vị và trả lời trên điện thoại. "
            "Khảo sát mở như vậy không ngăn được một người gửi nhiều phiếu từ nhiều điện thoại, "
            "rải rác trong giờ làm việc, với câu trả lời khác nhau: những phiếu đó giống hệt phiếu "
            "thật, và việc kiểm tra chỉ phát hiện được phiếu gửi dồn dập, giống hệt nhau, gửi quá "
            "nhanh, ngoài giờ hoặc từ cùng một máy. Cách khắc phục là phát vé: mỗi người làm xong "
            "thủ tục nhận một vé có mã riêng, mỗi vé chỉ được tính một phiếu, và vé bị nhiều phiếu "
            "dùng thì không phiếu nào được tính.")


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
    files = {
        "ranking.csv": downloads.ranking_csv(survey, units),
        "ranking.json": downloads.ranking_json(survey, units, meta, model["cells"],
                                               model["participation"],
                                               [*model["series"], *model["weekly"]], model["avg"],
                                               run=model.get("run")),
        "history.csv": release.history_csv([*model["series"], *model["weekly"]], model["current"],
                                           [u.code for u in units], meta["release"]),
        "ranking.xlsx": downloads.ranking_xlsx(survey, units, meta),
    }
    if summary.paged(units, model["districts"]):  # the summary's search box reads it
        files[summary.SEARCH_FILE] = summary.search_index(units)
    return files


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _remove_leftovers(layout: Layout) -> None:
    """Temporary folders of a publish that was killed before it could swap its folder in.

    Only one publish of a survey runs at a time (the lock), so any such folder is stale.
    """
    results_dir = layout.results
    if not results_dir.parent.exists():
        return
    for stale in results_dir.parent.glob(f".{results_dir.name}.*"):
        if stale.is_dir():
            _discard(layout, stale)


# Deleting 11,000 folders takes a minute on a disk mounted with `discard` (deletes wait for
# the disk): the replaced tree is moved out of the site (one rename) and deleted by a
# detached process, so publish does not wait for it and the next publish finishes the job.
SWEEP = ("import shutil, sys\nfrom pathlib import Path\n"
         "for p in Path(sys.argv[1]).iterdir():\n    shutil.rmtree(p, ignore_errors=True)\n")


def _discard(layout: Layout, tree: Path) -> None:
    try:
        layout.trash.mkdir(parents=True, exist_ok=True)
        box = Path(tempfile.mkdtemp(dir=layout.trash, prefix="results-"))
        os.replace(tree, box / "tree")
    except OSError:  # another file system: removed here and now
        shutil.rmtree(tree, ignore_errors=True)
        return
    # started through sh's `&`: the sweeper is nobody's child here (no zombie, nothing to wait for)
    subprocess.run(["sh", "-c", '"$0" -c "$1" "$2" </dev/null >/dev/null 2>&1 &',
                    sys.executable, SWEEP, str(layout.trash)], check=False)


def _copy_static(site: Path) -> list[Path]:
    """The static files under their hashed names, as build writes them: publishing alone must
    leave working pages. Earlier names are left for build to clear (survey pages built
    before may still name them; see assets.sync_static). Returns every static file of the
    site's pages, for the manifest."""
    assets.sync_static(site, clear=False)
    return [Path(site) / "static" / name for name in assets.shipped_static()]


def _files_under(folder: Path) -> list[Path]:
    return [Path(top) / name for top, _dirs, names in os.walk(folder) for name in names]
