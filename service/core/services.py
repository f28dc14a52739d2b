"""Accessors for the app-wide services create_app() builds (settings, GitHub, secrets, HTTP).

Each service lives in ``app.extensions`` under one of the keys below; the app stores them,
everything else reads them through these functions (a domain's own services have their
accessors in that domain). ``app`` is for code outside an app context (worker, scheduler).

An app for commands builds its outside services on first use (`Services`): a command that
never sends a request or a mail never imports the HTTP client or builds its TLS context.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    import httpx

    from service.accounts.github import GitHubAPI
    from service.accounts.oauth import GitHubOAuth
    from service.core.crypto import SecretBox
    from service.settings import Settings

SETTINGS = "tributary.settings"
HTTP = "tributary.http"
GITHUB = "tributary.github"
OAUTH = "tributary.oauth"
SECRETS = "tributary.secrets"
# The one outbound client for metadata sources (a core.http.OutboundClient; its accessor
# and builder are the projects domain's `sources`).
OUTBOUND = "tributary.outbound"


def get_settings(app: Flask | None = None) -> Settings:
    return (app or current_app).extensions[SETTINGS]


def get_http() -> httpx.Client:
    return current_app.extensions[HTTP]


def get_github() -> GitHubAPI:
    return current_app.extensions[GITHUB]


def get_oauth() -> GitHubOAuth | None:
    return current_app.extensions[OAUTH]


def get_secrets() -> SecretBox:
    return current_app.extensions[SECRETS]


class Services(dict[str, Any]):
    """`app.extensions` whose outside services are built by their factory when first read
    (`extensions[key]`), once, even by threads at once (the worker's); a value stored
    under a key (a test's fake) is kept as it is."""

    def __init__(self, factories: Mapping[str, Callable[[], Any]]) -> None:
        super().__init__()
        self.factories = dict(factories)
        self._building = threading.RLock()  # re-entrant: GitHub's factory reads HTTP's

    def __missing__(self, key: str) -> Any:
        if key not in self.factories:
            raise KeyError(key)
        with self._building:
            if key not in self:
                self[key] = self.factories[key]()
            return super().__getitem__(key)

    def build_all(self) -> None:
        """Build every service now (the web app: its first request waits for none)."""
        for key in self.factories:
            self[key]  # reading builds it
