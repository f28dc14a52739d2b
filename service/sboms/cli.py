"""``tributary sbom``: read an SBOM without a database, or store one for a product.

``inspect FILE [--json]`` needs no app, configuration or database (it never builds the
app): it prints the parser's summary, or with ``--json`` exactly one JSON object on stdout
(``ParsedSbom.summary()``). An unreadable file exits with status 1; with ``--json`` stdout
then holds ``{"error": {"code", "message", "details"}}``.

``ingest FILE --company SLUG --product NAME [--version V] [--json]`` stores it, in one
transaction, and prints the summary and the diff against the product's previous upload.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

import click

from service.core.cli import with_appcontext

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

__all__ = ["sbom_group"]


@click.group(name="sbom")
def sbom_group() -> None:
    """Read and store SBOMs."""


def _fail(error: dict[str, Any], as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": error}, ensure_ascii=False))
    else:
        click.echo(f"Error ({error['code']}): {error['message']}", err=True)
    sys.exit(1)


class ReadAhead:
    """A FILE argument ('-' for stdin) read in a thread from the moment it is parsed, and
    with `digest` its SHA-256 taken there too: the command meanwhile imports the reader
    (`inspect`) or builds the app (`ingest`, 0.7 s), and reading and hashing let other
    Python run (a 47 MB file: 0.05 s of `ingest` hidden)."""

    def __init__(self, path: str, *, digest: bool) -> None:
        self.path = path
        self.sha256: str | None = None
        self._data = b""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._read, args=(digest,), daemon=True)
        self._thread.start()

    def _read(self, digest: bool) -> None:
        try:
            if self.path == "-":
                self._data = sys.stdin.buffer.read()
            else:
                with open(self.path, "rb") as handle:
                    self._data = handle.read()
        except OSError as exc:
            self._error = exc
            return
        if digest:
            import hashlib

            self.sha256 = hashlib.sha256(self._data).hexdigest()

    def data(self, as_json: bool) -> bytes:
        """The file's bytes, once read; an unreadable file ends the command with its error."""
        self._thread.join()
        if self._error is not None:
            _fail(
                {
                    "code": "unreadable_file",
                    "message": f"Cannot read {self.path}: {self._error.strerror or self._error}",
                    "details": {"path": self.path},
                },
                as_json,
            )
        return self._data


class ReadAheadFile(click.ParamType):
    """The FILE argument's type: a `ReadAhead`, its thread started as click converts it."""

    name = "file"

    def __init__(self, *, digest: bool = False) -> None:
        self.digest = digest

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        return value if isinstance(value, ReadAhead) else ReadAhead(value, digest=self.digest)

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(incomplete, type="file")]  # the shell completes paths


def _print_summary(summary: dict[str, Any]) -> None:
    direct = summary["direct"]
    click.echo(f"format:            {summary['format']} {summary['spec_version']}")
    click.echo(f"encoding:          {summary['encoding']}")
    click.echo(f"components:        {summary['components']}")
    click.echo(f"with purl:         {summary['with_purl']}")
    click.echo(f"packages:          {summary['packages']}")
    click.echo(f"dependency edges:  {summary['dependency_edges']}")
    click.echo(f"direct:            {'unknown (no graph)' if direct is None else direct}")
    warnings = summary.get("warnings") or []
    count = summary.get("warning_count", len(warnings))
    click.echo(f"warnings:          {count}")
    for warning in warnings:
        click.echo(f"  - {warning}")


@sbom_group.command("inspect")
@click.argument("file", metavar="FILE", type=ReadAheadFile())
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def inspect_command(file: ReadAhead, as_json: bool) -> None:
    """Parse FILE ('-' for stdin) and print its summary; no database needed."""
    from service.core.cli import exit_without_teardown
    from service.core.collector import collector_paused
    from service.sboms.parsing import SbomError, parse_sbom

    data = file.data(as_json)
    # Paused to the end: resumed with the document alive, the collector would first walk
    # every one of its objects, only to find no cycle.
    with collector_paused():
        try:
            document = parse_sbom(data)
        except SbomError as exc:
            _fail(exc.to_dict(), as_json)
        summary = document.summary()
        if as_json:
            click.echo(json.dumps(summary, ensure_ascii=False))
        else:
            _print_summary(summary)
        exit_without_teardown()  # the document is not freed, only let go with the process


@sbom_group.command("ingest")
@click.argument("file", metavar="FILE", type=ReadAheadFile(digest=True))
@click.option("--company", "slug", required=True, help="The company's slug.")
@click.option("--product", required=True, help="Product name (created on first upload).")
@click.option("--version", "project_version", default=None, help="Release the SBOM describes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def ingest_command(
    file: ReadAhead, slug: str, product: str, project_version: str | None, as_json: bool
) -> None:
    """Store FILE as the product's newest SBOM and print its summary and diff."""
    # Imported here so `inspect` never pulls in the database layer.
    from sqlmodel import select

    from service.audit.services import Actor
    from service.companies.models import Company
    from service.core.cli import exit_without_teardown
    from service.core.collector import collector_paused
    from service.db import get_db
    from service.sboms.parsing import SbomError
    from service.sboms.services import ingest, sbom_json, upload_limits

    data = file.data(as_json)
    # Paused to the end, as for `inspect`: the document read stays alive in the result.
    with collector_paused():
        try:
            with get_db().transaction() as session:
                company = session.exec(select(Company).where(Company.slug == slug)).first()
                if company is None:
                    _fail(
                        {
                            "code": "not_found",
                            "message": f"No company with the slug {slug!r}.",
                            "details": {"company": slug},
                        },
                        as_json,
                    )
                result = ingest(
                    session,
                    Actor.system("cli"),
                    company,
                    product,
                    data,
                    digest=file.sha256,
                    source="cli",
                    filename=os.path.basename(file.path) if file.path != "-" else None,
                    project_version=project_version,
                    limits=upload_limits(),
                )
                body = {**sbom_json(result.sbom), "created": result.created}
                body["product"] = result.product.name
        except SbomError as exc:
            _fail(exc.to_dict(), as_json)
        _print_stored(body, slug, as_json)
        # Committed and said: the connections closed, the rest goes with the process.
        exit_without_teardown(get_db().engine.dispose)


def _print_stored(body: dict[str, Any], slug: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(body, ensure_ascii=False))
        return
    state = "Stored" if body["created"] else "Already stored (same content), nothing added:"
    click.echo(f"{state} SBOM {body['id']} for product {body['product']} of {slug}.")
    _print_summary(body["summary"])
    _print_diff(body["diff"])


def _print_diff(diff: dict[str, Any]) -> None:
    if diff.get("first"):
        click.echo(
            f"diff:              first SBOM of this product ({diff['added_count']} packages)"
        )
        return
    click.echo(
        f"diff:              +{diff['added_count']} added, -{diff['removed_count']} removed, "
        f"~{diff['changed_count']} changed, {diff['unchanged_count']} unchanged"
    )

    def shown(versions: list[str | None]) -> str:
        return ", ".join(v if v is not None else "(no version)" for v in versions)

    for item in diff.get("added", []):
        click.echo(f"  + {item['package']} {shown(item['versions'])}")
    for item in diff.get("removed", []):
        click.echo(f"  - {item['package']} {shown(item['versions'])}")
    for item in diff.get("changed", []):
        click.echo(f"  ~ {item['package']} {shown(item['from'])} -> {shown(item['to'])}")
    if diff.get("truncated"):
        click.echo("  (lists cut at 100 entries each)")
