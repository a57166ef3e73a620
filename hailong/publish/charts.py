"""Charts drawn as inline SVG when the site is built: no chart library runs in the browser.

Horizontal positions are percentages of the chart's width and vertical ones are pixels, so a
chart fills any screen width while its text keeps a readable size (no viewBox scaling that
would shrink the labels to nothing on a phone). Every chart has role="img", a <title> and a
<desc>; the same figures are always in a table beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from hailong.numbers import fmt

ROW = 40  # px per unit in the ranking chart: a label line, then the bar
BAR_Y, BAR_H = 20, 13
AXIS_H = 22
TICKS = (0, 20, 40, 60, 80, 100)
GUTTER = 15.0  # % of the width kept at the right of the bars for the value text
VALUE_X = f"{100 - GUTTER + 1.5:.1f}%"  # the value is written just after the end of the scale
LABEL_CHARS = 42  # longer labels are cut with "…" (the full text is in the row's <title>)


def _pct(value: float) -> str:
    """The x position of an index (0–100) on a bar row: the bars end before the gutter."""
    return f"{max(0.0, min(100.0, value)) * (100 - GUTTER) / 100:.2f}%"


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Bar:
    """One unit in the ranking chart."""

    label: str
    index: float
    low: float
    high: float
    band_class: str
    band_label: str
    district: str = ""
    code: str = ""
    may_be_first: bool = False  # its rank range reaches first place


def _axis(height: int) -> str:
    parts = ['<g class="axis" aria-hidden="true">']
    for t in TICKS:
        anchor = "start" if t == 0 else "middle"
        parts.append(f'<line x1="{_pct(t)}" x2="{_pct(t)}" y1="{AXIS_H - 4}" y2="{height}" class="grid"/>'
                     f'<text x="{_pct(t)}" y="12" text-anchor="{anchor}" class="tick">{t}</text>')
    parts.append("</g>")
    return "".join(parts)


def _interval(low: float, high: float, y: int, h: int) -> str:
    mid = y + h / 2
    return (f'<line x1="{_pct(low)}" x2="{_pct(high)}" y1="{mid}" y2="{mid}" class="ci"/>'
            f'<line x1="{_pct(low)}" x2="{_pct(low)}" y1="{y - 2}" y2="{y + h + 2}" class="ci"/>'
            f'<line x1="{_pct(high)}" x2="{_pct(high)}" y1="{y - 2}" y2="{y + h + 2}" class="ci"/>')


def _open(kind: str, chart_id: str, height: int, title: str, desc: str, attrs: str = "") -> list[str]:
    """The opening of an accessible chart: <svg> labelled by its title and description, and the axis."""
    return [
        f'<svg class="chart {kind}"{attrs} width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
        _axis(height),
    ]


def ranking_chart(bars: Sequence[Bar], title: str, desc: str, chart_id: str = "bieu-do") -> str:
    """The ranking as horizontal bars (index) with whiskers (95% interval), highest first."""
    height = AXIS_H + ROW * len(bars) + 4
    out = _open("ranking-chart", chart_id, height, title, desc,
                f' id="{chart_id}" data-row="{ROW}" data-top="{AXIS_H}"')
    for i, bar in enumerate(bars):
        y = AXIS_H + ROW * i
        tip = (f"{bar.label}: chỉ số {fmt(bar.index)}, khoảng tin cậy 95% "
               f"{fmt(bar.low)}–{fmt(bar.high)}, xếp loại {bar.band_label}"
               + ("; có thể đứng đầu" if bar.may_be_first else ""))
        out.append(
            f'<g class="bar-row{" top" if bar.may_be_first else ""}" data-district="{escape(bar.district)}" data-code="{escape(bar.code)}" '
            f'transform="translate(0,{y})"><title>{escape(tip)}</title>'
            f'<text x="0" y="14" class="lbl">{escape(_cut(bar.label))}</text>'
            f'<text x="{VALUE_X}" y="{BAR_Y + BAR_H - 1}" class="val">{fmt(bar.index)}</text>'
            f'<rect x="0" y="{BAR_Y}" width="{_pct(100)}" height="{BAR_H}" class="track"/>'
            f'<rect x="0" y="{BAR_Y}" width="{_pct(bar.index)}" height="{BAR_H}" '
            f'class="bar {bar.band_class}"/>'
            f'<rect x="0" y="{BAR_Y}" width="{_pct(bar.index)}" height="{BAR_H}" '
            f'class="bar-pattern" fill="url(#pat-{bar.band_class})"/>'
            + _interval(bar.low, bar.high, BAR_Y, BAR_H) + "</g>"
        )
    out.append("</svg>")
    return "".join(out)


def patterns(band_classes: Sequence[str]) -> str:
    """SVG pattern fills, one per band, so bands differ by texture as well as colour.

    Emitted once per page in a hidden <svg>; charts refer to them as url(#pat-<class>).
    """
    shapes = [
        "",  # the best band: solid
        '<path d="M0,6 L6,0" stroke="#fff" stroke-width="1.6" opacity=".75"/>',
        '<circle cx="3" cy="3" r="1.3" fill="#fff" opacity=".8"/>',
        '<path d="M0,3 H6" stroke="#fff" stroke-width="1.6" opacity=".75"/>',
        '<path d="M0,0 L6,6 M0,6 L6,0" stroke="#fff" stroke-width="1.2" opacity=".75"/>',
        '<path d="M3,0 V6" stroke="#fff" stroke-width="1.6" opacity=".75"/>',
    ]
    defs = []
    for i, cls in enumerate(band_classes):
        shape = shapes[i % len(shapes)]
        defs.append(f'<pattern id="pat-{cls}" width="6" height="6" patternUnits="userSpaceOnUse">'
                    f"{shape}</pattern>")
    return ('<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>'
            + "".join(defs) + "</defs></svg>")


@dataclass(frozen=True)
class Compare:
    """One row of a unit-versus-average chart (a block)."""

    label: str
    value: float | None  # None: withheld
    average: float | None
    missing: str = "Chưa đủ"  # what is written where the value is withheld


def compare_chart(rows: Sequence[Compare], title: str, desc: str, chart_id: str) -> str:
    """The unit's block indices as bars, with the average of all units as a dark tick."""
    height = AXIS_H + ROW * len(rows) + 4
    out = _open("compare-chart", chart_id, height, title, desc)
    for i, row in enumerate(rows):
        y = AXIS_H + ROW * i
        value = row.missing if row.value is None else fmt(row.value)
        out.append(f'<g transform="translate(0,{y})"><title>{escape(row.label)}: {value}</title>'
                   f'<text x="0" y="14" class="lbl">{escape(_cut(row.label))}</text>'
                   f'<text x="{VALUE_X}" y="{BAR_Y + BAR_H - 1}" class="val{" na" if row.value is None else ""}">'
                   f'{value}</text>'
                   f'<rect x="0" y="{BAR_Y}" width="{_pct(100)}" height="{BAR_H}" class="track"/>')
        if row.value is not None:
            out.append(f'<rect x="0" y="{BAR_Y}" width="{_pct(row.value)}" height="{BAR_H}" class="bar unit-bar"/>')
        if row.average is not None:
            x = _pct(row.average)
            out.append(f'<line x1="{x}" x2="{x}" y1="{BAR_Y - 4}" y2="{BAR_Y + BAR_H + 4}" class="avg"/>')
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True)
class Point:
    """One period (or weekly run) in a unit's trend chart."""

    label: str
    index: float
    low: float
    high: float


