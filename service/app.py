"""The application factory."""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from flask import Flask, Response, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from service import __version__, domains
from service.accounts.github import HttpGitHubAPI
from service.accounts.oauth import GitHubOAuth
from service.core.crypto import SECRET_KEY_FILE, SecretBox, instance_secret_key
from service.core.errors import DATABASE_ERRORS, database_error
from service.core.logs import configure_logging, init_request_ids
from service.core.metrics import init_request_metrics, watch_pool
from service.core.ratelimit import init_rate_limits
from service.core.services import GITHUB, HTTP, OAUTH, SECRETS, SETTINGS
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
from service.notifications.delivery import build_mail_sender, build_webhook_sender
from service.notifications.services import MAIL_SENDER, WEBHOOK_SENDER
from service.settings import Settings, load_settings

csrf = CSRFProtect()
log = logging.getLogger(__name__)


class Tributary(Flask):
    """Flask, each request's database work committed once as its view answers (`respond`)."""

    def dispatch_request(self) -> Response:
        dispatch = super().dispatch_request
        return respond(lambda: self.make_response(dispatch()))


def create_app(config: dict[str, Any] | Settings | None = None) -> Flask:
    """Build the app. `config` overrides settings from the environment (tests, tools)."""
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
    app.extensions[SETTINGS] = settings
    if settings.env != "test":  # tests read log records through pytest's own handler
        configure_logging("web")
    init_request_metrics(app)
    init_request_ids(app)
    init_rate_limits(app, settings)

    pool = PoolSize(
        settings.db_pool_size,
        settings.db_max_overflow,
        settings.db_pool_timeout,
        settings.db_pool_recycle,
    )
    database = app.extensions[DATABASE] = Database(_database_url(app, settings), pool)
    watch_pool(database.engine, pool.size + pool.overflow)
    app.teardown_appcontext(close_session)
    _init_outside_services(app, settings)
    csrf.init_app(app)
    _init_domains(app)
    _register_hooks(app, settings)
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


def _init_outside_services(app: Flask, settings: Settings) -> None:
    http = httpx.Client(
        timeout=httpx.Timeout(settings.http_timeout, connect=5.0),
        headers={"User-Agent": f"Tributary/{__version__} (+{settings.contact_url})"},
        follow_redirects=False,
    )
    app.extensions[HTTP] = http
    # The one polite, guarded client for metadata sources (registries, deps.dev, GitHub).
    from service.projects.sources import OUTBOUND, build_outbound

    app.extensions[OUTBOUND] = build_outbound(settings, app.extensions[DATABASE].engine)
    app.extensions[SECRETS] = SecretBox(settings.secret_key, settings.encryption_key)
    if settings.github_backend == "demo":
        from service.demo.github import demo_github

        app.extensions[GITHUB] = demo_github()
    else:
        app.extensions[GITHUB] = HttpGitHubAPI(http, settings.github_api_url)
    # E-mail and webhooks: the real senders or their twins, as the settings choose.
    app.extensions[MAIL_SENDER] = build_mail_sender(settings)
    app.extensions[WEBHOOK_SENDER] = build_webhook_sender(settings)
    app.extensions[OAUTH] = (
        GitHubOAuth(
            http, settings.github_web_url, settings.github_client_id, settings.github_client_secret
        )
        if settings.github_oauth_configured
        else None
    )


def _init_domains(app: Flask) -> None:
    domains.init_app(app)
    # The API authenticates with bearer tokens, never cookies, so CSRF does not apply.
    for blueprint in app.blueprints.values():
        if (blueprint.url_prefix or "").startswith("/api/"):
            csrf.exempt(blueprint)


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
        "script-src 'self'; frame-ancestors 'none'; form-action 'self' https:; base-uri 'none'"
    ),
}


def with_security_headers(response, *, production: bool):
    """Add the security headers (HSTS in production) to any response, error pages too."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if production:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


def _register_hooks(app: Flask, settings: Settings) -> None:
    from service.accounts.auth import current_user
    from service.core.errors import refuse_impossible_ids, refuse_nul_input
    from service.core.ui import TEMPLATE_GLOBALS
    from service.core.views import migrations_gate

    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.before_request(migrations_gate)
    app.before_request(refuse_nul_input)
    app.before_request(refuse_impossible_ids)

    @app.after_request
    def _security_headers(response):
        return with_security_headers(response, production=settings.is_production)

    @app.context_processor
    def _page_context():
        from service.companies.access import my_companies

        demo_mode = settings.demo_signin or settings.github_backend == "demo"
        if g.get("database_unavailable"):
            # The page of a database outage is drawn without asking the database (the
            # request's rows are expired by its rollback: reading them would query).
            return {
                "current_user": None,
                "my_companies": [],
                "active_company": None,
                "active_role": None,
                "demo_mode": demo_mode,
                "settings": settings,
            }
        user = current_user() if request.endpoint not in (None, "static") else None
        return {
            "current_user": user,
            "my_companies": my_companies() if user else [],
            "active_company": g.get("company"),
            "active_role": g.membership.role if g.get("membership") else None,
            "demo_mode": demo_mode,
            "settings": settings,
        }

    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(500, _error_page)
    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_error)


def _error_page(error):
    from service.core.errors import error_response

    return error_response(error)
