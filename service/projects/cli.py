"""`tributary resolve` and `tributary metadata …`: resolution and the metadata cache by hand.

* ``tributary resolve --company SLUG [--product NAME] [--offline] [--snapshot FILE]``
  resolves synchronously with a progress bar (the web app only ever queues it) and lists
  every package that failed with its reason (``--failures``: also those that no source
  links to a repository);
* ``tributary metadata stats`` — what the shared cache holds per source and how many
  requests each source was sent (today, last 7 and 30 days): the operator's view of the
  load Tributary puts on registries;
* ``tributary metadata export FILE`` / ``import FILE`` — move the cache between installs
  as a JSON Lines snapshot (the format the offline provider reads); an export is written
  whole or not at all, an import checks every line before it stores any.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click
from sqlmodel import Session, col, select

from service.companies.models import Company
from service.core.cli import with_appcontext
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import get_db
from service.projects import cache as metadata_cache
from service.projects import services
from service.projects.models import MetadataCacheEntry
from service.projects.providers import PackageMetadata
from service.projects.providers.offline import SnapshotError, SnapshotRecord, iter_snapshot
from service.projects.resolution_store import upsert_cache
from service.sboms.models import Product
from service.sboms.services import latest_sbom

if TYPE_CHECKING:
    from service.projects.resolution_state import ResolutionReport


@click.command("resolve")
@click.option("--company", "slug", required=True, help="Company slug.")
@click.option("--product", "product_name", help="Only this product (default: all of them).")
@click.option("--offline", is_flag=True, help="Answer from a metadata snapshot, no network.")
@click.option(
    "--snapshot",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON Lines snapshot for --offline (default: the configured one).",
)
@click.option("--all", "everything", is_flag=True, help="Also packages resolved recently.")
@click.option(
    "--failures", "list_unresolved", is_flag=True, help="Also list packages without a project."
)
@with_appcontext
def resolve_command(
    slug: str,
    product_name: str | None,
    offline: bool,
    snapshot: str | None,
    everything: bool,
    list_unresolved: bool,
) -> None:
    """Resolve a company's packages to projects now, with a progress bar."""
    database = get_db()
    now = utcnow()
    with database.transaction() as session:
        sbom_ids = _sbom_ids(session, slug, product_name)
        if not sbom_ids:
            raise click.ClickException("Nothing to resolve: upload an SBOM first.")
        ids = services.due_package_ids(session, now, sbom_ids=sbom_ids, include_fresh=everything)
    if not ids:
        click.echo("Every package is resolved and within its TTL (use --all to check again).")
        return
    try:
        with click.progressbar(length=len(ids), label="Resolving", show_pos=True) as bar:
            report = services.run_resolution(
                database,
                ids,
                now=now,
                offline=offline,
                snapshot=snapshot,
                progress=bar.update,
                retry_now=True,
            )
    except (FileNotFoundError, SnapshotError) as exc:
        raise click.ClickException(str(exc)) from None
    _echo_report(report, list_unresolved)


def _sbom_ids(session: Session, slug: str, product_name: str | None) -> list[int]:
    """The SBOMs to resolve: the product's latest, or every product's of the company."""
    company = session.exec(select(Company).where(Company.slug == slug)).first()
    if company is None:
        raise click.ClickException(f"No company with the slug {slug!r}.")
    if not product_name:
        return services.active_sbom_ids(session, company.id)
    product = session.exec(
        select(Product).where(Product.company_id == company.id, Product.name == product_name)
    ).first()
    if product is None:
        raise click.ClickException(f"{slug} has no product named {product_name!r}.")
    sbom = latest_sbom(session, product)
    return [sbom.id] if sbom else []


