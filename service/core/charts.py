"""Server-side SVG charts (pygal), shown inline, no JavaScript: a value over time (risk,
exposure, coverage) and money by month.

Only numbers, dates and fixed English titles go into a chart — never a project key, a
package name or anything else that came from outside — so the SVG needs no escaping of
its own. The page's Content-Security-Policy forbids inline scripts and styles, so
pygal's JavaScript is switched off (`js=[]`) and the `<script>` (its config) and
`<style>` (and style attributes) it still embeds are removed; the chart is styled by
the .chart rules of static/tributary.css instead.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from datetime import date

import pygal
from markupsafe import Markup

__all__ = ["history_chart", "months_chart"]

# Importing pygal appends a legacy import hook for its map plugins (pygal.maps.*, not
# used here). The hook has no find_spec(), so from then on every lookup of a module that
# does not exist raises an ImportWarning; take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

_EMBEDDED = re.compile(r"<(script|style)\b[^>]*>.*?</\1>", re.DOTALL)
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')


def _config(title: str, y_title: str, **extra) -> pygal.Config:
    config = pygal.Config()
    config.js = []
    config.css = []
    config.title = title
    config.y_title = y_title
    config.show_legend = False
    config.disable_xml_declaration = True
    config.width = 800
    config.height = 280
    config.margin = 12
    config.x_label_rotation = 0
    config.truncate_label = -1  # dates in full
    config.show_minor_x_labels = False
    config.x_labels_major_count = 6
    config.show_x_guides = False
    config.include_x_axis = True  # the y axis starts at 0: small changes look small
    config.x_value_formatter = lambda d: d.isoformat()
    config.value_formatter = lambda v: f"{v:,.1f}"
    config.no_data_text = "No data yet"
    for key, value in extra.items():
        setattr(config, key, value)
    return config


def history_chart(
    points: Sequence[tuple[date, float]],
    *,
    title: str,
    y_title: str,
    step: bool = False,
    until: date | None = None,
    range_: tuple[float, float] | None = None,
) -> Markup | None:
    """A line over time as inline SVG. `step` draws each value until the next one (for
    snapshots written only when something changed), the last one until `until`.

    None with fewer than two points to draw: one dot on an axis of made-up dates reads
    as nothing, so the page says that history builds up instead."""
    extra = {"range": range_} if range_ else {}
    chart = pygal.DateLine(_config(title, y_title, **extra))
    values = list(points)
    if step and values:
        stepped: list[tuple[date, float]] = []
        for (day, value), following in zip(values, [*values[1:], None], strict=True):
            stepped.append((day, value))
            if following is not None and following[0] != day:
                stepped.append((following[0], value))
        if until is not None and values[-1][0] < until:
            stepped.append((until, values[-1][1]))
        values = stepped
    if len(values) < 2:
        return None
    chart.add(y_title, values, show_dots=not step or len(values) <= 2)
    return _inline(chart)


def months_chart(
    months: Sequence[str], series: dict[str, Sequence[float]], *, title: str, y_title: str
) -> Markup | None:
    """Bars per month ("YYYY-MM" labels), one bar per series side by side, with a legend.
    Drawn from one month on: a single month of bars still reads as a comparison."""
    if not months:
        return None
    config = _config(title, y_title, show_legend=True, legend_at_bottom=True)
    config.x_labels_major_count = 12
    chart = pygal.Bar(config)
    chart.x_labels = list(months)
    for name, values in series.items():
        chart.add(name, list(values))
    return _inline(chart)


def _inline(chart: pygal.graph.graph.Graph) -> Markup:
    svg = _STYLE_ATTRIBUTE.sub("", _EMBEDDED.sub("", chart.render(is_unicode=True)))
    return Markup(svg)  # trusted: built from numbers, dates and fixed text only
