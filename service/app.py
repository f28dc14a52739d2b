"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, Response

from service import __version__, domains
from service.core.crypto import SECRET_KEY_FILE, instance_secret_key
from service.core.logs import configure_logging
from service.core.metrics import watch_pool
from service.core.services import GITHUB, HTTP, OAUTH, OUTBOUND, SECRETS, SETTINGS, Services
from service.db import (
    DATABASE,
    PACKAGE_ROOT,
    Database,
    PoolSize,
    close_session,
    respond,
    shipped,
)
from service.demo import DEMO_SNAPSHOT
from service.notifications.services import MAIL_SENDER, WEBHOOK_SENDER
from service.settings import Settings, load_settings

if TYPE_CHECKING:
    import httpx

    from service.accounts.github import GitHubAPI
    from service.accounts.oauth import GitHubOAuth
    from service.core.crypto import SecretBox
    from service.core.http import OutboundClient
    from service.notifications.delivery import MailSender, WebhookPoster

log = logging.getLogger(__name__)


class Tributary(Flask):
    """Flask, each request's database work committed once as its view answers (`respond`)."""

    def dispatch_request(self) -> Response:
        dispatch = super().dispatch_request
        return respond(lambda: self.make_response(dispatch()))


def create_app(config: dict[str, Any] | Settings | None = None, *, web: bool = True) -> Flask:
    """Build the app. `config` overrides settings from the environment (tests, tools).

    Every app has the settings, the database, the outside services and every domain's
    tables and signal receivers (`service.domains.init_app`): all a command, the worker
    or the scheduler uses. `web=False` stops there, an app for commands; the web server's
    part (request hooks, pages, error pages: `service.web`) is imported only for the other.
    """
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Tributary(
        "service",
        template_folder=str(shipped("templates")),
        static_folder=str(PACKAGE_ROOT / "static"),
        instance_path=str(settings.instance_path) if settings.instance_path else None,
        instance_relative_config=True,
    )
    settings = _with_demo_snapshot(_with_secret_key(app, settings))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="tributary_session",
        PERMANENT_SESSION_LIFETIME=timedelta(days=14),
        WTF_CSRF_TIME_LIMIT=None,
        TESTING=settings.env == "test",
    )
    # Outside services are built when first used; the web server's app builds them now.
    app.extensions = Services(_outside_services(app, settings))
    app.extensions[SETTINGS] = settings
    if settings.env != "test":  # tests read log records through pytest's own handler
        configure_logging("web" if web else "cli")

    pool = PoolSize(
        settings.db_pool_size,
        settings.db_max_overflow,
        settings.db_pool_timeout,
        settings.db_pool_recycle,
    )
    database = app.extensions[DATABASE] = Database(_database_url(app, settings), pool)
    watch_pool(database.engine, pool.size + pool.overflow)
    app.teardown_appcontext(close_session)
    domains.init_app(app)
    if web:
        from service.web import init_web

        app.extensions.build_all()
        init_web(app, settings)
    return app


def _with_secret_key(app: Flask, settings: Settings) -> Settings:
    """Settings with a secret key nobody else knows: the configured one, else (tests aside)
    one generated once into the instance folder; tests get a new random one per app."""
    if settings.secret_key:
        return settings
    if settings.env == "test":
        key = secrets.token_urlsafe(48)
    else:
        key, made = instance_secret_key(Path(app.instance_path))
        where = Path(app.instance_path) / SECRET_KEY_FILE
        log.warning(
            "TRIBUTARY_SECRET_KEY is not set: %s the secret key in %s (mode 0600); "
            "set TRIBUTARY_SECRET_KEY to choose one",
            "generated" if made else "using",
            where,
        )
    return settings.model_copy(update={"secret_key": key})


def _with_demo_snapshot(settings: Settings) -> Settings:
    """The demo resolves from its own metadata snapshot unless another one is configured."""
    if settings.env != "demo" or settings.resolution_offline_snapshot:
        return settings
    return settings.model_copy(update={"resolution_offline_snapshot": DEMO_SNAPSHOT})


def _database_url(app: Flask, settings: Settings) -> str:
    if settings.database_url:
        url = settings.database_url
        # Platforms hand out postgres:// URLs; SQLAlchemy wants an explicit driver.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    os.makedirs(app.instance_path, exist_ok=True)
    return f"sqlite:///{app.instance_path}/tributary.db"


def _outside_services(app: Flask, settings: Settings) -> dict[str, Callable[[], Any]]:
    """How each outside service is built (`Services`: on first use, or all at once)."""

    def http() -> httpx.Client:
        import httpx

        return httpx.Client(
            timeout=httpx.Timeout(settings.http_timeout, connect=5.0),
            headers={"User-Agent": f"Tributary/{__version__} (+{settings.contact_url})"},
            follow_redirects=False,
        )

    def outbound() -> OutboundClient:
        # The one polite, guarded client for metadata sources (registries, deps.dev, GitHub).
        from service.projects.sources import build_outbound

        return build_outbound(settings, app.extensions[DATABASE].engine)

    def github() -> GitHubAPI:
        if settings.github_backend == "demo":
            from service.demo.github import demo_github

            return demo_github()
        from service.accounts.github import HttpGitHubAPI

        return HttpGitHubAPI(app.extensions[HTTP], settings.github_api_url)

    def oauth() -> GitHubOAuth | None:
        if not settings.github_oauth_configured:
            return None
        from service.accounts.oauth import GitHubOAuth

        return GitHubOAuth(
            app.extensions[HTTP],
            settings.github_web_url,
            settings.github_client_id,
            settings.github_client_secret,
        )

    return {
        HTTP: http,
        OUTBOUND: outbound,
        GITHUB: github,
        OAUTH: oauth,
        **_own_services(settings),
    }


def _own_services(settings: Settings) -> dict[str, Callable[[], Any]]:
    """The secrets box, and the e-mail and webhook senders (the real ones or their twins,
    as the settings choose)."""

    def secrets() -> SecretBox:
        from service.core.crypto import SecretBox

        return SecretBox(settings.secret_key, settings.encryption_key)

    def mail() -> MailSender:
        from service.notifications.delivery import build_mail_sender

        return build_mail_sender(settings)

    def webhooks() -> WebhookPoster:
        from service.notifications.delivery import build_webhook_sender

        return build_webhook_sender(settings)

    return {SECRETS: secrets, MAIL_SENDER: mail, WEBHOOK_SENDER: webhooks}
