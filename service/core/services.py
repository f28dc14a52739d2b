"""Accessors for the app-wide services create_app() builds (settings, GitHub, secrets, HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from flask import current_app

if TYPE_CHECKING:
    from service.accounts.github import GitHubAPI
    from service.accounts.oauth import GitHubOAuth
    from service.core.crypto import SecretBox
    from service.settings import Settings


def get_settings() -> Settings:
    return current_app.extensions["tributary.settings"]


def get_http() -> httpx.Client:
    return current_app.extensions["tributary.http"]


def get_github() -> GitHubAPI:
    return current_app.extensions["tributary.github"]


def get_oauth() -> GitHubOAuth | None:
    return current_app.extensions["tributary.oauth"]


def get_secrets() -> SecretBox:
    return current_app.extensions["tributary.secrets"]
