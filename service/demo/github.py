"""The demo's GitHub: seeded people, organisations and repositories, no network."""

from service.accounts.demo_people import demo_profiles
from service.accounts.github import DemoGitHubAPI

DEMO_ORG = "acme-demo"


def demo_github() -> DemoGitHubAPI:
    repos, graphs = demo_repos()
    return DemoGitHubAPI(
        profiles=demo_profiles(),
        org_roles={("demo-owner", DEMO_ORG): "admin", ("demo-reviewer", DEMO_ORG): "member"},
        repos={**repos, **MAINTAINED_REPOS},
        dependency_graphs=graphs,
        permissions=MAINTAINER_PERMISSIONS,
    )


# The demo maintainer may claim one real project of the demo data: ee-first, a small npm
# package of the storefront's dependency tree (its repository, as the npm registry names
# it).  Only the identity of the repository is given; nothing else is made up about it.
MAINTAINED_REPOS = {
    "jonathanong/ee-first": {
        "name": "ee-first",
        "full_name": "jonathanong/ee-first",
        "owner": {"login": "jonathanong"},
        "html_url": "https://github.com/jonathanong/ee-first",
    }
}
MAINTAINER_PERMISSIONS = {
    ("demo-maintainer", "jonathanong/ee-first"): {"maintain": True, "push": True, "pull": True}
}


# Repositories of the demo organisation and their dependency graphs, for the GitHub import.
# legacy-tools has none: it shows how a repository with the graph disabled is reported.
DEMO_REPOS = {
    "storefront": (
        ("pkg:npm/express", "4.19.2"),
        ("pkg:npm/lodash", "4.17.21"),
        ("pkg:npm/axios", "1.7.2"),
        ("pkg:npm/react", "18.3.1"),
    ),
    "billing-api": (
        ("pkg:pypi/flask", "3.0.3"),
        ("pkg:pypi/requests", "2.32.3"),
        ("pkg:pypi/sqlalchemy", "2.0.31"),
    ),
    "legacy-tools": None,
}


def _dependency_graph(repo: str, packages) -> dict:
    """An SPDX 2.3 document shaped like GitHub's dependency-graph export."""
    root = f"SPDXRef-github-{repo.replace('/', '-')}"
    spdx_packages = [
        {
            "name": f"com.github.{repo}",
            "SPDXID": root,
            "versionInfo": "main",
            "downloadLocation": f"git+https://github.com/{repo}",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": f"pkg:github/{repo}@main",
                }
            ],
        }
    ]
    relationships = [
        {"relationshipType": "DESCRIBES", "spdxElementId": "SPDXRef-DOCUMENT",
         "relatedSpdxElement": root}
    ]  # fmt: skip
    for index, (purl, version) in enumerate(packages):
        spdx_id = f"SPDXRef-package-{index}"
        spdx_packages.append(
            {
                "name": purl.rsplit("/", 1)[-1],
                "SPDXID": spdx_id,
                "versionInfo": version,
                "downloadLocation": "NOASSERTION",
                "externalRefs": [
                    {
                        "referenceCategory": "PACKAGE-MANAGER",
                        "referenceType": "purl",
                        "referenceLocator": f"{purl}@{version}",
                    }
                ],
            }
        )
        relationships.append(
            {"relationshipType": "DEPENDS_ON", "spdxElementId": root, "relatedSpdxElement": spdx_id}
        )
    return {
        "sbom": {
            "spdxVersion": "SPDX-2.3",
            "dataLicense": "CC0-1.0",
            "SPDXID": "SPDXRef-DOCUMENT",
            "name": f"com.github.{repo}",
            "documentNamespace": f"https://example.invalid/demo/{repo}",
            "creationInfo": {
                "creators": ["Tool: GitHub.com-Dependency-Graph"],
                "created": "2026-01-01T00:00:00Z",
            },
            "packages": spdx_packages,
            "relationships": relationships,
        }
    }


def demo_repos() -> tuple[dict, dict]:
    """(repositories, dependency graphs) of the demo organisation, keyed "owner/name"."""
    repos, graphs = {}, {}
    for name, packages in DEMO_REPOS.items():
        full_name = f"{DEMO_ORG}/{name}"
        repos[full_name] = {
            "name": name,
            "full_name": full_name,
            "owner": {"login": DEMO_ORG},
            "private": False,
        }
        if packages is not None:
            graphs[full_name] = _dependency_graph(full_name, packages)
    return repos, graphs
