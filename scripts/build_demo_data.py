"""Build the demo's data files from REAL public package metadata (developers only, online).

Never run at demo time: the demo reads the files this script writes, offline.

What it writes into ``service/demo/data/``:

* ``storefront-web.cdx.json`` — a CycloneDX 1.5 JSON SBOM of a small real npm web app:
  a scratch directory outside the repository, ``npm init -y`` and
  ``npm install --package-lock-only express react react-dom axios lodash``; every package
  of the resulting ``package-lock.json`` is a component (``pkg:npm/…@version``) and the
  lockfile's dependency graph (resolved the way Node resolves ``node_modules``) is the
  ``dependencies`` section;
* ``data-pipeline.spdx.json`` — an SPDX 2.3 JSON SBOM of a small real Python data
  pipeline: ``pip install --dry-run --ignore-installed --report report.json requests
  pandas sqlalchemy`` in a scratch virtual environment; every distribution pip resolved
  is a package, with DESCRIBES and DEPENDS_ON relationships read from each
  distribution's ``requires_dist`` (environment markers evaluated, extras left out);
* ``metadata-snapshot.jsonl`` — the offline metadata snapshot (the format of
  ``service.projects.providers.offline``) for the packages of both SBOMs and of
  Tributary's own Python environment:

  - npm packages: ``npm view <name> --json`` (repository, maintainers, funding,
    deprecated, description, homepage, ``time[latest]``, number of versions), recorded
    with source ``npm``;
  - the pipeline's distributions: the core metadata in pip's installation report
    (project URLs, home page, author, maintainer, summary), people recorded as found in
    ``pypi (installation report)``;
  - Tributary's own dependencies: every distribution installed in the running
    environment (``pip install -e .`` and the dev tools), read with
    ``importlib.metadata`` (Project-URL, Home-page, Author, Maintainer, Summary), people
    recorded as found in ``pypi (installed metadata)``.

  - the source repositories: ``../shared/demo-data/github-facts.jsonl`` (real facts read
    from each repository's public git history; its README, copied beside the snapshot as
    ``github-facts.md``, says how), recorded as the ``github`` source's answers:
    activity in the last year, first commit, tags, FUNDING.yml, security policy, licence.

Facts only: e-mail addresses are dropped (a name is kept when the address carries one),
nothing is added that the registries or the repositories did not say; what only the
GitHub API knows (archived, owner type, issues, sponsors listing) stays absent.

Run: ``.venv/bin/python scripts/build_demo_data.py`` (needs ``npm`` and network access to
the npm registry and PyPI).  The committed files were made on 2026-11-21 (UTC).
``--github-facts-only`` folds the repository facts into the committed snapshot again
without the network (the repositories' part was made so on 2026-12-01).
``--pypi-json-only`` replaces the snapshot's PyPI records with what the project's PyPI
provider reads from the registry's JSON API (its default base URL): publishers from
``ownership.roles``, the latest release's upload time, the release count, repository,
homepage and funding links, whether it is deprecated, people (e-mail addresses dropped).
Done so on 2026-12-02 (UTC) for every PyPI record; the few the provider refuses (answers
over its size limit) were kept from the installed metadata.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import venv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from service.core.http import OutboundClient  # noqa: E402
from service.projects.funding import (  # noqa: E402
    channel_from_url,
    parse_funding_json,
    parse_funding_yml,
)
from service.projects.providers import default_base_urls  # noqa: E402
from service.projects.providers.base import (  # noqa: E402
    PackageMetadata,
    Person,
    merge_funding,
    parse_time,
    short_text,
)
from service.projects.providers.npm import NpmProvider, funding_channels, repository_url  # noqa: E402
from service.projects.providers.offline import (  # noqa: E402
    SnapshotRecord,
    dump_snapshot,
    load_snapshot,
)
from service.projects.providers.pypi import PyPIProvider  # noqa: E402

DATA = REPO_ROOT / "service" / "demo" / "data"
GITHUB_FACTS = REPO_ROOT.parent / "shared" / "demo-data" / "github-facts.jsonl"
# The facts file's README: every value was read on this day.
GITHUB_FACTS_READ_ON = datetime(2026, 12, 1, tzinfo=UTC)
NPM_APP = ("express", "react", "react-dom", "axios", "lodash")
PYTHON_PIPELINE = ("requests", "pandas", "sqlalchemy")
NOW = datetime.now(UTC).replace(microsecond=0)


def pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def npm_purl(name: str, version: str | None = None) -> str:
    if name.startswith("@"):
        scope, _, rest = name.partition("/")
        base = f"pkg:npm/{quote(scope)}/{rest}"
    else:
        base = f"pkg:npm/{name}"
    return f"{base}@{version}" if version else base


# --- people without e-mail addresses ------------------------------------------------------


def people(value: str | None, email_field: str | None, role: str, source: str) -> list[Person]:
    """Persons from a core-metadata name and/or "Name <address>" list, addresses dropped."""
    found = []
    if value and value.strip() and "@" not in value:
        found.append(Person(name=value.strip()[:200], role=role, source=source))
    elif email_field:
        for part in email_field.split(","):
            name, _address = parseaddr(part.strip())
            if name.strip():
                found.append(Person(name=name.strip()[:200], role=role, source=source))
    return found


# --- Python: core metadata → PackageMetadata ----------------------------------------------

_PYPI = PyPIProvider(None, base_url="https://pypi.invalid")  # parse() only, no requests


def python_metadata(meta: dict[str, Any], source_label: str, origin: str) -> PackageMetadata:
    """Core metadata (JSON form: project_url list, home_page, author…) → PackageMetadata."""
    project_urls = {}
    for entry in meta.get("project_url") or []:
        label, _, url = entry.partition(",")
        if url.strip():
            project_urls[label.strip()] = url.strip()
    info = {
        "project_urls": project_urls,
        "home_page": meta.get("home_page"),
        "download_url": meta.get("download_url"),
        "version": meta.get("version"),
        "summary": meta.get("summary"),
    }
    parsed = _PYPI.parse({"info": info})
    persons = people(meta.get("author"), meta.get("author_email"), "author", source_label)
    persons += people(
        meta.get("maintainer"), meta.get("maintainer_email"), "maintainer", source_label
    )
    funding = tuple(
        channel_from_url(c.url or c.handle_or_url, source=source_label) or c for c in parsed.funding
    )
    return PackageMetadata(
        repository_url=parsed.repository_url,
        repository_provenance=parsed.repository_provenance,
        homepage=parsed.homepage,
        description=short_text(meta.get("summary")),
        maintainers=tuple(persons),
        funding=funding,
        latest_version=meta.get("version"),
        raw_source_url=origin,
    )


def installed_environment() -> list[SnapshotRecord]:
    records = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name or pep503(name) == "tributary":
            continue
        meta = {
            "version": dist.version,
            "project_url": dist.metadata.get_all("Project-URL") or [],
            "home_page": dist.metadata.get("Home-page"),
            "download_url": dist.metadata.get("Download-URL"),
            "author": dist.metadata.get("Author"),
            "author_email": dist.metadata.get("Author-email"),
            "maintainer": dist.metadata.get("Maintainer"),
            "maintainer_email": dist.metadata.get("Maintainer-email"),
            "summary": dist.metadata.get("Summary"),
        }
        key = f"pkg:pypi/{pep503(name)}"
        records[key] = SnapshotRecord(
            "pypi",
            key,
            NOW,
            python_metadata(meta, "pypi (installed metadata)", f"installed metadata of {name}"),
        )
    return list(records.values())


def _public_url(url: str | None) -> str:
    """The download URL when it is a public https one (a local index is not reported)."""
    if url and url.startswith("https://"):
        return url
    return "NOASSERTION"


def pipeline(workdir: Path) -> tuple[dict[str, Any], list[SnapshotRecord]]:
    env_dir = workdir / "venv"
    venv.create(env_dir, with_pip=True)
    report = workdir / "report.json"
    subprocess.run(
        [
            str(env_dir / "bin" / "pip"),
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            *PYTHON_PIPELINE,
        ],
        check=True,
    )
    installs = json.loads(report.read_text())["install"]
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    by_name = {pep503(item["metadata"]["name"]): item for item in installs}
    packages = [
        {
            "name": "data-pipeline",
            "SPDXID": "SPDXRef-data-pipeline",
            "versionInfo": "1.0.0",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "primaryPackagePurpose": "APPLICATION",
        }
    ]
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-data-pipeline",
        }
    ]
    records = []
    for name in PYTHON_PIPELINE:
        relationships.append(
            {
                "spdxElementId": "SPDXRef-data-pipeline",
                "relationshipType": "DEPENDS_ON",
                "relatedSpdxElement": f"SPDXRef-{pep503(name)}",
            }
        )
    for key, item in sorted(by_name.items()):
        meta = item["metadata"]
        version = meta["version"]
        packages.append(
            {
                "name": meta["name"],
                "SPDXID": f"SPDXRef-{key}",
                "versionInfo": version,
                "downloadLocation": _public_url((item.get("download_info") or {}).get("url")),
                "filesAnalyzed": False,
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"pkg:pypi/{key}@{version}",
                    }
                ],
            }
        )
        for requirement in meta.get("requires_dist") or []:
            req = Requirement(requirement)
            if req.marker is not None:
                if "extra" in str(req.marker):
                    continue
                if not Marker(str(req.marker)).evaluate():
                    continue
            dep = pep503(req.name)
            if dep in by_name:
                relationships.append(
                    {
                        "spdxElementId": f"SPDXRef-{key}",
                        "relationshipType": "DEPENDS_ON",
                        "relatedSpdxElement": f"SPDXRef-{dep}",
                    }
                )
        records.append(
            SnapshotRecord(
                "pypi",
                f"pkg:pypi/{key}",
                NOW,
                python_metadata(
                    meta,
                    "pypi (installation report)",
                    f"pip installation report for {meta['name']} {version}",
                ),
            )
        )
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "data-pipeline",
        "documentNamespace": "https://tributary.invalid/spdx/data-pipeline-1.0.0",
        "creationInfo": {
            "created": NOW.isoformat().replace("+00:00", "Z"),
            "creators": ["Tool: tributary-build-demo-data"],
        },
        "packages": packages,
        "relationships": relationships,
    }
    return document, records


# --- npm -------------------------------------------------------------------------------------


def npm_lockfile(workdir: Path) -> dict[str, Any]:
    app = workdir / "storefront-web"
    app.mkdir()
    subprocess.run(["npm", "init", "-y"], cwd=app, check=True, capture_output=True)
    subprocess.run(
        ["npm", "install", "--package-lock-only", "--no-audit", "--no-fund", *NPM_APP],
        cwd=app,
        check=True,
        capture_output=True,
    )
    return json.loads((app / "package-lock.json").read_text())


def _package_name(path: str, entry: dict[str, Any]) -> str:
    return entry.get("name") or path.rsplit("node_modules/", 1)[-1]


def _resolve(packages: dict[str, Any], from_path: str, dependency: str) -> str | None:
    """Where Node finds `dependency` required from the package at `from_path`."""
    base = from_path
    while True:
        candidate = f"{base}/node_modules/{dependency}" if base else f"node_modules/{dependency}"
        if candidate in packages:
            return candidate
        if not base:
            return None
        base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""


def storefront(lock: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    packages = lock["packages"]
    refs = {}
    components = []
    names = {}
    for path, entry in sorted(packages.items()):
        if not path:
            continue
        name = _package_name(path, entry)
        purl = npm_purl(name, entry["version"])
        refs[path] = purl
        names[name] = entry["version"]
        if purl in {c["bom-ref"] for c in components}:
            continue
        group, _, short = name.rpartition("/")
        component = {
            "type": "library",
            "bom-ref": purl,
            "name": short,
            "version": entry["version"],
            "purl": purl,
        }
        if group:
            component["group"] = group
        components.append(component)
    dependencies: dict[str, set[str]] = {"storefront-web": set()}
    for dep in packages[""].get("dependencies", {}):
        found = _resolve(packages, "", dep)
        if found:
            dependencies["storefront-web"].add(refs[found])
    for path, entry in packages.items():
        if not path:
            continue
        wanted = {**entry.get("dependencies", {}), **entry.get("optionalDependencies", {})}
        targets = dependencies.setdefault(refs[path], set())
        for dep in wanted:
            found = _resolve(packages, path, dep)
            if found:
                targets.add(refs[found])
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:5f0b1a52-5b7e-4c3e-9d8f-3d1c2a7e9b11",
        "version": 1,
        "metadata": {
            "timestamp": NOW.isoformat().replace("+00:00", "Z"),
            "tools": {"components": [{"type": "application", "name": "npm"}]},
            "component": {
                "type": "application",
                "bom-ref": "storefront-web",
                "name": "storefront-web",
                "version": "1.0.0",
            },
        },
        "components": components,
        "dependencies": [
            {"ref": ref, "dependsOn": sorted(targets)}
            for ref, targets in sorted(dependencies.items())
        ],
    }
    return document, names


_NPM = NpmProvider(None, base_url="https://registry.invalid")


def npm_view(name: str) -> SnapshotRecord | None:
    result = subprocess.run(
        ["npm", "view", name, "--json"], capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        print(f"npm view {name} failed: {result.stderr.strip()[:200]}", file=sys.stderr)
        return None
    view = json.loads(result.stdout)
    if isinstance(view, list):
        view = view[-1]
    latest = (view.get("dist-tags") or {}).get("latest") or view.get("version")
    times = view.get("time") or {}
    repo = _NPM._repo(
        repository_url(view.get("repository")),
        view.get("homepage"),
        (view.get("bugs") or {}).get("url") if isinstance(view.get("bugs"), dict) else None,
    )
    maintainers = tuple(
        Person(login=p.login, role="maintainer", source="npm")
        for p in _NPM._people(view.get("maintainers"))
        if p.login
    )
    # The registry answered without `maintainers` here; the published manifest's author
    # and contributors are kept (names only) so the people behind the package show.
    credited = []
    for role, entries in (
        ("author", [view.get("author")]),
        ("contributor", view.get("contributors")),
    ):
        for entry in entries if isinstance(entries, list) else []:
            person = entry.get("name") if isinstance(entry, dict) else entry
            if isinstance(person, str):
                person = parseaddr(person)[0] or person.split("<")[0]
                person = re.sub(r"\s*\(.*?\)\s*", " ", person).strip()
            if isinstance(person, str) and person and "@" not in person:
                credited.append(Person(name=person[:200], role=role, source="npm"))
    deprecated = view.get("deprecated")
    versions = view.get("versions")
    from service.projects.providers.base import web_url

    metadata = PackageMetadata(
        repository_url=repo.url if repo else None,
        repository_provenance="metadata" if repo else None,
        homepage=web_url(view.get("homepage")),
        description=short_text(view.get("description")),
        maintainers=maintainers + tuple(credited[:20]),
        funding=tuple(funding_channels(view.get("funding"))),
        latest_version=latest,
        latest_release_at=parse_time(times.get(latest)) if latest else None,
        release_count=len(versions) if isinstance(versions, list) else None,
        publishers_count=len(maintainers) or None,
        deprecated=bool(deprecated) if deprecated is not None else False,
        raw_source_url=f"npm view {name} --json (modified {times.get('modified', '?')})",
    )
    return SnapshotRecord("npm", npm_purl(name), NOW, metadata)


# --- PyPI: the registry's JSON API, read through the project's provider ---------------------


def without_addresses(person: Person) -> list[Person]:
    """The person with the e-mail address dropped (a name it carries is kept)."""
    if person.email is None:
        return [person]
    return people(person.name, person.email, person.role, person.source)


def refresh_pypi(records: dict[tuple[str, str], SnapshotRecord]) -> int:
    """Replace the snapshot's PyPI records with the provider's answers; return how many."""
    base_url = default_base_urls(["pypi"])["pypi"]
    # The registry's own host only (a network may reach it through a private address and
    # an inspecting proxy): the system's trust store, as pip and npm use, rather than certifi's.
    client = OutboundClient(
        allow_hosts=[urlsplit(base_url).hostname or ""], verify=ssl.create_default_context()
    )
    provider = PyPIProvider(client, base_url=base_url)
    keys = sorted(key for source, key in records if source == "pypi")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(provider.fetch, keys))
    refreshed = 0
    for result in results:
        if result.metadata is None:
            print(f"{result.package_key}: {result.error}, kept as it was", file=sys.stderr)
            continue
        meta = result.metadata
        kept = tuple(p for person in meta.maintainers for p in without_addresses(person))
        record = SnapshotRecord(
            "pypi", result.package_key, result.fetched_at, replace(meta, maintainers=kept)
        )
        records[("pypi", result.package_key)] = record
        refreshed += 1
    return refreshed


# --- GitHub: facts read from the repositories' git history -----------------------------------


def github_record(facts: dict[str, Any], read_on: datetime) -> SnapshotRecord | None:
    """One line of the facts file as the ``github`` source's answer (None if it was not read).

    The file counts "the last 365 days" back from each repository's newest commit; a
    repository whose newest commit is older than a year before ``read_on`` had none in
    the year before it, so its last-year counts are 0 as of that day.
    """
    if facts.get("fetch_status") != "ok":
        return None
    host, owner, name = facts["repo"].split("/")
    head = parse_time(facts.get("default_branch_head_date"))
    dormant = head is None or head < read_on - timedelta(days=365)

    def last_year(field: str) -> int | None:
        value = facts.get(field)
        return 0 if dormant and value is not None else value

    contributors = tuple(
        Person(name=a["name"], role="contributor", source="github", contributions=a["commits"])
        for a in facts.get("top_authors_last_365d") or ()
        if not dormant and a.get("name")
    )
    manifest = parse_funding_json(facts["funding_json"]) if facts.get("funding_json") else None
    metadata = PackageMetadata(
        repository_url=f"https://{host}/{owner}/{name}",
        repository_provenance="repository",
        contributors=contributors,
        contributors_count=facts.get("authors_all_time"),
        funding=merge_funding(
            parse_funding_yml(facts.get("funding_yml")), manifest.channels if manifest else ()
        ),
        funding_plans=manifest.plans if manifest else (),
        pushed_at=head,
        created_at=parse_time(facts.get("first_commit_date")),
        commits_last_year=last_year("commits_last_365d"),
        active_contributors=last_year("authors_last_365d"),
        org_count=last_year("author_email_domains_last_365d"),
        releases_last_year=last_year("tags_last_365d"),  # tags stand in for releases
        security_policy=facts.get("has_security_policy"),
        license=facts.get("license_file"),
        raw_source_url=f"git history of {facts['repo']} at {facts['snapshot_commit'][:12]}",
    )
    return SnapshotRecord("github", f"pkg:github/{owner}/{name}", read_on, metadata)


def github_records(path: Path, read_on: datetime = GITHUB_FACTS_READ_ON) -> list[SnapshotRecord]:
    with path.open(encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle if line.strip()]
    return [r for r in (github_record(facts, read_on) for facts in lines) if r is not None]


def fold_github_facts(
    records: dict[tuple[str, str], SnapshotRecord], facts: Path, out: Path
) -> list[SnapshotRecord]:
    """Replace the snapshot's ``github`` answers with the facts file's; keep its README."""
    kept = {pair: r for pair, r in records.items() if r.source != "github"}
    found = github_records(facts)
    kept.update({(r.source, r.key): r for r in found})
    records.clear()
    records.update(kept)
    shutil.copyfile(facts.with_name("README.md"), out / "github-facts.md")
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument("--github-facts", type=Path, default=GITHUB_FACTS)
    parser.add_argument(
        "--github-facts-only",
        action="store_true",
        help="fold the repository facts into the existing snapshot (no network)",
    )
    parser.add_argument(
        "--pypi-json-only",
        action="store_true",
        help="refresh the snapshot's PyPI records from the registry's JSON API (network)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    snapshot = args.out / "metadata-snapshot.jsonl"
    if args.pypi_json_only:
        records = load_snapshot(snapshot)
        refreshed = refresh_pypi(records)
        count = dump_snapshot(records.values(), snapshot)
        print(f"snapshot: {count} records, {refreshed} PyPI records refreshed")
        return
    if args.github_facts_only:
        records = load_snapshot(snapshot)
        found = fold_github_facts(records, args.github_facts, args.out)
        count = dump_snapshot(records.values(), snapshot)
        print(f"snapshot: {count} records, {len(found)} repositories from {args.github_facts.name}")
        return
    with tempfile.TemporaryDirectory(prefix="tributary-demo-") as tmp:
        workdir = Path(tmp)
        lock = npm_lockfile(workdir)
        cdx, npm_names = storefront(lock)
        spdx, pipeline_records = pipeline(workdir)
    with ThreadPoolExecutor(8) as pool:
        npm_records = [r for r in pool.map(npm_view, sorted(npm_names)) if r is not None]
    records = {(r.source, r.key): r for r in installed_environment()}
    # The pipeline's report describes exactly the versions it lists: it wins on overlap.
    records.update({(r.source, r.key): r for r in pipeline_records})
    records.update({(r.source, r.key): r for r in npm_records})
    fold_github_facts(records, args.github_facts, args.out)
    (args.out / "storefront-web.cdx.json").write_text(json.dumps(cdx, indent=1) + "\n")
    (args.out / "data-pipeline.spdx.json").write_text(json.dumps(spdx, indent=1) + "\n")
    count = dump_snapshot(records.values(), snapshot)
    with_repo = sum(1 for r in records.values() if r.metadata.repository_url)
    with_people = sum(1 for r in records.values() if r.metadata.maintainers)
    with_funding = sum(1 for r in records.values() if r.metadata.funding)
    print(
        f"{len(cdx['components'])} npm components, {len(spdx['packages']) - 1} Python packages; "
        f"snapshot: {count} records, {with_repo} with a repository, {with_people} with "
        f"maintainers, {with_funding} with funding"
    )


if __name__ == "__main__":
    main()
