"""Accessors for the app-wide services create_app() builds (settings, GitHub, secrets, HTTP).

Each service lives in ``app.extensions`` under one of the keys below; the app stores them,
everything else reads them through these functions (a domain's own services have their
accessors in that domain). ``app`` is for code outside an app context (worker, scheduler).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from flask import Flask, current_app

if TYPE_CHECKING:
    from service.accounts.github import GitHubAPI
    from service.accounts.oauth import GitHubOAuth
    from service.core.crypto import SecretBox
    from service.settings import Settings

SETTINGS = "tributary.settings"
HTTP = "tributary.http"
GITHUB = "tributary.github"
OAUTH = "tributary.oauth"
SECRETS = "tributary.secrets"


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
