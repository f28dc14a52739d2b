"""The company's dependency table: one row per package of its active inventory (the latest
SBOM of each product) with its project, ecosystem, products, depth, risk and funding.

Filtering, sorting, counting and paging all happen in one SQL query, so a page of 100
rows out of 20,000 packages costs one grouped scan of the latest SBOMs' components (by
the `(sbom_id, package_id)` index) plus index lookups per package, never 20,000 Python
objects. Parameters arrive as GET query strings, the same for the page and the API:

| parameter   | meaning                                                              |
|-------------|----------------------------------------------------------------------|
| risk_min    | score >= this (0..100); unscored packages drop out                   |
| risk_max    | score <= this (0..100)                                               |
| depth       | `1` (direct), `2`, `3+`, or `unknown`: the shallowest depth in any   |
|             | product                                                              |
| products    | used by at least this many products                                  |
| ecosystem   | purl type: `npm`, `pypi`, …                                          |
| status      | `resolved` (a project is known) or `unresolved` (any other state)    |
| funding     | `funded` or `unfunded` (resolved packages only: funding is a fact    |
|             | about a project)                                                     |
| q           | text the package key contains                                        |
| project     | a project id: only that project's packages                           |
| sort        | risk (default), depth, products, ecosystem, package, project,        |
|             | status, funding                                                      |
| order       | `desc` or `asc` (default: desc for risk and products, asc otherwise) |
| page        | 1-based page number                                                  |
| per_page    | rows per page, 1..500 (default 100)                                  |

Rows without a value for the sort key (no score, unknown depth, no project) always come
last, whichever the order; ties are broken by package key, so pages never overlap.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from types import MappingProxyType
from typing import Any

from sqlalchemy import case, func, literal
from sqlmodel import Session, col, select
from wtforms import Field, ValidationError

from service.core.forms import Choice, Number, QueryForm, Text, WholeNumber
from service.db import one_of
from service.projects.inventory import CompanyResolution, is_dependency, latest_sbom_ids
from service.projects.models import Project
from service.risk.models import ProjectRisk
from service.risk.services import funded_clause
from service.sboms.models import Package, Product, Sbom, SbomComponent

__all__ = [
    "DEPTHS",
    "SORTS",
    "DependencyRow",
    "DependencyTable",
    "TableQuery",
    "dependency_table",
    "parse_query",
]

PER_PAGE = 100
MAX_PER_PAGE = 500
SORTS = ("risk", "depth", "products", "ecosystem", "package", "project", "status", "funding")
DEPTHS = ("1", "2", "3+", "unknown")
STATUSES = ("resolved", "unresolved")
FUNDING = ("funded", "unfunded")
DESCENDING_FIRST = ("risk", "products")
QUERY_LIMIT = 200


@dataclass(frozen=True)
class TableQuery:
    risk_min: float | None = None
    risk_max: float | None = None
    depth: str | None = None
    products: int | None = None
    ecosystem: str | None = None
    status: str | None = None
    funding: str | None = None
    q: str | None = None
    project: int | None = None
    sort: str = "risk"
    order: str = "desc"
    page: int = 1
    per_page: int = PER_PAGE

    def params(self, **changes: Any) -> dict[str, Any]:
        """Query-string parameters for a link to this view with `changes` applied;
        defaults are left out, so links stay short."""
        values = asdict(replace(self, **changes))
        defaults = {
            "sort": "risk",
            "order": default_order(values["sort"]),
            "page": 1,
            "per_page": PER_PAGE,
        }
        return {k: v for k, v in values.items() if v is not None and v != defaults.get(k)}

    @property
    def filters(self) -> dict[str, Any]:
        keys = (
            "risk_min",
            "risk_max",
            "depth",
            "products",
            "ecosystem",
            "status",
            "funding",
            "q",
            "project",
        )
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


def default_order(sort: str) -> str:
    return "desc" if sort in DESCENDING_FIRST else "asc"


AT_LEAST = "expected a whole number of at least {low}, got {raw!r}"


class TableForm(QueryForm):
    risk_min = Number(low=0, high=100)
    risk_max = Number(low=0, high=100)
    depth = Choice(choices=DEPTHS)
    products = WholeNumber(low=1, high=10**6, message=AT_LEAST)
    ecosystem = Text(limit=40, lower=True)
    status = Choice(choices=STATUSES)
    funding = Choice(choices=FUNDING)
    q = Text(limit=QUERY_LIMIT)
    project = WholeNumber(low=1, high=2**62, message=AT_LEAST)
    sort = Choice(choices=SORTS)
    order = Choice(choices=("asc", "desc"))
    page = WholeNumber(low=1, high=10**6, message=AT_LEAST)
    per_page = WholeNumber(
        low=1, high=MAX_PER_PAGE, message="expected {low} to {high}, got {raw!r}"
    )

    def validate_risk_max(self, field: Field) -> None:
        if None not in (self.risk_min.data, field.data) and self.risk_min.data > field.data:
            raise ValidationError("must not be below risk_min")


def parse_query(args: Mapping[str, str]) -> tuple[TableQuery, dict[str, str]]:
    """A TableQuery from query-string arguments, and {parameter: error} for bad ones
    (each left at its default)."""
    form = TableForm(args)
    values = form.values
    values.setdefault("order", default_order(values.get("sort", "risk")))
    return TableQuery(**values), form.problems


@dataclass(frozen=True)
class DependencyRow:
    package_id: int
    package: str
    name: str
    ecosystem: str
    products: int
    product_names: list[str]
    depth: int | None
    status: str  # resolution status: resolved, unresolved, error, pending
    project_id: int | None
    project: str | None
    score: float | None
    coverage: float | None
    funded: bool | None  # None: no project, so funding is not known

    @property
    def resolved(self) -> bool:
        return self.project_id is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "name": self.name,
            "ecosystem": self.ecosystem,
            "products": self.products,
            "product_names": self.product_names,
            "depth": self.depth,
            "resolved": self.resolved,
            "status": self.status,
            "project_id": self.project_id,
            "project": self.project,
            "risk": self.score,
            "coverage": self.coverage,
            "funded": self.funded,
        }


@dataclass(frozen=True)
class DependencyTable:
    query: TableQuery
    rows: list[DependencyRow]
    matching: int  # rows that pass the filters
    total: int  # packages in the active inventory
    ecosystems: list[str]
    ecosystem_counts: dict[str, int]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.matching / self.query.per_page))


def _inventory(company_id: int):
    """Subquery: one row per package of the company's latest SBOMs."""
    return (
        select(
            SbomComponent.package_id.label("package_id"),
            func.count(func.distinct(Sbom.product_id)).label("products"),
            func.min(SbomComponent.depth).label("depth"),
        )
        .join(Sbom, col(Sbom.id) == SbomComponent.sbom_id)
        .where(
            col(SbomComponent.sbom_id).in_(latest_sbom_ids(company_id)),
            col(SbomComponent.package_id).is_not(None),
            is_dependency(),
        )
        .group_by(SbomComponent.package_id)
        .subquery("inventory")
    )


