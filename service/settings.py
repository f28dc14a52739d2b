"""One typed settings object, read from the environment and validated at start-up."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "demo", "test", "production"]


class SettingsError(RuntimeError):
    """The configuration cannot be used; the message says what to change."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRIBUTARY_", extra="ignore")

    env: Environment = "development"
    # Unset: one is generated once into the instance folder (see service.core.crypto).
    secret_key: str | None = None
    # Read without the prefix too: DATABASE_URL is what every platform sets.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # Shared fast state (outbound limits and pauses) for every process; unset: per process.
    redis_url: str | None = Field(default=None, validation_alias="REDIS_URL")
    instance_path: Path | None = None
    # Host the web server binds to; demo sign-in is refused anywhere but loopback.
    bind_host: str = "127.0.0.1"
    public_url: str | None = None

    github_client_id: str | None = None
    github_client_secret: str | None = None
    github_web_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    # "http" talks to GitHub; "demo" is the offline twin with seeded users and orgs.
    github_backend: Literal["http", "demo"] = "http"
    demo_signin: bool = False
    # A session unused this long ends (the user signs in again).
    session_idle_minutes: int = Field(default=120, ge=1, le=60 * 24 * 14)

    contact_url: str = "https://github.com/tributary-dev/tributary"
    http_timeout: float = 10.0
    max_upload_bytes: int = 50 * 1024 * 1024
    # Per company, so one tenant cannot fill the database: components in one SBOM, and
    # bytes of SBOMs stored in one (UTC) day.
    max_components_per_sbom: int = Field(default=200_000, ge=1)
    max_sbom_bytes_per_day: int = Field(default=500 * 1024 * 1024, ge=1)
    # Fernet key for secrets kept at rest (GitHub tokens); derived from secret_key if unset.
    encryption_key: str | None = None

    # Resolution (package -> source repository -> people). See service/projects/.
    # Days a metadata answer is used without asking its source again (shared by all companies).
    metadata_ttl_days: int = Field(default=7, ge=1)
    # Requests in flight per outside host, and worker threads of one resolution run.
    outbound_per_host_limit: int = Field(default=4, ge=1)
    resolution_workers: int = Field(default=32, ge=1)
    # Metadata sources to ask (default: all of them); e.g. '["pypi","npm","github"]'.
    resolution_sources: list[str] | None = None
    # Registry base URL overrides (a mirror, a test server): '{"npm": "https://…"}'.
    registry_base_urls: dict[str, str] = Field(default_factory=dict)
    # A JSON Lines metadata snapshot: resolve from it instead of the network (air-gapped).
    resolution_offline_snapshot: Path | None = None
    # Token for repository facts (5,000 GitHub API requests an hour instead of 60).
    github_metadata_token: str | None = None
    # Hosts the outbound client may reach although they are not public (a local mirror).
    outbound_allow_hosts: list[str] = Field(default_factory=list)
    # A claim whose evidence could not be re-checked for this long (no GitHub token) lapses.
    claim_recheck_grace_days: int = Field(default=30, ge=1)

    # The registry table for the infrastructure share (default: the one shipped with
    # Tributary, service/allocation/infrastructure/registries.toml).
    infrastructure_table: Path | None = None

    # Rows of one GitHub Sponsors bulk sponsorship file; longer exports are split.
    github_sponsors_row_limit: int = Field(default=100, ge=1)

    # E-mail about proposals (ready for review, approved): "smtp" sends it (the default
    # when smtp_host is set), "console" logs it instead (the default otherwise), "null"
    # sends nothing. Webhooks: "http" POSTs them, "console" logs them, "null" drops them.
    mail_backend: Literal["smtp", "console", "null"] | None = None
    webhook_backend: Literal["http", "console", "null"] = "http"
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str = "tributary@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True

    # Background work. A worker renews the lease of the task it runs every third of this
    # many seconds; a task whose lease ran out (its worker died) is free for any worker.
    task_lease_seconds: int = Field(default=60, ge=1)
    # The one scheduler holds its lease this long and renews it on every beat.
    scheduler_lease_seconds: int = Field(default=30, ge=1)

    # Rate limits per client (service/core/ratelimit.py), in the notation
    # "N per second|minute|hour|day", several joined by ";". Counted in Redis when
    # REDIS_URL is set, so every web process shares them.
    rate_limits_enabled: bool = True
    rate_limit_signin: str = "20 per minute; 200 per day"
    rate_limit_uploads: str = "60 per minute"
    rate_limit_api: str = "1200 per minute"
    # Proxies in front of the web processes that append the client to X-Forwarded-For:
    # rate limits then count per the address they name, not the last proxy's.
    forwarded_hops: int = Field(default=0, ge=0, le=5)

    # Bearer token a Prometheus scrape of /metrics sends; unset: /metrics answers 404.
    metrics_token: str | None = None

    # Database connections of one process (PostgreSQL; SQLite opens them as needed):
    # kept open, opened beyond that under load, waited for (seconds) before failing, and
    # replaced after this many seconds (below any server or proxy idle timeout).
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)

    @field_validator("rate_limit_signin", "rate_limit_uploads", "rate_limit_api")
    @classmethod
    def _rate_limit(cls, value: str, info: ValidationInfo) -> str:
        if value == cls.model_fields[info.field_name or ""].default:
            return value  # the defaults parse (a test checks): every command needs no import
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise SettingsError(
                f"TRIBUTARY_{(info.field_name or '').upper()}={value!r} is not a rate limit; "
                "write e.g. '60 per minute' or '10 per second; 1000 per day'."
            ) from None
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.env == "demo" and not self.github_oauth_configured:
            # The offline demo: seeded people sign in, GitHub answers come from the twin.
            self.demo_signin = True
            self.github_backend = "demo"
        if self.mail_backend is None:
            self.mail_backend = "smtp" if self.smtp_host else "console"
        if self.mail_backend == "smtp" and not self.smtp_host:
            raise SettingsError(
                "TRIBUTARY_MAIL_BACKEND=smtp needs TRIBUTARY_SMTP_HOST; set it, or choose "
                "console (log the messages) or null."
            )
        relaxed = self.env in ("development", "demo", "test")
        if not relaxed and (not self.secret_key or len(self.secret_key) < 32):
            raise SettingsError(
                "TRIBUTARY_SECRET_KEY must be set to a random value of at least 32 characters "
                f"when TRIBUTARY_ENV={self.env} (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))')."
            )
        if self.demo_signin and self.env == "production":
            raise SettingsError(
                "TRIBUTARY_DEMO_SIGNIN cannot be enabled when TRIBUTARY_ENV=production."
            )
        if self.demo_signin and not is_loopback(self.bind_host):
            raise SettingsError(
                f"Demo sign-in is enabled but the server binds to {self.bind_host!r}; "
                "demo sign-in only works on a loopback address (127.0.0.1). "
                "Unset TRIBUTARY_DEMO_SIGNIN or bind to 127.0.0.1."
            )
        if self.github_backend == "demo" and self.env == "production":
            raise SettingsError("TRIBUTARY_GITHUB_BACKEND=demo is not allowed in production.")
        return self

    @property
    def github_oauth_configured(self) -> bool:
        return bool(self.github_client_id and self.github_client_secret)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def load_settings(overrides: dict | None = None) -> Settings:
    """Settings from the environment, with explicit overrides (tests, factories) on top."""
    try:
        return Settings(**(overrides or {}))
    except SettingsError:
        raise
    except ValueError as exc:  # pydantic's ValidationError wraps our SettingsError
        cause = _settings_error_in(exc)
        if cause:
            raise cause from None
        raise SettingsError(f"Invalid configuration: {exc}") from None


def _settings_error_in(exc: ValueError) -> SettingsError | None:
    for error in getattr(exc, "errors", list)():
        ctx_error = (error.get("ctx") or {}).get("error")
        if isinstance(ctx_error, SettingsError):
            return ctx_error
    return None
