"""The citizen-facing pages as a Flask app, used at build time only (frozen into `<out>/site/`).

Routes: `/` (index of surveys), `/<id>/` (landing page), `/<id>/u/<code>/` (a unit's survey page,
the QR target) and `/<id>/cam-on/` (thank-you page). Every render gets `root`, the relative
prefix back to the site root, so the frozen site works from any host, sub-path or file://.

The page contexts are plain dicts made by pure functions (`survey_context`, `unit_context` ...):
`hailong.collect.build` renders the ten thousand unit pages from the same contexts and the same
templates in worker processes, so a page is byte-identical whichever path rendered it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hailong.collect.assets import inline_css
from hailong.layout import RESULTS_SEGMENT, Layout, root_prefix, unit_path, unit_url
from hailong.survey import config
from hailong.templating import STATIC, TEMPLATES, environment

THANKS_SEGMENT = "cam-on"
AREA_SEGMENT = "dia-ban"  # <id>/dia-ban/<n>/: the units of one parent, for large surveys
LANDING_MAX_UNITS = 300  # above this, the landing page lists areas and each area has a page
LOCAL_ENDPOINT = "api/responses"  # served at the site root by `hailong serve`
TEXT_MAXLENGTH = 1000  # characters for a free-text answer; the collectors accept more

UNIT_TEMPLATE = "survey/unit.html"
QUESTIONS_TEMPLATE = "survey/_questions.html"
LANDING_TEMPLATE = "survey/landing.html"
AREA_TEMPLATE = "survey/area.html"
THANKS_TEMPLATE = "survey/thanks.html"
INDEX_TEMPLATE = "index.html"


def _date(d) -> str:
    return d.strftime("%d/%m/%Y")


def index_entry(survey) -> dict[str, str]:
    """What the site index shows of one survey (also remembered between builds)."""
    return {"id": survey.id, "title": survey.title, "organizer": survey.organizer,
            "period": f"{_date(survey.start)} – {_date(survey.end)}"}


def has_results(out: Path | None, survey_id: str) -> bool:
    """Whether the survey has been scored, so its results pages are (or are about to be) there."""
    return bool(out) and Layout(Path(out), survey_id).data_file("ranking.csv").exists()


def with_results_flags(entries: Iterable[dict[str, Any]], out: Path | None) -> list[dict[str, Any]]:
    """Index entries, each saying whether its survey has results to link to."""
    return [{**e, "results": has_results(out, e["id"])} for e in entries]


def survey_context(survey, out: Path | None = None) -> dict[str, Any]:
    """Everything a survey page shows that does not depend on the unit (plain, picklable)."""
    labels = list(survey.scale.labels)
    scale = [(str(v), labels[i]) for i, v in enumerate(range(survey.scale.min, survey.scale.max + 1))]
    blocks = []
    number = 0
    for block in survey.blocks:
        questions = []
        for q in survey.questions:
            if q.block != block.id:
                continue
            number += 1
            if q.type == "scale":
                choices = scale
            elif q.type == "choice":
                choices = [(o, o) for o in q.options]
            else:
                choices = []
            questions.append({"id": q.id, "text": q.text, "type": q.type, "required": q.required,
                              "help": q.help, "number": number, "choices": choices})
        if questions:
            blocks.append({"id": block.id, "title": block.title, "questions": questions})
    kind = survey.collector.kind
    return {
        **index_entry(survey),
        "intro": survey.intro,
        "window": (survey.start.isoformat(), survey.end.isoformat()),  # the page closes outside it
        "dates": (_date(survey.start), _date(survey.end)),
        "access": survey.access,
        "by_device": bool(survey.dedupe.by_device),
        "types": [(t, config.RESPONDENT_TYPE_LABELS[t]) for t in survey.respondent_types],
        "blocks": blocks,
        "total": number,
        # apps_script: the absolute /exec address; local: relative, completed with `root`
        "collector_url": survey.collector.url if kind == "apps_script" else "",
        "maxlength": TEXT_MAXLENGTH,
        "has_results": has_results(out, survey.id),
        "results_segment": RESULTS_SEGMENT,
        "inline_css": inline_css(),  # the unit page paints without waiting for a stylesheet
        "description": _description(survey),
    }


def _description(survey) -> str:
    """The landing page's meta description: what, who and when, for search results and the
    preview Zalo shows of a shared link."""
    who = f" do {survey.organizer} tổ chức" if survey.organizer else ""
    return (f"{survey.title}{who}, từ ngày {_date(survey.start)} đến ngày {_date(survey.end)}. "
            "Quét mã QR tại nơi làm thủ tục hoặc chọn đơn vị để trả lời.")


def with_questions(env, common: dict[str, Any]) -> dict[str, Any]:
    """The common part plus its questions rendered once: they are the same on every unit page,
    and rendering them ten thousand times would be most of a national build."""
    from markupsafe import Markup

    html = render(env, QUESTIONS_TEMPLATE, {"s": common})
    return {**common, "questions_html": Markup(html)}


def unit_entry(unit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name, "parent": unit.parent,
            "collector_url": unit.collector_url}


def unit_page_path(survey_id: str, code: str) -> str:
    """The unit page's file, relative to the site root."""
    return unit_path(survey_id, code) + "index.html"


def unit_aliases(code: str) -> list[str]:
    """Other spellings of a unit's folder that get a copy of its page: a static host matches
    paths letter for letter, and /u/nl01/ typed from a poster that says /u/NL01/ must not be a
    404. Codes are unique whatever their case (units.csv is checked), so no two units share one."""
    return sorted({code.lower(), code.upper()} - {code})


