"""HTML renderings: the publication (printable on A4, readable on a phone) and its charts as inline SVG
drawn on the server, so they work without JavaScript, on paper and on a slow phone alike."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.exports import main_problems, on_time_text
from reports.formatting import NOT_DEFINED, change_columns, main_columns, percent, points, score, signed, total_row
from storage.vocabulary import EVALUATION_DIMENSIONS

if TYPE_CHECKING:
    from reports.publication import Publication

TEMPLATES = Path(__file__).parent / "templates"
_environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)
_environment.filters.update(percent=percent, points=points, signed=signed, score=score)


#: Chart geometry in SVG units (13px text): a label line holds this many CJK characters, then wraps.
LABEL_CHARACTERS = 10
_CHARACTER = 13
_LINE = 15
_BAR = 15
_CHART_WIDTH = 500
_VALUE_WIDTH = 120  # room right of the longest bar for its value


@dataclass(frozen=True)
class Bar:
    label: str
    lines: list[str]  # the label wrapped, so a long agency name is never cut off
    value: float
    text: str
    y: int
    width: float
    bar_y: float
    text_y: float  # baseline of the first label line


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    label_width: int = 150
    plot_width: int = 220
    row_height: int = 22


def _wrap(label: str) -> list[str]:
    """Lines of at most ``LABEL_CHARACTERS`` characters, balanced (国家税务总局示例 / 市税务局 …)."""
    count = -(-len(label) // LABEL_CHARACTERS) or 1
    size = -(-len(label) // count)
    return [label[index : index + size] for index in range(0, len(label), size)] or [""]


def bar_chart(title: str, items: list[tuple[str, float, str]], *, maximum: float | None = None) -> Chart:
    """Horizontal bars, one per (label, value, text), scaled to the largest value (or ``maximum``); the
    label column is as wide as the longest label line and long labels wrap onto more lines."""
    top = maximum or max((value for _, value, _ in items), default=0) or 1
    wrapped = [_wrap(label) for label, _, _ in items]
    lines = max((len(label) for label in wrapped), default=1)
    longest = max((len(line) for label in wrapped for line in label), default=1)
    label_width = max(40, longest * _CHARACTER + 10)
    row_height = 22 + (lines - 1) * _LINE
    plot_width = _CHART_WIDTH - _VALUE_WIDTH - label_width  # one width for every chart: one text size
    bars = []
    for index, ((label, value, text), label_lines) in enumerate(zip(items, wrapped, strict=True)):
        y = 4 + index * row_height
        text_y = y + (row_height - len(label_lines) * _LINE) / 2 + 11
        bar_y = y + (row_height - _BAR) / 2
        bars.append(Bar(label, label_lines, value, text, y, round(plot_width * value / top, 1), bar_y, text_y))
    return Chart(title, bars, 8 + len(bars) * row_height, label_width, plot_width, row_height)


def charts(pub: Publication) -> list[Chart]:
    active = [row.figures for row in pub.rows if row.figures.received]
    by_volume = sorted(active, key=lambda row: (-row.received, row.code))
    rated = sorted(
        (row for row in active if row.satisfaction_rate is not None),
        key=lambda row: (-(row.satisfaction_rate or 0), row.code),
    )
    return [
        bar_chart("各单位收到量（件）", [(row.name, row.received, str(row.received)) for row in by_volume]),
        bar_chart("问题类型（件）", [(name, count, str(count)) for name, count in pub.problem_types]),
        bar_chart(
            "各单位满意率",
            [
                (row.name, row.satisfaction_rate or 0, f"{percent(row.satisfaction_rate)}（{row.rated}件参评）")
                for row in rated
            ],
            maximum=1,
        ),
    ]


def _context(pub: Publication) -> dict[str, Any]:
    rows = [*pub.rows, total_row(pub.figures.total, pub.total_change)]
    return {
        "main_problems": lambda row: main_problems(pub, row),
        "on_time_text": on_time_text,
        "pub": pub,
        "rows": rows,
        "columns": main_columns(),
        "change_columns": change_columns(),
        "charts": charts(pub),
        "dimensions": EVALUATION_DIMENSIONS,
        "not_defined": NOT_DEFINED,
    }


def render_html(pub: Publication, *, links: dict[str, str | None] | None = None, note: str = "") -> str:
    """A complete page; ``links`` (index, previous, next, csv, xlsx) are shown on the public site, left out
    in a file; ``note`` (a corrected month's) under the heading."""
    return _environment.get_template("publication.html").render(**_context(pub), links=links or {}, note=note)


#: A page's navigation as ``render_html`` writes it: the page's first <nav>, above any text of the month.
_NAV = re.compile(r'<nav class="no-print">.*?</nav>', re.S)


def with_nav(page: str, links: dict[str, str | None]) -> str:
    """A rendered page with its navigation replaced by ``links``' and nothing else changed."""
    nav = _environment.get_template("_month_nav.html").render(links=links)
    return _NAV.sub(lambda _: nav, page, count=1)


def render_index(months: list[date], *, region: str = "") -> str:
    return _environment.get_template("publication_index.html").render(months=months, region=region)


def render_not_found(message: str) -> str:
    """The public pages' 404, in their layout, with a way back to the index."""
    return _environment.get_template("publication_missing.html").render(message=message)


def render_template(name: str, **context: Any) -> str:
    """Other printable documents (the rectification notice) share the environment and its filters."""
    return _environment.get_template(name).render(**context)
