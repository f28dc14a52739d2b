"""Every main page, as each role, at a desktop and a phone width: the checks of
`check_page` (no sideways page scroll, tables in their own box with the first column fixed,
no console error, no failed asset, no serious or critical axe-core violation). A screenshot
of each is kept under the test run's artifacts folder (see `artifacts` in conftest.py).
Pages that exist only after a flow (an export, a receipts import) are checked in
test_money_flow.py."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.conftest import WIDTHS, check_page, sign_in

pytestmark = pytest.mark.browser

SLUG = "acme-demo"
C = f"/c/{SLUG}"


def first_href(page, server: str, path: str, pattern: str) -> str:
    """The first link on `path` whose href matches `pattern` (ids differ between runs)."""
    page.goto(server + path)
    for href in page.locator("main a").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        if href and re.search(pattern, href):
            return href
    raise AssertionError(f"no link matching {pattern} on {path}")


REVIEW = (C + "/proposals", r"/proposals/\d{4}-\d{2}")
PLEDGE = (C + "/pledges", r"/pledges/\d+$")
PAGES = {
    "owner": [
        ("home", C + "/"),
        ("dashboard", C + "/dashboard"),
        ("activity", C + "/activity"),
        ("products", C + "/products"),
        ("product", (C + "/products", r"/products/\d+$")),
        ("upload", C + "/products/upload"),
        ("resolution", (C + "/products", r"/products/\d+$", "/resolution")),
        ("projects", C + "/projects"),
        ("project", (C + "/projects", r"^/projects/github\.com/")),
        ("risk", C + "/risk"),
        ("dependencies", C + "/dependencies"),
        ("risk-project", (C + "/risk", r"/risk/projects/\d+$")),
        ("weights", C + "/risk/weights"),
        ("proposals", C + "/proposals"),
        ("review", REVIEW),
        ("policy", C + "/policy"),
        ("registries", C + "/registries"),
        ("pledges", C + "/pledges"),
        ("pledge", PLEDGE),
        ("receipts", C + "/pledges/receipts"),
        ("reconciliation", C + "/pledges/reconciliation"),
        ("pledge-report", C + "/reports/open-source-pledge?developers=12"),
        ("settings", C + "/settings"),
        ("members", C + "/members"),
        ("tokens", C + "/tokens"),
        ("orgs", C + "/orgs"),
        ("profile", "/profile"),
    ],
    "reviewer": [
        ("home", C + "/"),
        ("proposals", C + "/proposals"),
        ("review", REVIEW),
        ("dependencies", C + "/dependencies"),
        ("registries", C + "/registries"),
        ("members", C + "/members"),
        ("pledges", C + "/pledges"),
        ("pledge", PLEDGE),
        ("reconciliation", C + "/pledges/reconciliation"),
    ],
    "maintainer": [
        ("my-projects", "/me/projects"),
        ("payout", "/me/payout"),
        ("pledged-to-me", "/me/pledges"),
        ("project", ("/me/projects", r"^/projects/github\.com/")),
        ("profile", "/profile"),
    ],
    "anonymous": [
        ("landing", "/"),
        ("login", "/login"),
        ("transparency", "/transparency"),
        ("transparency-company", f"/transparency/{SLUG}"),
        ("transparency-project", (f"/transparency/{SLUG}", r"^/transparency/projects/")),
    ],
}
# The README's screenshots: `TRIBUTARY_README_SCREENSHOTS=docs/screenshots pytest -m browser
# tests/browser/test_pages.py` takes them again (the top of the page at 1,280 px).
README_SHOTS = {("owner", "home"), ("reviewer", "review"), ("maintainer", "my-projects")}
CASES = [(role, name, target) for role, pages in PAGES.items() for name, target in pages]


@pytest.fixture(scope="module")
def role_contexts(browser, demo_server):
    contexts = {}
    for role in PAGES:
        context = browser.new_context()
        if role != "anonymous":
            page = context.new_page()
            sign_in(page, demo_server, f"demo-{role}")
            page.close()
        contexts[role] = context
    yield contexts
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize(("role", "name", "target"), CASES, ids=[f"{r}-{n}" for r, n, _ in CASES])
def test_page_fits_loads_cleanly_and_is_accessible(
    role, name, target, role_contexts, demo_server, axe, artifacts
):
    page = role_contexts[role].new_page()
    if isinstance(target, tuple):
        path = first_href(page, demo_server, target[0], target[1]) + "".join(target[2:])
    else:
        path = target
    try:
        page.goto(demo_server + path)
        check_page(page, axe, artifacts, f"{role}-{name}")
        readme = os.environ.get("TRIBUTARY_README_SCREENSHOTS")
        if readme and (role, name) in README_SHOTS:
            page.set_viewport_size(dict(zip(("width", "height"), WIDTHS["desktop"], strict=True)))
            page.goto(demo_server + path)
            if name == "review":  # the lines, with the totals stuck above them
                page.evaluate("document.getElementById('lines').scrollIntoView()")
            page.screenshot(path=str(Path(readme) / f"{name}.png"))
    finally:
        page.close()
