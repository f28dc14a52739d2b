"""Signing people in: keep their GitHub identity current and let pending invitations land."""

from __future__ import annotations

from sqlmodel import Session, select

from service.accounts.github import GitHubProfile
from service.accounts.models import User
from service.audit.services import Actor, record
from service.core.clock import utcnow
from service.core.crypto import SecretBox


def sign_in(
    session: Session,
    profile: GitHubProfile,
    *,
    token: str | None = None,
    secrets: SecretBox | None = None,
    demo: bool = False,
) -> User:
    """Create or update the user behind a GitHub profile and return it (the sign-in page
    then accepts the invitations waiting for it)."""
    user = session.exec(select(User).where(User.github_id == profile.id)).first()
    created = user is None
    if user is None:
        user = User(github_id=profile.id, login=profile.login, is_demo=demo)
    user.login = profile.login
    user.name = profile.name
    user.avatar_url = profile.avatar_url
    user.email = profile.email or user.email
    user.last_login_at = utcnow()
    if token and secrets:
        user.github_token_encrypted = secrets.seal(token)
    session.add(user)
    session.flush()
    record(
        session,
        Actor(user_id=user.id),
        "user.signed_up" if created else "user.signed_in",
        obj=user,
        login=user.login,
        demo=demo,
    )
    return user


def github_token(user: User, secrets: SecretBox) -> str | None:
    if not user.github_token_encrypted:
        return None
    return secrets.open(user.github_token_encrypted)


def sign_out(session: Session, user: User) -> None:
    # The stored token only served background work for a signed-in person; drop it.
    user.github_token_encrypted = None
    user.session_version += 1  # every cookie issued before is refused from now on
    session.add(user)
    record(session, Actor(user_id=user.id), "user.signed_out", obj=user)
