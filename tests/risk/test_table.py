"""The dependency table: each filter, each sort key, paging — all done in SQL."""

from __future__ import annotations

import json

import pytest

from service.risk.services import recompute_company
from service.risk.table import SORTS, TableQuery, dependency_table, parse_query
from service.sboms.services import ingest
from tests.factories import make_company
from tests.risk.data import ACTOR, NOW, acme_scenario, upload


def flat_sbom(purls: list[str]) -> bytes:
    """A CycloneDX document without a dependency graph: every depth is unknown."""
    components = [
        {"type": "library", "name": p.rsplit("/", 1)[-1], "version": "1", "purl": f"{p}@1"}
        for p in purls
    ]
    return json.dumps(
        {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": components}
    ).encode()


@pytest.fixture
def company(session):
    company = make_company(session)
    acme_scenario(session, company)
    upload(
        session,
        company,
        "deep",
        ["pkg:pypi/framework"],
        {"pkg:pypi/framework": ["pkg:pypi/tiny"], "pkg:pypi/tiny": ["pkg:pypi/deep"]},
    )
    ingest(session, ACTOR, company, "image", flat_sbom(["pkg:golang/github.com/x/y"]), source="cli")
    session.commit()
    recompute_company(session, company, now=NOW)
    session.commit()
    return company


def table(session, company, **params):
    query, errors = parse_query({k: str(v) for k, v in params.items()})
    assert errors == {}
    return dependency_table(session, company.id, query)


def everything(session, company):
    return table(session, company, per_page=500, sort="package", order="asc").rows


def test_the_inventory_as_rows(session, company):
    rows = {r.package: r for r in everything(session, company)}
    assert set(rows) == {
        "pkg:npm/left-pad",
        "pkg:npm/unknown-thing",
        "pkg:pypi/framework",
        "pkg:pypi/tiny",
        "pkg:pypi/deep",
        "pkg:golang/github.com/x/y",
    }
    left = rows["pkg:npm/left-pad"]
    assert (left.products, left.depth, left.project, left.funded) == (
        3,
        1,
        "github.com/left/pad",
        False,
    )
    assert left.product_names == ["api", "cli", "web"]
    assert left.score is not None and left.resolved
    assert (rows["pkg:pypi/tiny"].depth, rows["pkg:pypi/tiny"].products) == (2, 2)
    assert rows["pkg:pypi/deep"].depth == 3 and not rows["pkg:pypi/deep"].resolved
    assert rows["pkg:golang/github.com/x/y"].depth is None
    assert rows["pkg:pypi/framework"].funded is True
    assert rows["pkg:npm/unknown-thing"].funded is None  # no project: funding unknown
    assert rows["pkg:npm/unknown-thing"].status == "pending"


FILTERS = [
    ({"risk_min": 30}, lambda r: r.score is not None and r.score >= 30),
    ({"risk_max": 30}, lambda r: r.score is not None and r.score <= 30),
    ({"risk_min": 10, "risk_max": 60}, lambda r: r.score is not None and 10 <= r.score <= 60),
    ({"depth": "1"}, lambda r: r.depth == 1),
    ({"depth": "2"}, lambda r: r.depth == 2),
    ({"depth": "3+"}, lambda r: r.depth is not None and r.depth >= 3),
    ({"depth": "unknown"}, lambda r: r.depth is None),
    ({"products": 2}, lambda r: r.products >= 2),
    ({"products": 3}, lambda r: r.products >= 3),
    ({"ecosystem": "pypi"}, lambda r: r.ecosystem == "pypi"),
    ({"ecosystem": "NPM"}, lambda r: r.ecosystem == "npm"),
    ({"status": "resolved"}, lambda r: r.resolved),
    ({"status": "unresolved"}, lambda r: not r.resolved),
    ({"funding": "funded"}, lambda r: r.funded is True),
    ({"funding": "unfunded"}, lambda r: r.funded is False),
    ({"q": "PAD"}, lambda r: "pad" in r.package),
    ({"q": "%"}, lambda r: "%" in r.package),  # LIKE wildcards are matched literally
    ({"depth": "1", "status": "unresolved"}, lambda r: r.depth == 1 and not r.resolved),
]


def test_each_filter_matches_its_definition(session, company):
    rows = everything(session, company)
    for params, keep in FILTERS:
        expected = [r.package for r in rows if keep(r)]
        result = table(session, company, per_page=500, sort="package", order="asc", **params)
        assert [r.package for r in result.rows] == expected, params
        assert (result.matching, result.total) == (len(expected), 6), params


def test_hand_checked_filters(session, company):
    assert [r.package for r in table(session, company, funding="unfunded").rows] == [
        "pkg:npm/left-pad",
        "pkg:pypi/tiny",
    ]
    assert [r.package for r in table(session, company, depth="3+").rows] == ["pkg:pypi/deep"]
    tiny = next(r for r in everything(session, company) if r.package == "pkg:pypi/tiny")
    by_project = table(session, company, project=tiny.project_id)
    assert [r.package for r in by_project.rows] == ["pkg:pypi/tiny"]


def _sorted(rows, key, order):
    def value(r):
        return {
            "risk": r.score,
            "depth": r.depth,
            "products": r.products,
            "ecosystem": r.ecosystem,
            "package": r.package,
            "project": r.project,
            "status": r.status,
            "funding": None if r.funded is None else int(r.funded),
        }[key]

    present = [r for r in rows if value(r) is not None]
    empty = [r for r in rows if value(r) is None]
    # Stable sorts: by package first, then by the value (reversed for desc).
    present.sort(key=lambda r: r.package)
    present.sort(key=value, reverse=order == "desc")
    empty.sort(key=lambda r: r.package)
    return [r.package for r in present + empty]


def test_each_sort_key_both_ways(session, company):
    rows = everything(session, company)
    for key in SORTS:
        for order in ("asc", "desc"):
            result = table(session, company, sort=key, order=order, per_page=500)
            assert [r.package for r in result.rows] == _sorted(rows, key, order), (key, order)


def test_default_sort_is_riskiest_first_unscored_last(session, company):
    rows = table(session, company).rows
    scores = [r.score for r in rows]
    scored = [s for s in scores if s is not None]
    assert scored == sorted(scored, reverse=True) and len(scored) == 3
    assert scores[3:] == [None, None, None]


def test_pagination_counts(session, company):
    full = [r.package for r in table(session, company, per_page=500).rows]
    pages = [table(session, company, per_page=4, page=p) for p in (1, 2)]
    assert [t.pages for t in pages] == [2, 2]
    assert [r.package for t in pages for r in t.rows] == full
    assert [len(t.rows) for t in pages] == [4, 2]
    beyond = table(session, company, per_page=4, page=9)
    assert beyond.query.page == 2 and len(beyond.rows) == 2
    filtered = table(session, company, ecosystem="pypi", per_page=2)
    assert (filtered.matching, filtered.pages, len(filtered.rows)) == (3, 2, 2)


def test_bad_parameters_are_named_and_left_out():
    query, errors = parse_query(
        {
            "risk_min": "abc",
            "depth": "7",
            "products": "-1",
            "sort": "stars",
            "per_page": "9999",
            "status": "RESOLVED",
        }
    )
    assert set(errors) == {"risk_min", "depth", "products", "sort", "per_page"}
    assert errors["risk_min"].startswith("risk_min: expected a number from 0 to 100")
    assert errors["sort"].startswith("sort: expected one of risk, depth")
    assert query == TableQuery(status="resolved")
    _, inverted = parse_query({"risk_min": "60", "risk_max": "10"})
    assert "risk_max" in inverted


def test_links_keep_filters_and_drop_defaults():
    query, _ = parse_query({"ecosystem": "npm", "depth": "1", "page": "3"})
    assert query.params(page=1) == {"ecosystem": "npm", "depth": "1"}
    assert query.params(sort="package", order="asc") == {
        "ecosystem": "npm",
        "depth": "1",
        "page": 3,
        "sort": "package",
    }