def dependency_table(session: Session, company_id: int, query: TableQuery) -> DependencyTable:
    inv, joined, columns = _joined(company_id)
    filtered = _filtered(joined, columns, inv, query)
    sort_column = columns[query.sort]
    direction = sort_column.desc() if query.order == "desc" else sort_column.asc()
    ordered = filtered.order_by(sort_column.is_(None), direction, col(Package.key))
    rows, matching, query = _page(session, filtered, ordered, query)
    ecosystems = list(session.exec(_ecosystems(company_id)).all())
    names = _product_names(session, company_id, [row.id for row in rows])
    funded_ids = _funded(session, [row.project_id for row in rows if row.project_id])
    return DependencyTable(
        query=query,
        rows=[
            DependencyRow(
                package_id=row.id,
                package=row.key,
                name=row.name,
                ecosystem=row.ecosystem,
                products=row.products,
                product_names=names.get(row.id, []),
                depth=row.depth,
                status=row.status,
                project_id=row.project_id,
                project=row.project_key,
                score=row.score,
                coverage=row.coverage,
                funded=None if row.project_id is None else row.project_id in funded_ids,
            )
            for row in rows
        ],
        matching=matching,
        total=sum(count for _, count in ecosystems),
        ecosystems=[name for name, _ in ecosystems],
        ecosystem_counts=dict(ecosystems),
    )


@functools.lru_cache(maxsize=1024)
def _joined(company_id: int) -> tuple[Any, Any, Mapping[str, Any]]:
    """The inventory subquery; its packages with their project and its risk for this
    company; and the columns the table sorts by (`project_id` and `funded` too, for the
    filters). Built once per company and process: SQL statements are immutable, and
    building this one cost a page more than running it."""
    inv = _inventory(company_id)
    resolution = CompanyResolution(company_id)
    project_id = resolution.project_id
    resolved = project_id.is_not(None)
    # 1 funded, 0 unfunded, NULL when the package has no project (funding is unknown).
    funded = case((resolved & funded_clause(project_id), literal(1)), (resolved, literal(0)))
    status = resolution.status
    joined = resolution.join(
        select(
            Package.id,
            Package.key,
            Package.name,
            Package.ecosystem,
            inv.c.products,
            inv.c.depth,
            status.label("status"),
            Project.id.label("project_id"),
            Project.key.label("project_key"),
            ProjectRisk.score,
            ProjectRisk.coverage,
            # The number of matching rows, from the same pass that sorts them.
            func.count().over().label("matching"),
        )
        .select_from(inv)
        .join(Package, col(Package.id) == inv.c.package_id),
        inv.c.package_id,
    ).outerjoin(Project, col(Project.id) == project_id)
    joined = joined.outerjoin(
        ProjectRisk,
        (ProjectRisk.company_id == company_id) & (col(ProjectRisk.project_id) == project_id),
    )
    columns = {
        "risk": ProjectRisk.score,
        "depth": inv.c.depth,
        "products": inv.c.products,
        "ecosystem": Package.ecosystem,
        "package": Package.key,
        "project": Project.key,
        "status": status,
        "funding": funded,
        "project_id": project_id,
    }
    return inv, joined, MappingProxyType(columns)


