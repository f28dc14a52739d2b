"""``tributary propose``: from SBOM files straight to a proposal, without a database.

The quickest way to see what a company's software would fund: read the SBOMs (each file
is one product, named by its root component or, without one, by the file name), find
each package's source repository the way resolution does — the purl itself
(``pkg:github/…``, ``pkg:golang/github.com/…``), the package's registry, the SBOM's own
hints, then deps.dev and ecosyste.ms while nothing is known — and split the budget with
the engine. A project counts as *claimed* (payable) when a source lists a funding
channel for it; the others are held under the default policy, as the service would.

Metadata comes from an offline snapshot (``--offline``: the configured one, else the
demo's) or from the live sources through the app's polite outbound client (one request
per package per source at most, per-host limits). Nothing is written anywhere.

Output: the ``allocate`` JSON plus ``"unresolved"``: the package keys (or identities of
components without a purl) that no source linked to a repository, sorted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from service.allocation.cli import _table, proposal_to_json
from service.allocation.engine import AllocationError, Candidate, ProductUse, allocate
from service.allocation.policy import Policy
from service.core.cli_input import fail
from service.money import Money, MoneyError, normalize_currency, parse_amount
from service.numbers import InputError
from service.projects.links import REGISTRY_SOURCES, hint_repository, purl_repository
from service.projects.providers import Provider
from service.projects.providers.base import parse_package_key
from service.projects.providers.offline import OfflineProvider
from service.projects.urls import RepoRef
from service.sboms.parsing import SbomError, parse_sbom

__all__ = ["Inventory", "propose_command", "read_inventory", "resolve", "to_candidates"]

T = TypeVar("T")
R = TypeVar("R")

DEMO_SNAPSHOT = Path(__file__).resolve().parent.parent / "demo" / "data" / "metadata-snapshot.jsonl"
_SUFFIXES = (".gz", ".json", ".xml", ".spdx", ".cdx", ".bom", ".sbom", ".jsonld", ".tv")


@dataclass
class PackageUse:
    key: str  # package key (purl identity) or the component's identity without a purl
    has_purl: bool
    ecosystem: str | None
    depths: dict[str, int | None] = field(default_factory=dict)  # product -> shallowest
    hints: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Inventory:
    products: list[str]
    packages: dict[str, PackageUse]


def product_name(path: Path, root_name: str | None) -> str:
    if root_name and root_name.strip():
        return root_name.strip()
    name = path.name
    lowered = name.lower()
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if lowered.endswith(suffix) and len(lowered) > len(suffix):
                name, lowered = name[: -len(suffix)], lowered[: -len(suffix)]
                changed = True
    return name or path.name


def _merge(current: int | None, new: int | None, seen: bool) -> int | None:
    if not seen:
        return new
    if current is None or new is None:
        return current if new is None else new
    return min(current, new)


def read_inventory(documents: Sequence[tuple[Path, bytes]]) -> Inventory:
    """Products and packages of SBOM documents; raises SbomError naming the file."""
    products: list[str] = []
    packages: dict[str, PackageUse] = {}
    for path, data in documents:
        try:
            parsed = parse_sbom(data)
        except SbomError as exc:
            raise SbomError(exc.code, f"{path}: {exc.message}", exc.details) from None
        product = product_name(path, parsed.root_name)
        if product not in products:
            products.append(product)
        roots = set(parsed.root_refs)
        for component in parsed.components:
            if component.ref in roots:
                continue
            key = component.identity
            use = packages.get(key)
            if use is None:
                use = packages[key] = PackageUse(
                    key, component.package_key is not None, component.ecosystem
                )
            seen = product in use.depths
            use.depths[product] = _merge(use.depths.get(product), component.depth, seen)
            for hint in component.hints:
                if tuple(hint) not in use.hints:
                    use.hints.append(tuple(hint))
    return Inventory(products, packages)


@dataclass
class Found:
    repo: RepoRef | None
    funded: bool


def _ask(provider: Provider | None, key: str):
    if provider is None or not provider.supports(key):
        return None
    try:
        return provider.fetch(key).metadata
    except Exception:  # a provider never should raise; one bad answer must not stop the run
        return None


def _resolve_one(use: PackageUse, providers: Mapping[str, Provider]) -> Found:
    if not use.has_purl:
        repo, _notes = hint_repository(use.hints)
        return Found(repo, False)
    funded = False
    links: dict[str, RepoRef] = {}
    purl_link = purl_repository(use.key)
    if purl_link is not None:
        links["purl"] = purl_link
    try:
        kind = parse_package_key(use.key).type
    except ValueError:
        kind = None
    registry = REGISTRY_SOURCES.get(kind or "")
    metadata = _ask(providers.get(registry) if registry else None, use.key)
    if metadata is not None:
        funded = funded or bool(metadata.funding)
        if metadata.repository is not None:
            links["registry"] = metadata.repository
    hint_link, _notes = hint_repository(use.hints)
    if hint_link is not None:
        links["sbom"] = hint_link
    for source in ("depsdev", "ecosystems"):
        if links:
            break
        metadata = _ask(providers.get(source), use.key)
        if metadata is not None:
            funded = funded or bool(metadata.funding)
            if metadata.repository is not None:
                links[source] = metadata.repository
    for rank in ("purl", "registry", "sbom", "depsdev", "ecosystems"):
        if rank in links:
            return Found(links[rank], funded)
    return Found(None, funded)


def resolve(
    inventory: Inventory, providers: Mapping[str, Provider], workers: int = 8
) -> dict[str, Found]:
    """{package key: what was found}. Repositories on GitHub are asked about funding too."""
    uses = list(inventory.packages.values())
    # A snapshot answers from memory: threads would only take turns on the interpreter
    # (8 threads made 20,000 offline packages twice as slow as a loop).
    local = all(isinstance(provider, OfflineProvider) for provider in providers.values())
    answers = _map(lambda u: _resolve_one(u, providers), uses, local, workers)
    found = dict(zip([u.key for u in uses], answers, strict=True))
    github = providers.get("github")
    if github is not None:
        repos = sorted(
            {
                f.repo.key: f.repo for f in found.values() if f.repo and f.repo.host == "github.com"
            }.items()
        )
        keys = [f"pkg:github/{repo.owner}/{repo.name}" for _key, repo in repos]
        metadata_of = _map(lambda k: _ask(github, k), keys, local, workers)
        funded_repos = {
            key
            for (key, _repo), metadata in zip(repos, metadata_of, strict=True)
            if metadata is not None and (metadata.funding or metadata.funding_plans)
        }
        for item in found.values():
            if item.repo is not None and item.repo.key in funded_repos:
                item.funded = True
    return found


def _map(fn: Callable[[T], R], items: Sequence[T], local: bool, workers: int) -> list[R]:
    """fn over items: in this thread when every answer is local, else on a thread pool."""
    if local:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max(1, workers), thread_name_prefix="propose") as pool:
        return list(pool.map(fn, items))


def to_candidates(
    inventory: Inventory, found: Mapping[str, Found]
) -> tuple[list[Candidate], list[str]]:
    """Candidates (one per repository, its shallowest depth per product) and the
    unresolved package keys."""
    projects: dict[str, dict[str, Any]] = {}
    unresolved: list[str] = []
    for key, use in inventory.packages.items():
        item = found.get(key)
        if item is None or item.repo is None:
            unresolved.append(key)
            continue
        project = projects.setdefault(
            item.repo.key,
            {
                "depths": {},
                "seen": set(),
                "funded": False,
                "ecosystems": set(),
                "owner": item.repo.owner,
            },
        )
        project["funded"] = project["funded"] or item.funded
        if use.ecosystem:
            project["ecosystems"].add(use.ecosystem)
        for product, depth in use.depths.items():
            seen = product in project["seen"]
            project["depths"][product] = _merge(project["depths"].get(product), depth, seen)
            project["seen"].add(product)
    candidates = [
        Candidate(
            key=repo_key,
            uses=tuple(ProductUse(p, d) for p, d in sorted(data["depths"].items())),
            claimed=data["funded"],
            owner=data["owner"],
            ecosystem=sorted(data["ecosystems"])[0] if len(data["ecosystems"]) == 1 else None,
        )
        for repo_key, data in sorted(projects.items())
    ]
    return candidates, sorted(unresolved)


def propose(
    documents: Sequence[tuple[Path, bytes]],
    budget: Money,
    providers: Mapping[str, Provider],
    policy: Policy | None = None,
) -> tuple[dict[str, Any], Any]:
    """(the JSON document, the engine's proposal) for SBOM documents and a budget."""
    inventory = read_inventory(documents)
    found = resolve(inventory, providers)
    candidates, unresolved = to_candidates(inventory, found)
    result = allocate(candidates, budget, policy or Policy(), len(inventory.products))
    document = proposal_to_json(result)
    document["unresolved"] = unresolved
    return document, result


# --- the command ---------------------------------------------------------------------


def _fail(message: str, field: str, code: str = "invalid_input") -> NoReturn:
    fail(message, {"field": field}, code)


def _providers(offline: bool, snapshot: str | None) -> tuple[dict[str, Provider], Any]:
    if snapshot:  # named on the command line: no setting has a say, so none are read
        return _offline(Path(snapshot)), None
    from service.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc), "settings", "invalid_settings")
    if offline:
        path = settings.resolution_offline_snapshot
        if path is None and DEMO_SNAPSHOT.exists():
            path = DEMO_SNAPSHOT
        if path is None:
            _fail(
                "--offline needs a metadata snapshot: pass --snapshot FILE or set "
                "TRIBUTARY_RESOLUTION_OFFLINE_SNAPSHOT",
                "snapshot",
            )
        return _offline(path), None
    from service.projects.providers import build_providers
    from service.projects.sources import build_outbound, github_web_host

    client = build_outbound(settings)
    providers = build_providers(
        client,
        base_urls={"github": settings.github_api_url, **settings.registry_base_urls},
        enabled=settings.resolution_sources,
        github_token=settings.github_metadata_token,
        github_web_host=github_web_host(settings),
    )
    return providers, client