def unit_context(common: dict[str, Any], unit: dict[str, str], base_url: str | None) -> dict[str, Any]:
    """The context of one unit's survey page: the survey's common part plus the unit."""
    root = root_prefix(unit_page_path(common["id"], unit["code"]))
    # a unit's own web app (units.csv collector_url: its province's spreadsheet) comes first
    action = unit.get("collector_url") or common["collector_url"] or root + LOCAL_ENDPOINT
    canonical = unit_url(base_url, common["id"], unit["code"]) if base_url else ""
    return {"root": root, "survey": common, "unit": unit, "action": action,
            "canonical": canonical, "title": f"Đánh giá: {unit['name']}"}


Groups = list[tuple[str, list[dict[str, str]]]]  # (parent, its units), in the order of units.csv


def unit_groups(units: Sequence[dict[str, str]]) -> Groups:
    """Units grouped by parent (district/province), in the order of units.csv."""
    groups: dict[str, list[dict[str, str]]] = {}
    for u in units:
        groups.setdefault(u["parent"], []).append(u)
    return list(groups.items())


def split_landing(units: Sequence[dict[str, str]], groups: Groups | None = None) -> bool:
    """A national survey's ten thousand units would make a landing page of most of a megabyte:
    past LANDING_MAX_UNITS it lists the areas, and each area gets a page of its units."""
    return len(units) > LANDING_MAX_UNITS and len(groups or unit_groups(units)) > 1


def landing_context(common: dict[str, Any], units: Sequence[dict[str, str]],
                    groups: Groups | None = None) -> dict[str, Any]:
    """The survey's landing page: units grouped by parent when given, or the list of areas."""
    groups = groups or unit_groups(units)
    return {"root": root_prefix(f"{common['id']}/index.html"), "survey": common,
            "groups": groups, "split": split_landing(units, groups), "unit_count": len(units),
            "area_segment": AREA_SEGMENT, "title": common["title"]}


def area_context(common: dict[str, Any], groups: Groups, number: int) -> dict[str, Any]:
    """Page `number` (1-based, in the order of units.csv) of a split landing: one area's units."""
    parent, members = groups[number - 1]
    return {"root": root_prefix(f"{common['id']}/{AREA_SEGMENT}/{number}/index.html"),
            "survey": common, "parent": parent or "Khác", "units": members,
            "title": f"{parent or 'Khác'} – {common['title']}"}


def thanks_context(common: dict[str, Any]) -> dict[str, Any]:
    return {"root": root_prefix(f"{common['id']}/{THANKS_SEGMENT}/index.html"), "survey": common,
            "title": "Cảm ơn Ông/Bà đã góp ý"}


def index_context(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"root": "", "surveys": list(entries), "title": "Khảo sát sự hài lòng",
            "results_segment": RESULTS_SEGMENT}


def render(env, template: str, context: dict[str, Any]) -> str:
    """The one way a page is rendered, by the Flask views and by the build's workers alike."""
    return env.get_template(template).render(**context)


def create_app(surveys, base_url: str | None = None, out: Path | None = None,
               index_entries: Sequence[dict[str, str]] | None = None):
    """The Flask app of the survey pages. `out` (optional) lets the landing page link to results
    that exist; `index_entries` (optional) lists surveys built earlier for the site index."""
    from flask import Flask, abort

    app = Flask("hailong", template_folder=str(TEMPLATES), static_folder=str(STATIC),
                static_url_path="/static")
    env = environment()  # the views render through the shared environment, not Flask's own
    by_id = {s.id: s for s in surveys}
    commons: dict[str, dict[str, Any]] = {}

    def common(survey_id: str) -> dict[str, Any]:
        if survey_id not in by_id:
            abort(404)
        if survey_id not in commons:
            commons[survey_id] = with_questions(env, survey_context(by_id[survey_id], out))
        return commons[survey_id]

    @functools.cache
    def unit_entries(survey_id: str) -> tuple[list[dict[str, str]], Groups]:
        """A survey's units and their groups, made once per app (not once per area page)."""
        units = [unit_entry(u) for u in by_id[survey_id].units]
        return units, unit_groups(units)

    entries = with_results_flags(
        index_entries if index_entries is not None else [index_entry(s) for s in surveys], out)

    @app.route("/")
    def index():
        return render(env, INDEX_TEMPLATE, index_context(entries))

    @app.route("/<survey_id>/")
    def landing(survey_id: str):
        c = common(survey_id)
        return render(env, LANDING_TEMPLATE, landing_context(c, *unit_entries(survey_id)))

    @app.route(f"/<survey_id>/{AREA_SEGMENT}/<int:number>/")
    def area(survey_id: str, number: int):
        c = common(survey_id)
        units, groups = unit_entries(survey_id)
        if not split_landing(units, groups) or not 1 <= number <= len(groups):
            abort(404)
        return render(env, AREA_TEMPLATE, area_context(c, groups, number))

    @app.route("/<survey_id>/u/<code>/")
    def unit_page(survey_id: str, code: str):
        c = common(survey_id)
        unit = next((u for u in by_id[survey_id].units if u.code == code), None)
        if unit is None:
            abort(404)
        return render(env, UNIT_TEMPLATE, unit_context(c, unit_entry(unit), base_url))

    @app.route(f"/<survey_id>/{THANKS_SEGMENT}/")
    def thanks(survey_id: str):
        return render(env, THANKS_TEMPLATE, thanks_context(common(survey_id)))

    return app


def jinja_env():
    """The environment the Flask views render with (for the build's workers)."""
    return environment()