@functools.lru_cache(maxsize=1024)
def _ecosystems(company_id: int) -> Any:
    """Totals per ecosystem: the inventory's size and the choices of the ecosystem filter
    (built once per company and process, as `_joined`)."""
    inv = _joined(company_id)[0]
    return (
        select(Package.ecosystem, func.count())
        .join(inv, inv.c.package_id == Package.id)
        .group_by(Package.ecosystem)
        .order_by(Package.ecosystem)
    )


def _filtered(statement: Any, columns: Mapping[str, Any], inv: Any, query: TableQuery) -> Any:
    """The statement narrowed by the query's filters."""
    if query.risk_min is not None:
        statement = statement.where(col(ProjectRisk.score) >= query.risk_min)
    if query.risk_max is not None:
        statement = statement.where(col(ProjectRisk.score) <= query.risk_max)
    if query.depth == "unknown":
        statement = statement.where(inv.c.depth.is_(None))
    elif query.depth == "3+":
        statement = statement.where(inv.c.depth >= 3)
    elif query.depth is not None:
        statement = statement.where(inv.c.depth == int(query.depth))
    if query.products is not None:
        statement = statement.where(inv.c.products >= query.products)
    if query.ecosystem is not None:
        statement = statement.where(Package.ecosystem == query.ecosystem)
    if query.status == "resolved":
        statement = statement.where(col(Project.id).is_not(None))
    elif query.status == "unresolved":
        statement = statement.where(col(Project.id).is_(None))
    if query.funding == "funded":
        statement = statement.where(columns["funding"] == 1)
    elif query.funding == "unfunded":
        statement = statement.where(columns["funding"] == 0)
    if query.project is not None:
        statement = statement.where(columns["project_id"] == query.project)
    if query.q:
        statement = statement.where(
            func.lower(Package.key).contains(query.q.lower(), autoescape=True)
        )
    return statement


def _page(
    session: Session, filtered: Any, ordered: Any, query: TableQuery
) -> tuple[list[Any], int, TableQuery]:
    """The page's rows, how many match, and the query (its page moved to the last one when
    it asked for a page past the end)."""

    def page_rows(page: int) -> list[Any]:
        offset = (page - 1) * query.per_page
        return list(session.exec(ordered.offset(offset).limit(query.per_page)).all())

    rows = page_rows(query.page)
    if rows:
        return rows, rows[0].matching, query
    # An empty page: nothing matches, or the page is past the end (then show the last).
    count = select(func.count()).select_from(filtered.subquery())
    matching = session.exec(count).one() if query.page > 1 else 0
    last = max(1, math.ceil(matching / query.per_page))
    if query.page > last:
        query = replace(query, page=last)
        rows = page_rows(last) if matching else []
    return rows, matching, query


def _funded(session: Session, project_ids: list[int]) -> set[int]:
    """The funded ones among these projects (one page at most)."""
    if not project_ids:
        return set()
    return set(
        session.exec(
            select(Project.id).where(
                one_of(session, col(Project.id), project_ids), funded_clause(Project.id)
            )
        ).all()
    )


def _product_names(session: Session, company_id: int, package_ids: list[int]) -> dict[int, list]:
    """{package id: product names} for the packages shown (one page at most)."""
    if not package_ids:
        return {}
    rows = session.exec(
        select(SbomComponent.package_id, Product.name)
        .join(Sbom, col(Sbom.id) == SbomComponent.sbom_id)
        .join(Product, col(Product.id) == Sbom.product_id)
        .where(
            col(SbomComponent.sbom_id).in_(latest_sbom_ids(company_id)),
            one_of(session, col(SbomComponent.package_id), package_ids),
        )
        .distinct()
    ).all()
    names: dict[int, list[str]] = defaultdict(list)
    for package_id, name in rows:
        names[package_id].append(name)
    return {k: sorted(v) for k, v in names.items()}
