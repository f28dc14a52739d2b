"""A live demo server and headless Chromium (the system's, never a downloaded one)."""

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
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
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
def artifacts(tmp_path_factory):
    """Where screenshots go: $TRIBUTARY_TEST_ARTIFACTS (CI keeps it), else pytest's tmp."""
    configured = os.environ.get("TRIBUTARY_TEST_ARTIFACTS")
    if configured:
        folder = Path(configured) / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def sign_in(page, server: str, login: str) -> None:
    """Demo sign-in as one of the seeded people."""
    page.goto(server + "/login")
    page.get_by_role("button", name=f"Sign in as {login}").click()
    page.wait_for_load_state()
