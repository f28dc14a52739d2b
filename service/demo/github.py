"""The demo's GitHub: seeded people, organisations and repositories, no network."""

from service.accounts.github import DemoGitHubAPI, GitHubProfile

DEMO_ORG = "acme-demo"
DEMO_PEOPLE = (
    # login, name, description shown on the sign-in page
    ("demo-owner", "Olivia Owner", "owner of Acme Demo: settings, members, tokens"),
    ("demo-reviewer", "Rafael Reviewer", "OSPO reviewer at Acme Demo: reviews allocations"),
    ("demo-maintainer", "Mai Maintainer", "maintains open source projects Acme depends on"),
)


def demo_profiles() -> dict[str, GitHubProfile]:
    return {
        login: GitHubProfile(
            id=900_000_001 + index, login=login, name=name, email=f"{login}@example.invalid"
        )
        for index, (login, name, _description) in enumerate(DEMO_PEOPLE)
    }


def demo_github() -> DemoGitHubAPI:
    return DemoGitHubAPI(
        profiles=demo_profiles(),
        org_roles={("demo-owner", DEMO_ORG): "admin", ("demo-reviewer", DEMO_ORG): "member"},
    )
