"""The web server's part of the app: what only serving requests needs.

`create_app` adds it unless it builds an app for commands (`web=False`): the request
hooks (metrics, request ids, rate limits, CSRF, the migrations gate, bad-input refusals),
every domain's pages (`service.domains.init_web`), the template globals, the error pages
and the security headers. Nothing a command, the worker or the scheduler does reads any of
it, so they never import the views, forms, charts or Flask-Limiter.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException

from service import domains
from service.core.errors import DATABASE_ERRORS, database_error
from service.core.logs import init_request_ids
from service.core.metrics import init_request_metrics
from service.core.ratelimit import init_rate_limits
from service.settings import Settings

csrf = CSRFProtect()


def init_web(app: Flask, settings: Settings) -> None:
    """Make `app` serve requests: its request hooks, every domain's pages, its error pages."""
    init_request_metrics(app)
    init_request_ids(app)
    init_rate_limits(app, settings)
    csrf.init_app(app)
    domains.init_web(app)
    # The API authenticates with bearer tokens, never cookies, so CSRF does not apply.
    for blueprint in app.blueprints.values():
        if (blueprint.url_prefix or "").startswith("/api/"):
            csrf.exempt(blueprint)
    _register_hooks(app, settings)


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
