"""State changes for companies: creation, settings, members, invitations, orgs, API tokens.

Every function here takes the session and an Actor, writes its audit event and leaves the
commit to the caller's transaction, so a change and its event land together or not at all.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from service.accounts.github import GitHubAPI, GitHubError
from service.accounts.models import User
from service.audit.services import Actor, changes, record
from service.companies.models import ApiToken, Company, Invitation, LinkedOrg, Membership, Role
from service.core.clock import utcnow
from service.core.crypto import token_digest
from service.money import MoneyError, check_amount, normalize_currency

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")
SCOPES = ("sbom:write", "read", "payments:write")
TOKEN_PREFIX = "trb_"


class CompanyError(ValueError):
    """A request about a company that cannot be carried out; the message says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def role_of(session: Session, company_id: int, user_id: int | None) -> Role | None:
    """The user's role in the company, or None for a non-member (or no user)."""
    if user_id is None:
        return None
    membership = session.exec(
        select(Membership).where(Membership.company_id == company_id, Membership.user_id == user_id)
    ).first()
    return Role(membership.role) if membership else None


def require_owner(session: Session, actor: Actor, company_id: int, doing: str) -> None:
    """Raise PermissionError unless the actor may change the company's rules: an owner, or
    an operator's own process (the CLI, the scheduler, the demo loader)."""
    if actor.user_id is None and actor.token_id is None:
        return
    if role_of(session, company_id, actor.user_id) is not Role.owner:
        raise PermissionError(f"Only owners can change {doing}.")


def _check_budget(budget_minor: int, currency: str) -> None:
    if budget_minor < 0:
        raise CompanyError("The monthly budget cannot be negative.", "budget")
    try:
        check_amount(budget_minor, currency, "The monthly budget")
    except MoneyError as exc:
        raise CompanyError(str(exc), "budget") from None


def create_company(
    session: Session,
    actor: Actor,
    *,
    slug: str,
    name: str,
    currency: str = "USD",
    budget_minor: int = 0,
    owner: User | None = None,
) -> Company:
    slug = slug.strip().lower()
    if not SLUG_PATTERN.match(slug):
        raise CompanyError(
            f"{slug!r} is not a valid slug: use 1-40 lower-case letters, digits and inner hyphens.",
            "slug",
        )
    if session.exec(select(Company).where(Company.slug == slug)).first():
        raise CompanyError(f"A company with the slug {slug!r} already exists.", "slug")
    if not name.strip():
        raise CompanyError("The company needs a name.", "name")
    try:
        currency = normalize_currency(currency)
    except ValueError as exc:
        raise CompanyError(str(exc), "currency") from None
    _check_budget(budget_minor, currency)
    company = Company(
        slug=slug, name=name.strip(), currency=currency, monthly_budget_minor=budget_minor
    )
    session.add(company)
    session.flush()
    if owner is not None:
        session.add(Membership(company_id=company.id, user_id=owner.id, role=Role.owner))
    record(
        session,
        actor,
        "company.created",
        company_id=company.id,
        obj=company,
        slug=slug,
        currency=currency,
        budget_minor=budget_minor,
    )
    return company


def update_settings(
    session: Session, actor: Actor, company: Company, *, name: str, budget_minor: int
) -> None:
    if not name.strip():
        raise CompanyError("The company needs a name.", "name")
    _check_budget(budget_minor, company.currency)
    if budget_minor != company.monthly_budget_minor:
        require_owner(session, actor, company.id, "the monthly budget")
    before = {"name": company.name, "budget_minor": company.monthly_budget_minor}
    company.name = name.strip()
    company.monthly_budget_minor = budget_minor
    session.add(company)
    record(
        session,
        actor,
        "company.settings_changed",
        company_id=company.id,
        obj=company,
        **changes(before, {"name": company.name, "budget_minor": budget_minor}),
    )


# Members and invitations -------------------------------------------------------------------


def members(session: Session, company: Company) -> list[tuple[Membership, User]]:
    query = (
        select(Membership, User)
        .join(User, col(User.id) == Membership.user_id)
        .where(Membership.company_id == company.id)
        .order_by(col(User.login))
    )
    return list(session.exec(query))


