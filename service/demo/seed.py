"""The demo company: seeded people, a budget, and products whose SBOMs are real."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from service.accounts.github import GitHubProfile
from service.accounts.models import User
from service.accounts.services import sign_in
from service.audit.services import Actor
from service.companies.models import Company, LinkedOrg, Role
from service.companies.services import create_company, invite
from service.demo.github import DEMO_ORG, DEMO_PEOPLE, demo_profiles

DEMO_SLUG = "acme-demo"


@dataclass(frozen=True)
class DemoUser:
    login: str
    description: str


def demo_user_choices(session: Session) -> list[DemoUser]:
    return [DemoUser(login, description) for login, _name, description in DEMO_PEOPLE]


def demo_profile(login: str) -> GitHubProfile | None:
    return demo_profiles().get(login)


def seed_demo(session: Session) -> Company:
    """Create the demo company and its people; running it twice changes nothing."""
    existing = session.exec(select(Company).where(Company.slug == DEMO_SLUG)).first()
    if existing:
        return existing
    actor = Actor.system("demo")
    profiles = demo_profiles()
    users = {login: sign_in(session, profile, demo=True) for login, profile in profiles.items()}
    company = create_company(
        session,
        actor,
        slug=DEMO_SLUG,
        name="Acme Demo",
        currency="USD",
        budget_minor=500_000,
        owner=users["demo-owner"],
    )
    invite(session, actor, company, "demo-reviewer", Role.reviewer)
    session.add(
        LinkedOrg(company_id=company.id, org_login=DEMO_ORG, linked_by_id=users["demo-owner"].id)
    )
    # Demo users are seeded as signed in once, so pending invitations become memberships.
    from service.companies.services import accept_invitations

    accept_invitations(session, users["demo-reviewer"])
    session.flush()
    return company


def demo_users(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.is_demo)))
