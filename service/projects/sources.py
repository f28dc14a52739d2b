"""The app's metadata sources: one OutboundClient per app, providers built from settings.

``build_outbound(settings)`` is called once per app (on first use); everything that talks to
registries, deps.dev, ecosyste.ms or GitHub for metadata goes through that client, so its
per-host limit, retries and request counters cover all of it.  Tests and tools can put
ready-made providers in ``app.extensions[PROVIDERS]``.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app
from sqlalchemy import Engine

from service import __version__
from service.core.addresses import is_forbidden_host
from service.core.http import OutboundClient
from service.core.outbound_files import FileLimits
from service.core.outbound_limits import OutboundLimits, RedisLimits
from service.core.outbound_pauses import DatabaseLimits
from service.core.services import OUTBOUND, get_settings
from service.db import get_db
from service.projects.parent_poms import StoredParentPoms
from service.projects.providers import (
    SOURCE_POLICIES,
    Provider,
    build_providers,
    offline_providers,
)
from service.settings import Settings

# Keys in app.extensions: the online providers (built on first use, or put there by tests
# and tools), the offline ones by snapshot path (the outbound client's: core.services).
PROVIDERS = "tributary.providers"
OFFLINE_PROVIDERS = "tributary.offline_providers"


def build_outbound(settings: Settings, engine: Engine | None = None) -> OutboundClient:
    """The single outbound client: User-Agent with the contact URL, per-host limits shared
    with every process through Redis when ``REDIS_URL`` is set; without it, slots, spacing
    and pauses shared through the database ``engine`` when that is PostgreSQL (several
    workers run on it), slots and spacing through lock files beside a SQLite database (a
    write beside the caller's own write transaction would wait for its lock there), and
    tests aside (a row written beside a test's rolled-back transaction would outlive
    it)."""
    limits: OutboundLimits | None = None
    if settings.redis_url:
        limits = RedisLimits.from_url(settings.redis_url, time.time, time.sleep)
    elif engine is not None and settings.env != "test":
        if engine.dialect.name == "postgresql":
            limits = DatabaseLimits(engine, time.time, time.sleep)
        elif engine.url.database not in (None, "", ":memory:"):  # SQLite: one machine
            limits = FileLimits(Path(f"{engine.url.database}.outbound"), time.time, time.sleep)
    return OutboundClient(
        version=__version__,
        contact_url=settings.contact_url,
        read_timeout=settings.http_timeout,
        per_host_limit=settings.outbound_per_host_limit,
        source_policies=SOURCE_POLICIES,
        limits=limits,
        allow_hosts=settings.outbound_allow_hosts,
    )


def get_outbound(app: Flask | None = None) -> OutboundClient:
    return (app or current_app).extensions[OUTBOUND]


def github_web_host(settings: Settings) -> str:
    """The GitHub whose repositories are read: github.com, or a GitHub Enterprise Server."""
    host = (urlsplit(settings.github_web_url).hostname or "").lower()
    if not host or host == "github.com" or is_forbidden_host(host):
        return "github.com"
    return host


def offline_snapshot_path(settings: Settings, snapshot: str | Path | None = None) -> Path | None:
    """The snapshot to resolve from: an explicit one, else the configured one (the demo's
    own in the demo, see create_app)."""
    if snapshot:
        return Path(snapshot)
    if settings.resolution_offline_snapshot:
        return Path(settings.resolution_offline_snapshot)
    return None


def app_providers(
    app: Flask | None = None, *, offline: bool = False, snapshot: str | Path | None = None
) -> dict[str, Provider]:
    """{source: provider} for this app: online from settings, or from an offline snapshot."""
    app = app or current_app
    settings = get_settings(app)
    path = offline_snapshot_path(settings, snapshot)
    if offline or snapshot or settings.resolution_offline_snapshot:
        if path is None:
            raise FileNotFoundError(
                "No offline snapshot: set TRIBUTARY_RESOLUTION_OFFLINE_SNAPSHOT to a JSON Lines "
                "file (made with `tributary metadata export`)."
            )
        cache = app.extensions.setdefault(OFFLINE_PROVIDERS, {})
        if str(path) not in cache:
            providers = offline_providers(path)
            if settings.resolution_sources is not None:
                wanted = set(settings.resolution_sources)
                providers = {k: v for k, v in providers.items() if k in wanted}
            cache[str(path)] = providers
        return cache[str(path)]
    injected = app.extensions.get(PROVIDERS)
    if injected is not None:
        return injected
    base_urls = {"github": settings.github_api_url, **settings.registry_base_urls}
    # Tests share one connection across threads (rolled back after): parents per process.
    parents = None if settings.env == "test" else StoredParentPoms(get_db(app))
    providers = build_providers(
        get_outbound(app),
        base_urls=base_urls,
        enabled=settings.resolution_sources,
        github_token=settings.github_metadata_token,
        github_web_host=github_web_host(settings),
        maven_parents=parents,
    )
    app.extensions[PROVIDERS] = providers
    return providers
