# ruff: noqa: RUF001 - the en dash is what the table shows for a missing value
"""The dependency table's rows as its page draws them, each built once in Python: a page
draws 100 rows of eight cells, and the filters, tests, calls, `url_for` and escaping of
each cell in Jinja cost the page more than its query did. The template places the rows
in the table; the text in them (package, ecosystem, products, project) is escaped here."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from markupsafe import Markup, escape

from service.core.ui import pill, risk_badge
from service.risk.table import DependencyRow
from service.sboms.views import decoded

NONE = Markup('<span class="hint">–</span>')
RESOLVED = pill("resolved", "good")
FUNDED, UNFUNDED = pill("funded", "good"), pill("unfunded", "bad")


def table_rows(rows: Iterable[DependencyRow], project_url: str) -> list[Markup]:
    """Each row's `<tr>`; `project_url` is a project's risk page without its id."""
    return [_row(row, project_url) for row in rows]


def _row(row: DependencyRow, project_url: str) -> Markup:
    depth = row.depth if row.depth is not None else "unknown"
    resolution = RESOLVED if row.resolved else _unresolved(row.status)
    funding = NONE if row.funded is None else (FUNDED if row.funded else UNFUNDED)
    names = escape(", ".join(row.product_names))
    return Markup(
        "<tr>\n"
        f"    <td><code>{escape(decoded(row.package))}</code></td>\n"
        f"    <td>{escape(row.ecosystem)}</td>\n"
        f'    <td class="num" title="{names}">{int(row.products)}</td>\n'
        f'    <td class="num">{depth}</td>\n'
        f"    <td>{_project(row, project_url)}</td>\n"
        f'    <td class="num">{risk_badge(row.score)}</td>\n'
        f"    <td>{resolution}</td>\n"
        f"    <td>{funding}</td>\n"
        "  </tr>"
    )


def _project(row: DependencyRow, project_url: str) -> Markup:
    if not row.project:
        return NONE
    if row.score is None:
        return escape(row.project)
    return Markup('<a href="{}{}">{}</a>').format(project_url, row.project_id, row.project)


@functools.cache  # a handful of statuses, drawn on most rows
def _unresolved(status: str) -> Markup:
    return pill("unresolved" if status in ("unresolved", "resolved") else status, "warn")