def _offline(path: Path) -> dict[str, Provider]:
    from service.projects.providers import offline_providers

    try:
        return dict(offline_providers(path))
    except (OSError, ValueError) as exc:
        _fail(f"snapshot {path}: {exc}", "snapshot")


@click.command(name="propose")
@click.option(
    "--sbom",
    "sboms",
    multiple=True,
    required=True,
    metavar="FILE",
    help="An SBOM file (CycloneDX or SPDX, any format); repeat for several products.",
)
@click.option("--budget", required=True, help="Monthly budget, e.g. 5000.00.")
@click.option("--currency", default="USD", show_default=True, help="ISO 4217 code.")
@click.option("--offline", is_flag=True, help="Use the offline metadata snapshot, no network.")
@click.option("--snapshot", metavar="FILE", help="The snapshot to use (implies --offline).")
@click.option(
    "--policy",
    "policy_path",
    metavar="FILE",
    help='A policy as JSON, as in `allocate` (e.g. {"cap": 0.25, "minimum": "10.00"}).',
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def propose_command(
    sboms: tuple[str, ...],
    budget: str,
    currency: str,
    offline: bool,
    snapshot: str | None,
    policy_path: str | None,
    as_json: bool,
) -> None:
    """Propose a monthly split of BUDGET over the projects behind SBOM files (no database)."""
    try:
        code = normalize_currency(currency)
    except MoneyError as exc:
        _fail(f"currency: {exc}", "currency")
    try:
        money = Money(parse_amount(budget, code), code)
    except MoneyError as exc:
        _fail(f"budget: {exc}", "budget")
    policy = _policy(policy_path, code)
    documents = []
    for index, name in enumerate(sboms):
        path = Path(name)
        try:
            documents.append((path, path.read_bytes()))
        except OSError as exc:
            _fail(f"sbom: cannot read {name}: {exc.strerror or exc}", f"sbom[{index}]")
    providers, client = _providers(offline, snapshot)
    try:
        document, result = propose(documents, money, providers, policy)
    except SbomError as exc:
        _fail(exc.message, "sbom", exc.code)
    except AllocationError as exc:
        _fail(exc.message, exc.field or "input")
    finally:
        if client is not None:
            client.close()
    if as_json:
        click.echo(json.dumps(document, ensure_ascii=False))
        return
    click.echo(_table(result))
    if document["unresolved"]:
        shown = _shorten(document["unresolved"])
        click.echo(f"\nNo project found for {len(document['unresolved'])} package(s): {shown}")


def _policy(path: str | None, currency: str) -> Policy:
    if path is None:
        return Policy()
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except OSError as exc:
        _fail(f"policy: cannot read {path}: {exc.strerror or exc}", "policy")
    except ValueError as exc:
        _fail(f"policy: {path} is not JSON ({exc})", "policy")
    try:
        return Policy.from_dict(data, currency)
    except InputError as exc:
        _fail(f"policy.{exc.field}: {exc.message}", f"policy.{exc.field}")


def _shorten(keys: Iterable[str], limit: int = 10) -> str:
    keys = list(keys)
    text = ", ".join(keys[:limit])
    return text + (f" and {len(keys) - limit} more" if len(keys) > limit else "")
