"""Every main page, as each role, at a desktop and a phone width: no sideways page scroll,
no console error, no failed asset, no serious or critical axe-core violation. A screenshot
of each is kept under the test run's artifacts folder (see `artifacts` in conftest.py)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}
SLUG = "acme-demo"
C = f"/c/{SLUG}"


def first_href(page, server: str, path: str, pattern: str) -> str:
    """The first link on `path` whose href matches `pattern` (ids differ between runs)."""
    page.goto(server + path)
    for href in page.locator("main a").evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        if href and re.search(pattern, href):
            return href
    raise AssertionError(f"no link matching {pattern} on {path}")


PAGES = {
    "owner": [
        ("home", C + "/"),
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
        ("review", (C + "/proposals", r"/proposals/\d{4}-\d{2}")),
        ("policy", C + "/policy"),
        ("registries", C + "/registries"),
        ("pledges", C + "/pledges"),
        ("settings", C + "/settings"),
        ("members", C + "/members"),
        ("tokens", C + "/tokens"),
        ("orgs", C + "/orgs"),
        ("profile", "/profile"),
    ],
    "reviewer": [
        ("home", C + "/"),
        ("review", (C + "/proposals", r"/proposals/\d{4}-\d{2}")),
        ("dependencies", C + "/dependencies"),
        ("members", C + "/members"),
        ("pledges", C + "/pledges"),
    ],
    "maintainer": [
        ("my-projects", "/me/projects"),
        ("payout", "/me/payout"),
        ("project", ("/me/projects", r"^/projects/github\.com/")),
    ],
    "anonymous": [("landing", "/"), ("login", "/login")],
}
# The README's screenshots: `TRIBUTARY_README_SCREENSHOTS=docs/screenshots pytest -m browser
# tests/browser/test_pages.py` takes them again (the top of the page at 1,280 px).
README_SHOTS = {("owner", "home"), ("reviewer", "review"), ("maintainer", "my-projects")}
CASES = [(role, name, target) for role, pages in PAGES.items() for name, target in pages]


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()  # axe-core as the PyPI package ships it: nothing is fetched at run time


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
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"{r.status} for {r.url}"),
    )
    if isinstance(target, tuple):
        path = first_href(page, demo_server, target[0], target[1]) + "".join(target[2:])
    else:
        path = target
    try:
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(demo_server + path)
            assert response is not None and response.status == 200, f"{path}: {response}"
            page.screenshot(path=str(artifacts / f"{role}-{name}-{width_name}.png"), full_page=True)
            readme = os.environ.get("TRIBUTARY_README_SCREENSHOTS")
            if readme and (role, name) in README_SHOTS and width_name == "desktop":
                if name == "review":  # the lines, with the totals stuck above them
                    page.evaluate("document.getElementById('lines').scrollIntoView()")
                page.screenshot(path=str(Path(readme) / f"{name}.png"))
            scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll[0] <= scroll[1], f"{path} at {width}px scrolls sideways: {scroll}"
            results = axe.run(page)
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']} at "
                + ", ".join(str(n["target"]) for n in v["nodes"][:3])
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], f"{path} at {width}px"
        assert problems == []
    finally:
        page.close()