def pending_invitations(session: Session, company: Company) -> list[Invitation]:
    query = select(Invitation).where(
        Invitation.company_id == company.id,
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
    )
    return list(session.exec(query.order_by(col(Invitation.created_at))))


def invite(session: Session, actor: Actor, company: Company, login: str, role: Role) -> Invitation:
    login = login.strip().lstrip("@")
    if not LOGIN_PATTERN.match(login):
        raise CompanyError(f"{login!r} is not a valid GitHub login.", "login")
    lowered = login.lower()
    existing = session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(Membership.company_id == company.id, func.lower(User.login) == lowered)
    ).first()
    if existing:
        raise CompanyError(f"{login} is already a member of {company.name}.", "login")
    if any(i.github_login == lowered for i in pending_invitations(session, company)):
        raise CompanyError(f"{login} has already been invited.", "login")
    invitation = Invitation(
        company_id=company.id, github_login=lowered, role=role, invited_by_id=actor.user_id
    )
    session.add(invitation)
    session.flush()
    record(
        session,
        actor,
        "member.invited",
        company_id=company.id,
        obj=invitation,
        login=lowered,
        role=role.value,
    )
    return invitation


def revoke_invitation(session: Session, actor: Actor, company: Company, invitation_id: int) -> None:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.company_id != company.id or invitation.accepted_at:
        raise CompanyError("No such pending invitation.")
    invitation.revoked_at = utcnow()
    session.add(invitation)
    record(
        session,
        actor,
        "member.invitation_revoked",
        company_id=company.id,
        obj=invitation,
        login=invitation.github_login,
    )


def accept_invitations(session: Session, user: User) -> list[Company]:
    """Turn every pending invitation for this login into a membership (at sign-in)."""
    query = select(Invitation).where(
        Invitation.github_login == user.login.lower(),
        col(Invitation.accepted_at).is_(None),
        col(Invitation.revoked_at).is_(None),
    )
    joined = []
    for invitation in session.exec(query):
        company = session.get(Company, invitation.company_id)
        already = session.exec(
            select(Membership).where(
                Membership.company_id == invitation.company_id, Membership.user_id == user.id
            )
        ).first()
        if not already:
            session.add(
                Membership(company_id=invitation.company_id, user_id=user.id, role=invitation.role)
            )
        invitation.accepted_at = utcnow()
        invitation.accepted_by_id = user.id
        session.add(invitation)
        record(
            session,
            Actor(user_id=user.id),
            "member.joined",
            company_id=invitation.company_id,
            obj=invitation,
            login=user.login,
            role=invitation.role.value,
        )
        joined.append(company)
    return joined


def change_role(
    session: Session, actor: Actor, company: Company, membership_id: int, role: Role
) -> None:
    membership = _membership(session, company, membership_id)
    if membership.role == Role.owner and role != Role.owner:
        _require_another_owner(session, company, membership)
    before = membership.role
    membership.role = role
    session.add(membership)
    record(
        session,
        actor,
        "member.role_changed",
        company_id=company.id,
        obj=membership,
        user_id=membership.user_id,
        before=before.value,
        after=role.value,
    )


def remove_member(session: Session, actor: Actor, company: Company, membership_id: int) -> None:
    membership = _membership(session, company, membership_id)
    if membership.role == Role.owner:
        _require_another_owner(session, company, membership)
    session.delete(membership)
    record(
        session,
        actor,
        "member.removed",
        company_id=company.id,
        obj=membership,
        user_id=membership.user_id,
    )


def _membership(session: Session, company: Company, membership_id: int) -> Membership:
    membership = session.get(Membership, membership_id)
    if membership is None or membership.company_id != company.id:
        raise CompanyError("No such member.")
    return membership


def _require_another_owner(session: Session, company: Company, leaving: Membership) -> None:
    owners = session.exec(
        select(Membership).where(
            Membership.company_id == company.id,
            Membership.role == Role.owner,
            Membership.id != leaving.id,
        )
    ).first()
    if owners is None:
        raise CompanyError("A company must keep at least one owner.")


# Linked GitHub organisations ----------------------------------------------------------------


def linked_orgs(session: Session, company: Company) -> list[LinkedOrg]:
    query = select(LinkedOrg).where(LinkedOrg.company_id == company.id)
    return list(session.exec(query.order_by(col(LinkedOrg.org_login))))