def _echo_report(report: ResolutionReport, list_unresolved: bool) -> None:
    click.echo(
        f"{report.packages} packages: {report.resolved} resolved, {report.unresolved} without "
        f"a known repository, {report.errors} failed (retried later); {report.projects} "
        f"projects updated in {report.seconds:.1f}s."
    )
    if report.requests:
        sent = ", ".join(f"{k} {v}" for k, v in sorted(report.requests.items()))
        click.echo(f"Requests sent: {sent}.")
    else:
        click.echo("No request was sent.")
    for key, reason in report.failures:
        click.echo(f"failed: {key}: {reason}")
    if list_unresolved:
        for key, reason in report.unlinked:
            click.echo(f"no project: {key}: {reason}")


@click.group("metadata")
def metadata_group() -> None:
    """The shared package metadata cache."""


@metadata_group.command("stats")
@with_appcontext
def metadata_stats() -> None:
    """Cache entries and requests sent per source."""
    now = utcnow()
    with get_db().transaction() as session:
        rows = metadata_cache.stats(session, now)
        today = services.usage(session, now.date())
        week = services.usage(session, now.date() - timedelta(days=6))
        month = services.usage(session, now.date() - timedelta(days=29))
    sources = sorted({r["source"] for r in rows} | set(month))
    by_source = {r["source"]: r for r in rows}
    click.echo(
        f"{'source':<12}{'entries':>9}{'fresh':>8}{'stale':>8}{'404':>7}{'failing':>9}"
        f"{'req today':>11}{'7 days':>9}{'30 days':>9}"
    )
    for source in sources:
        r = by_source.get(source, {})
        click.echo(
            f"{source:<12}{r.get('entries', 0):>9}{r.get('fresh', 0):>8}{r.get('stale', 0):>8}"
            f"{r.get('not_found', 0):>7}{r.get('failing', 0):>9}{today.get(source, 0):>11}"
            f"{week.get(source, 0):>9}{month.get(source, 0):>9}"
        )
    if not sources:
        click.echo("(empty)")


@metadata_group.command("export")
@click.argument("target", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def metadata_export(target: str) -> None:
    """Write every good cache answer to TARGET as a JSON Lines snapshot."""
    count = 0
    # Written beside TARGET and moved over it at the end: a failed export leaves no file
    # that an import would take for a whole one.
    descriptor, partial = tempfile.mkstemp(
        dir=Path(target).resolve().parent, prefix=".export-", suffix=".jsonl"
    )
    try:
        with get_db().transaction() as session, open(descriptor, "w", encoding="utf-8") as handle:
            query = (
                select(MetadataCacheEntry)
                .where(col(MetadataCacheEntry.data).is_not(None))
                .order_by(col(MetadataCacheEntry.source), col(MetadataCacheEntry.key))
            )
            for entry in session.exec(query.execution_options(yield_per=500)):
                if not isinstance(entry.data, dict):  # a failure without an answer (JSON null)
                    continue
                record = SnapshotRecord(
                    entry.source,
                    entry.key,
                    entry.fetched_at,
                    PackageMetadata.from_dict(entry.data),
                )
                handle.write(record.to_json() + "\n")
                count += 1
        os.replace(partial, target)
    except BaseException:
        os.unlink(partial)
        raise
    click.echo(f"Exported {count} cache entries to {target}.")


@metadata_group.command("import")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def metadata_import(source: str) -> None:
    """Load a JSON Lines snapshot into the cache (used as fresh for one TTL from now)."""

    ttl = timedelta(days=get_settings().metadata_ttl_days)
    now = utcnow()
    try:
        # Every line is read and checked before anything is stored: all or nothing.
        entries = [
            MetadataCacheEntry(
                source=record.source[:20],
                key=record.key[:500],
                status="ok",
                fetched_at=record.fetched_at or now,
                expires_at=now + ttl,
                attempts=0,
                data=record.metadata.to_dict(),
                updated_at=now,
            )
            for record in iter_snapshot(source)
        ]
    except SnapshotError as exc:
        raise click.ClickException(f"{source}: {exc} (nothing was imported)") from None
    with get_db().transaction() as session:
        for chunk in metadata_cache._chunks(entries, 500):
            upsert_cache(session, list(chunk))
    click.echo(f"Imported {len(entries)} cache entries from {source}.")
