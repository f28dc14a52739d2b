# ruff: noqa: RUF001 - the en dash is what the table shows for a missing value
"""The dependency table's cells as its page draws them, computed once per row in Python: a
page draws 100 rows of eight cells, and the filters, tests, calls and `url_for` of each
cell in Jinja cost the page more than its query did. The template only places them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from service.core.ui import pill, risk_badge
from service.risk.table import DependencyRow
from service.sboms.views import decoded

NONE = Markup('<span class="hint">–</span>')
RESOLVED = pill("resolved", "good")
FUNDED, UNFUNDED = pill("funded", "good"), pill("unfunded", "bad")


@dataclass(frozen=True, slots=True)
class Cells:
    package: str  # the purl as people read it
    ecosystem: str
    product_names: str
    products: int
    depth: int | str
    project: Markup  # linked to its risk breakdown once scored
    risk: Markup
    resolution: Markup
    funding: Markup


def table_cells(rows: Iterable[DependencyRow], project_url: str) -> list[Cells]:
    """The cells of each row; `project_url` is a project's risk page without its id."""
    return [
        Cells(
            package=decoded(row.package),
            ecosystem=row.ecosystem,
            product_names=", ".join(row.product_names),
            products=row.products,
            depth=row.depth if row.depth is not None else "unknown",
            project=_project(row, project_url),
            risk=risk_badge(row.score),
            resolution=RESOLVED if row.resolved else _unresolved(row.status),
            funding=NONE if row.funded is None else (FUNDED if row.funded else UNFUNDED),
        )
        for row in rows
    ]


def _project(row: DependencyRow, project_url: str) -> Markup:
    if not row.project:
        return NONE
    if row.score is None:
        return escape(row.project)
    return Markup('<a href="{}{}">{}</a>').format(project_url, row.project_id, row.project)


def _unresolved(status: str) -> Markup:
    return pill("unresolved" if status in ("unresolved", "resolved") else status, "warn")