def link_org(
    session: Session,
    actor: Actor,
    company: Company,
    org: str,
    *,
    github: GitHubAPI,
    token: str | None,
) -> LinkedOrg:
    """Link an org, which GitHub must confirm the acting user administers."""
    org = org.strip().lstrip("@")
    if not LOGIN_PATTERN.match(org):
        raise CompanyError(f"{org!r} is not a valid GitHub organisation name.", "org")
    if token is None:
        raise CompanyError("Sign in with GitHub again so we can check your organisation role.")
    try:
        role = github.org_role(token, org)
    except GitHubError as exc:
        raise CompanyError(f"Could not check your role in {org}: {exc.reason}.") from None
    if role != "admin":
        raise CompanyError(
            f"GitHub says you are not an admin of {org}; only an organisation admin can link it.",
            "org",
        )
    lowered = org.lower()
    if any(link.org_login == lowered for link in linked_orgs(session, company)):
        raise CompanyError(f"{org} is already linked.", "org")
    link = LinkedOrg(company_id=company.id, org_login=lowered, linked_by_id=actor.user_id)
    session.add(link)
    session.flush()
    record(session, actor, "org.linked", company_id=company.id, obj=link, org=lowered)
    return link


def unlink_org(session: Session, actor: Actor, company: Company, link_id: int) -> None:
    link = session.get(LinkedOrg, link_id)
    if link is None or link.company_id != company.id:
        raise CompanyError("No such linked organisation.")
    session.delete(link)
    record(session, actor, "org.unlinked", company_id=company.id, obj=link, org=link.org_login)


# API tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str  # shown once, never stored


def create_token(
    session: Session, actor: Actor, company: Company, *, name: str, scopes: list[str]
) -> IssuedToken:
    name = name.strip() or "API token"
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise CompanyError(
            f"Unknown scope(s) {', '.join(unknown)}; choose from {', '.join(SCOPES)}."
            if unknown
            else f"Choose at least one scope: {', '.join(SCOPES)}.",
            "scopes",
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        company_id=company.id,
        name=name[:100],
        prefix=plaintext[:12],
        token_hash=token_digest(plaintext),
        scopes=sorted(set(scopes)),
        created_by_id=actor.user_id,
    )
    session.add(token)
    session.flush()
    record(
        session,
        actor,
        "token.created",
        company_id=company.id,
        obj=token,
        name=token.name,
        scopes=token.scopes,
        prefix=token.prefix,
    )
    return IssuedToken(token, plaintext)


def company_tokens(session: Session, company: Company) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.company_id == company.id)
    return list(session.exec(query.order_by(col(ApiToken.created_at).desc())))


def revoke_token(
    session: Session, actor: Actor, company: Company, token_ref: str | int
) -> ApiToken:
    """Revoke by id or by the displayed prefix."""
    query = select(ApiToken).where(ApiToken.company_id == company.id)
    if isinstance(token_ref, int) or str(token_ref).isdigit():
        query = query.where(ApiToken.id == int(token_ref))
    else:
        query = query.where(ApiToken.prefix == str(token_ref))
    token = session.exec(query).first()
    if token is None:
        raise CompanyError(f"No token {token_ref} in {company.slug}.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record(
            session, actor, "token.revoked", company_id=company.id, obj=token, prefix=token.prefix
        )
    return token


def authenticate_token(session: Session, plaintext: str) -> ApiToken | None:
    """The active token with this value, its last-used time updated; None otherwise."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = session.exec(
        select(ApiToken).where(ApiToken.token_hash == token_digest(plaintext))
    ).first()
    if token is None or token.revoked_at is not None:
        return None
    token.last_used_at = utcnow()
    session.add(token)
    return token


def memberships_of(session: Session, user_id: int) -> list[tuple[Company, Membership]]:
    """Every company the person belongs to with their membership, by company name."""
    query = (
        select(Company, Membership)
        .join(Membership, col(Membership.company_id) == Company.id)
        .where(Membership.user_id == user_id)
        .order_by(col(Company.name))
    )
    return [(company, membership) for company, membership in session.exec(query)]


def companies_of(session: Session, user: User) -> list[tuple[Company, Role]]:
    return [(company, m.role) for company, m in memberships_of(session, user.id)]
