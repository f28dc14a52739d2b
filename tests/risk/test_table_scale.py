"""The dependency table at 20,000 packages: filtered, sorted and paged in SQL.

No timing assertions (scripts/bench_risk_table.py measures); this checks that the page
renders the right counts and rows at that size.
"""

from __future__ import annotations

import re

from service.companies.models import Role
from tests.conftest import login
from tests.factories import make_company, make_user
from tests.risk.bulk import build

N = 20_000


def count_on(html: str) -> tuple[int, int]:
    found = re.search(r'<h2 id="count">([\d,]+) of ([\d,]+) packages</h2>', html)
    assert found, "the count heading is missing"
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def rows_on(html: str) -> list[str]:
    return re.findall(r"<td><code>(pkg:[^<]+)</code></td>", html)


def test_twenty_thousand_packages(client, session):
    user = make_user(session)
    company = make_company(session, "bigco", members=[(user, Role.viewer)])
    facts = build(session, company, N)
    login(client, user)

    page = client.get("/c/bigco/dependencies")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert count_on(html) == (N, N)
    assert "page 1 of 200" in html
    shown = rows_on(html)
    assert len(shown) == 100
    # Riskiest first: the highest score of any package comes first.
    top_score = max(f.score for f in facts if f.score is not None)
    riskiest = sorted(f.key for f in facts if f.score == top_score)
    assert shown[: len(riskiest[:100])] == riskiest[:100]

    def keep(f):
        return (
            f.ecosystem == "npm"
            and f.depth == 1
            and f.funded is False
            and f.score is not None
            and f.score >= 50
            and f.products >= 1
        )

    expected = sorted(f.key for f in facts if keep(f))
    filtered = client.get(
        "/c/bigco/dependencies?ecosystem=npm&depth=1&funding=unfunded&risk_min=50"
        "&sort=package&order=asc&page=2"
    )
    html = filtered.get_data(as_text=True)
    assert count_on(html) == (len(expected), N)
    assert rows_on(html) == expected[100:200]

    unresolved = client.get("/c/bigco/dependencies?status=unresolved&depth=unknown&products=3")
    expected_unresolved = [
        f for f in facts if f.project is None and f.depth is None and f.products >= 3
    ]
    assert count_on(unresolved.get_data(as_text=True)) == (len(expected_unresolved), N)

    last = client.get("/c/bigco/dependencies?sort=depth&order=desc&page=200")
    html = last.get_data(as_text=True)
    assert "page 200 of 200" in html
    unknown_depth = sorted(f.key for f in facts if f.depth is None)
    assert rows_on(html) == unknown_depth[-100:]  # unknown depths sort last
