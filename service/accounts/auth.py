"""Who is signed in: the user id lives in the (signed, HttpOnly) session cookie."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from service.accounts.models import User
from service.db import db_session


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("user_id")
        g.user = db_session().get(User, user_id) if user_id else None
    return g.user


def require_user() -> User:
    user = current_user()
    if user is None:
        abort(redirect(url_for("accounts.login", next=request.full_path.rstrip("?"))))
    return user


def login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        require_user()
        return view(*args, **kwargs)

    return wrapper


def start_session(user: User) -> None:
    # A new session on sign-in: nothing from before it (fixation) carries over.
    session.clear()
    session["user_id"] = user.id
    session.permanent = True
    g.user = user


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after sign-in; anything pointing elsewhere falls back."""
    if not target:
        return default
    target = target.strip()
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target
