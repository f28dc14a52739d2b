"""Repository facts for many repositories in one GitHub GraphQL query (with a token).

One query asks up to ``BATCH`` repositories, each under an alias (``r0``, ``r1``, …) with
its owner and name as variables (never spliced into the query text): the facts the REST
path reads (archived, owner type, homepage, last push, the funding files at HEAD), plus
the OpenSSF criticality inputs the REST path leaves out — creation, licence, security
policy, releases and commits in the last year with their authors (contributor and
organisation counts), issues closed and updated in the last 90 days and their comments.
The funding files come as blobs of the same query (``HEAD:.github/FUNDING.yml`` …) and
are read by the same parsers as on the REST path.

Contributors here are the authors of the default branch's commits in the last year (up
to ``HISTORY`` commits), GraphQL having no contributors list: the REST path's all-time
top contributors are not available in a batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from service.projects.funding import parse_funding_json, parse_funding_yml
from service.projects.providers.base import (
    PackageMetadata,
    Person,
    as_dict,
    as_int,
    as_list,
    as_str,
    merge_funding,
    parse_time,
    short_text,
    web_url,
)
from service.projects.urls import RepoRef

BATCH = 25  # repositories per query: 0.04 requests per repository, well within query cost
HISTORY = 100  # commits of the last year read for their authors
ISSUES_SAMPLE = 20  # issues updated in the last 90 days read for their comment counts
FUNDING_YML_PATHS = (".github/FUNDING.yml", "FUNDING.yml", "docs/FUNDING.yml")

FIELDS = f"""
fragment facts on Repository {{
  nameWithOwner isArchived isDisabled createdAt pushedAt homepageUrl description
  isSecurityPolicyEnabled
  owner {{ __typename login }}
  licenseInfo {{ spdxId }}
  fundingYml0: object(expression: "HEAD:{FUNDING_YML_PATHS[0]}") {{ ... on Blob {{ text }} }}
  fundingYml1: object(expression: "HEAD:{FUNDING_YML_PATHS[1]}") {{ ... on Blob {{ text }} }}
  fundingYml2: object(expression: "HEAD:{FUNDING_YML_PATHS[2]}") {{ ... on Blob {{ text }} }}
  fundingJson: object(expression: "HEAD:funding.json") {{ ... on Blob {{ text }} }}
  releases(first: 100, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
    totalCount nodes {{ createdAt tagName }}
  }}
  defaultBranchRef {{ target {{ ... on Commit {{
    history(since: $year, first: {HISTORY}) {{
      totalCount nodes {{ author {{ user {{ login company }} }} }}
    }}
  }} }} }}
  closedIssues: issues(states: CLOSED, filterBy: {{since: $quarter}}) {{ totalCount }}
  updatedIssues: issues(
    first: {ISSUES_SAMPLE}, filterBy: {{since: $quarter}},
    orderBy: {{field: UPDATED_AT, direction: DESC}}
  ) {{ totalCount nodes {{ comments {{ totalCount }} }} }}
}}
"""


def build_query(repos: Sequence[tuple[str, str]], now: datetime) -> dict[str, Any]:
    """The request body for ``[(owner, name), …]`` (at most BATCH)."""
    names = ["$year: GitTimestamp!", "$quarter: DateTime!"]
    parts = ["rateLimit { cost remaining resetAt }"]
    variables: dict[str, Any] = {
        "year": (now - timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "quarter": (now - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    for index, (owner, name) in enumerate(repos):
        names += [f"$o{index}: String!", f"$n{index}: String!"]
        parts.append(f"r{index}: repository(owner: $o{index}, name: $n{index}) {{ ...facts }}")
        variables[f"o{index}"], variables[f"n{index}"] = owner, name
    query = f"query({', '.join(names)}) {{\n  " + "\n  ".join(parts) + "\n}\n" + FIELDS
    return {"query": query, "variables": variables}


def answers(body: Any, count: int) -> list[tuple[Mapping[str, Any] | None, str | None]]:
    """(repository data, error reason) per alias, in order: a repository GitHub does not
    know (or hides) is ``not_found``; an answer without data is ``invalid_shape``."""
    body = as_dict(body)
    data = as_dict(body.get("data"))
    failed: dict[str, str] = {}
    whole: str | None = None  # an error of the whole query (rate limit, cost, syntax)
    for error in as_list(body.get("errors")):
        error = as_dict(error)
        kind = (as_str(error.get("type")) or "error").lower()
        reason = "not_found" if kind == "not_found" else f"graphql_{kind}"
        path = as_list(error.get("path"))
        if path and isinstance(path[0], str):
            failed[path[0]] = reason
        else:
            whole = whole or reason
    out: list[tuple[Mapping[str, Any] | None, str | None]] = []
    for index in range(count):
        alias = f"r{index}"
        repo = data.get(alias)
        if isinstance(repo, dict):
            out.append((repo, None))
        elif alias in failed:
            out.append((None, failed[alias]))
        else:
            out.append((None, "not_found" if alias in data else whole or "invalid_shape"))
    return out


def _blob(repo: Mapping[str, Any], alias: str) -> str | None:
    text = as_dict(repo.get(alias)).get("text")
    return text if isinstance(text, str) else None


def _commit_authors(history: Mapping[str, Any]) -> tuple[Counter[str], set[str]]:
    """Commits per author of the last year's commits (bots left out), and the
    organisations those authors name."""
    authors: Counter[str] = Counter()
    companies: set[str] = set()
    for node in as_list(history.get("nodes")):
        user = as_dict(as_dict(as_dict(node).get("author")).get("user"))
        login = as_str(user.get("login"))
        if login and not login.endswith("[bot]"):
            authors[login] += 1
            company = (as_str(user.get("company")) or "").strip().lstrip("@").casefold()
            if company:
                companies.add(company)
    return authors, companies


def metadata(
    repo: Mapping[str, Any], web_host: str, now: datetime, source_url: str
) -> PackageMetadata:
    """One repository's answer as the same PackageMetadata the REST path gives."""
    full_name = as_str(repo.get("nameWithOwner")) or ""
    owner, _, name = full_name.partition("/")
    ref = RepoRef(web_host, owner.lower(), name.lower())
    yml = next(
        (t for t in (_blob(repo, f"fundingYml{i}") for i in range(3)) if t is not None), None
    )
    channels = parse_funding_yml(yml, source="FUNDING.yml") if yml is not None else []
    manifest_text = _blob(repo, "fundingJson")
    manifest = parse_funding_json(manifest_text) if manifest_text is not None else None
    history = as_dict(as_dict(as_dict(repo.get("defaultBranchRef")).get("target")).get("history"))
    authors, companies = _commit_authors(history)
    year_ago = now - timedelta(days=365)
    releases = as_dict(repo.get("releases"))
    dates = [parse_time(as_dict(n).get("createdAt")) for n in as_list(releases.get("nodes"))]
    dates = [d for d in dates if d is not None]
    updated = as_dict(repo.get("updatedIssues"))
    comments = [
        as_int(as_dict(as_dict(n).get("comments")).get("totalCount")) or 0
        for n in as_list(updated.get("nodes"))
    ]
    owner_type = as_str(as_dict(repo.get("owner")).get("__typename"))
    return PackageMetadata(
        repository_url=ref.url,
        repository_provenance="repository",
        homepage=web_url(repo.get("homepageUrl")),
        description=short_text(repo.get("description")),
        contributors=tuple(
            Person(login=login, role="contributor", source="github", contributions=count)
            for login, count in sorted(authors.items(), key=lambda item: (-item[1], item[0]))
        ),
        contributors_count=len(authors),
        funding=merge_funding(channels, manifest.channels if manifest else ()),
        funding_plans=tuple(manifest.plans) if manifest else (),
        archived=bool(repo.get("isArchived")) or bool(repo.get("isDisabled")),
        owner_type=owner_type.lower() if owner_type else None,
        pushed_at=parse_time(repo.get("pushedAt")),
        created_at=parse_time(repo.get("createdAt")),
        commits_last_year=as_int(history.get("totalCount")),
        active_contributors=len(authors),
        org_count=len(companies),
        releases_last_year=sum(1 for d in dates if d >= year_ago),
        latest_release_at=max(dates) if dates else None,
        issues_closed_90d=as_int(as_dict(repo.get("closedIssues")).get("totalCount")),
        issues_updated_90d=as_int(updated.get("totalCount")),
        comment_frequency=(sum(comments) / len(comments)) if comments else None,
        security_policy=bool(repo.get("isSecurityPolicyEnabled")),
        license=as_str(as_dict(repo.get("licenseInfo")).get("spdxId")),
        raw_source_url=source_url,
    )
