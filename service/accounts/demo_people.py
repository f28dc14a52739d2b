"""The demo's people: who may sign in on the demo's sign-in page (no GitHub involved), and
the GitHub profiles the demo's offline GitHub answers for them."""

from __future__ import annotations

from dataclasses import dataclass

from service.accounts.github import GitHubProfile

DEMO_PEOPLE = (
    # login, name, description shown on the sign-in page
    ("demo-owner", "Olivia Owner", "owner of Acme Demo: settings, members, tokens"),
    ("demo-reviewer", "Rafael Reviewer", "OSPO reviewer at Acme Demo: reviews allocations"),
    ("demo-maintainer", "Mai Maintainer", "maintains open source projects Acme depends on"),
)


@dataclass(frozen=True)
class DemoUser:
    login: str
    description: str


def demo_user_choices() -> list[DemoUser]:
    return [DemoUser(login, description) for login, _name, description in DEMO_PEOPLE]


def demo_profiles() -> dict[str, GitHubProfile]:
    return {
        login: GitHubProfile(
            id=900_000_001 + index, login=login, name=name, email=f"{login}@example.invalid"
        )
        for index, (login, name, _description) in enumerate(DEMO_PEOPLE)
    }


def demo_profile(login: str) -> GitHubProfile | None:
    return demo_profiles().get(login)