def trend_chart(points: Sequence[Point], title: str, desc: str, chart_id: str) -> str:
    """Index over time, each point with its 95% interval; y from 0 to 100."""
    top, plot, bottom = 10, 150, 26
    height = top + plot + bottom
    n = len(points)

    def y(v: float) -> float:
        return top + plot * (1 - max(0.0, min(100.0, v)) / 100)

    def x(i: int) -> str:  # leave room for the y labels at the left
        return f"{8 + (88 * (i + 0.5) / n):.2f}%"

    out = [
        f'<svg class="chart trend-chart" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
        '<g class="axis" aria-hidden="true">',
    ]
    for t in (0, 50, 100):
        out.append(f'<line x1="6%" x2="100%" y1="{y(t):.1f}" y2="{y(t):.1f}" class="grid"/>'
                   f'<text x="0" y="{y(t) + 4:.1f}" class="tick">{t}</text>')
    out.append("</g>")
    for i, p in enumerate(points):
        cx = x(i)
        out.append(
            f'<g><line x1="{cx}" x2="{cx}" y1="{y(p.high):.1f}" y2="{y(p.low):.1f}" class="ci"/>'
            f'<circle cx="{cx}" cy="{y(p.index):.1f}" r="5" class="pt"/>'
            f'<text x="{cx}" y="{height - 8}" text-anchor="middle" class="tick">{escape(p.label)}</text>'
            f'<text x="{cx}" y="{y(p.index) + 5:.1f}" dx="10" class="val">'
            f"{fmt(p.index)}</text></g>"  # two decimals, as the table beside it
        )
    out.append("</svg>")
    return "".join(out)
