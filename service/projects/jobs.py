"""Background work of the projects domain (run by `tributary scheduler`).

* ``projects.resolve_sbom`` — queued by SBOM ingest: resolve that SBOM's packages;
* ``projects.resolve_due`` — queued after a run with failures: retry once backoff ends;
* ``projects.nightly_refresh`` (02:00 UTC) — packages of active inventories whose
  answer is older than the TTL or whose retry is due (conditional requests);
* ``projects.recheck_claims`` (03:30 UTC) — re-check maintainers' claims, lapse the
  ones whose evidence is gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from service.accounts.services import github_token
from service.core.services import get_github, get_secrets, get_settings
from service.db import get_db
from service.jobs.registry import periodic, task
from service.projects import claims, services
from service.sboms.models import Sbom

log = logging.getLogger(__name__)
NIGHTLY_LIMIT = 50_000


@task(services.RESOLVE_SBOM)
def resolve_sbom(payload: dict, now: datetime) -> None:
    database = get_db()
    sbom_id = int(payload["sbom_id"])
    with database.transaction() as session:
        due = services.due_package_ids(session, now, sbom_ids=[sbom_id])
        sbom = session.get(Sbom, sbom_id)
        linked = services.linked_package_ids(session, sbom) if sbom else []
        ids = list(dict.fromkeys(due + linked))
    report = services.run_resolution(
        database, ids, now=now, retry_now=bool(payload.get("retry_now"))
    )
    if report.packages:
        log.info(
            "SBOM %s: looked up %d packages: %d resolved, %d without a known repository, "
            "%d failed (retried later)",
            sbom_id,
            report.packages,
            report.resolved,
            report.unresolved,
            report.errors,
        )
    else:
        log.info("SBOM %s: every package is already looked up; nothing was due", sbom_id)


@task(services.RESOLVE_DUE)
def resolve_due(payload: dict, now: datetime) -> None:
    database = get_db()
    with database.transaction() as session:
        ids = services.due_package_ids(session, now, limit=NIGHTLY_LIMIT)
    services.run_resolution(database, ids, now=now)


@periodic("projects.nightly_refresh", cron={"hour": 2, "minute": 0})
def nightly_refresh(now: datetime) -> None:
    """Refresh package metadata older than the TTL and retry failed lookups."""
    resolve_due({}, now)


@periodic("projects.recheck_claims", cron={"hour": 3, "minute": 30})
def recheck_claims(now: datetime) -> None:
    """Re-check maintainers' claims with GitHub; lapse those whose evidence is gone."""
    settings = get_settings()
    secrets = get_secrets()

    def token_for(user):
        try:
            return github_token(user, secrets)
        except Exception:  # a token sealed with an old key: treat as absent
            return None

    with get_db().transaction() as session:
        report = claims.recheck_claims(
            session,
            github=get_github(),
            token_for=token_for,
            now=now,
            grace=timedelta(days=settings.claim_recheck_grace_days),
        )
    log.info("claims re-checked in %s: %s", current_app.name, report)
