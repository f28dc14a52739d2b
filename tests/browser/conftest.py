"""A live demo server, headless Chromium (the system's, never a downloaded one) and the
check every page passes at both widths (`check_page`)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.app import create_app
from service.db import get_db
from service.demo.seed import load_demo
from tests.conftest import TEST_SECRET
from tests.fakes.github import RunningServer

CHROMIUM = os.environ.get("TRIBUTARY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory) -> Iterator[str]:
    """The demo as `scripts/demo.sh` loads and serves it, on its own SQLite file and port."""
    instance = tmp_path_factory.mktemp("demo")
    with pytest.warns(RuntimeWarning, match="DemoGitHubAPI"):
        app = create_app({"env": "demo", "secret_key": TEST_SECRET, "instance_path": instance})
    with app.app_context():
        database = get_db()
        database.upgrade()
        load_demo(database)
    server = RunningServer(app)
    yield server.url
    server.stop()
    app.extensions["tributary.db"].engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI must run the browser tests")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # A shared, loaded machine can take longer than Playwright's 30 s default to start it.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=120_000
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: screenshots/ under the run's output folder, test-artifacts/ at
    the top of the checkout (ignored by git, kept after the run) or $TRIBUTARY_TEST_ARTIFACTS."""
    output = (
        os.environ.get("TRIBUTARY_TEST_ARTIFACTS") or Path(__file__).parents[2] / "test-artifacts"
    )
    folder = Path(output) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


WIDTHS = {"desktop": (1280, 800), "phone": (390, 844)}

# Each table of the page: in its own scrolling box, and when wider than that box, its first
# column stays in place (position: sticky) so a row can still be told apart while scrolling.
TABLES = """() => [...document.querySelectorAll('main table')].map((table) => {
  const box = table.closest('.table-box');
  const first = table.querySelector('tbody tr > :first-child');
  return {
    label: box ? box.getAttribute('aria-label') : table.innerText.slice(0, 40),
    boxed: box !== null,
    wide: box !== null && box.scrollWidth > box.clientWidth + 1,
    fixed: first === null || getComputedStyle(first).position === 'sticky',
  };
})"""


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()  # axe-core as the PyPI package ships it: nothing is fetched at run time


def check_page(page, axe, shots: Path, name: str) -> None:
    """The page now open, loaded again at 1,280 and 390 px: it answers 200, does not scroll
    sideways, keeps every table in its box (first column fixed when the table is wider;
    at 1,280 px none is), logs no console error, loads every asset, and axe-core finds no
    serious or critical violation. A full-page screenshot of each width goes to `shots`
    (`name`-desktop.png, `name`-phone.png). The viewport is given back as it was."""
    url, viewport = page.url, page.viewport_size
    problems: list[str] = []

    def console(message) -> None:
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def failed(response) -> None:
        if response.status >= 400:
            problems.append(f"{response.status} for {response.url}")

    def crashed(error) -> None:
        problems.append(f"page error: {error}")

    page.on("console", console)
    page.on("pageerror", crashed)
    page.on("response", failed)
    try:
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            response = page.goto(url)
            assert response is not None and response.status == 200, f"{url}: {response}"
            page.screenshot(path=str(shots / f"{name}-{width_name}.png"), full_page=True)
            scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            assert scroll[0] <= scroll[1], f"{url} at {width}px scrolls sideways: {scroll}"
            tables = page.evaluate(TABLES)
            loose = [t["label"] for t in tables if not t["boxed"] or (t["wide"] and not t["fixed"])]
            assert loose == [], f"{url} at {width}px: unboxed, or wide with no fixed column"
            if width_name == "desktop":  # at 1,280 px every table fits: nothing scrolls
                wide = [t["label"] for t in tables if t["wide"]]
                assert wide == [], f"{url} at {width}px: tables wider than the page"
            results = axe.run(page)
            serious = [
                f"{v['id']} ({v['impact']}): {v['help']} at "
                + ", ".join(str(n["target"]) for n in v["nodes"][:3])
                for v in results.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert serious == [], f"{url} at {width}px"
        assert problems == [], url
    finally:
        page.remove_listener("console", console)
        page.remove_listener("pageerror", crashed)
        page.remove_listener("response", failed)
        if viewport:  # a flow goes on at the width it had
            page.set_viewport_size(viewport)


def sign_in(page, server: str, login: str) -> None:
    """Demo sign-in as one of the seeded people."""
    page.goto(server + "/login")
    with page.expect_navigation():  # the session cookie is set once the sign-in answered
        page.get_by_role("button", name=f"Sign in as {login}").click()
