"""Who is signed in: the user id lives in the (signed, HttpOnly) session cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, redirect, request, session, url_for

from service.accounts.models import User
from service.core.clock import utcnow
from service.core.services import get_settings
from service.db import db_session
from service.settings import is_loopback

# Session cookie keys: who, which of their sessions (User.session_version), last seen.
USER_KEY, VERSION_KEY, SEEN_KEY = "user_id", "session_version", "seen"
# Refresh the last-seen time at most this often (each refresh rewrites the cookie).
SEEN_STEP = timedelta(minutes=1)


def current_user() -> User | None:
    if "user" not in g:
        g.user = _session_user()
    return g.user


def _session_user() -> User | None:
    """The signed-in user, if the cookie's session is still live on the server side: the
    user's session version matches (no sign-out since) and it was used within the idle
    time. A dead session is cleared."""
    user_id = session.get(USER_KEY)
    if not user_id:
        return None
    user = db_session().get(User, user_id)
    now = utcnow()
    seen = session.get(SEEN_KEY)
    idle = timedelta(minutes=get_settings().session_idle_minutes)
    if (
        user is None
        or session.get(VERSION_KEY) != user.session_version
        or not isinstance(seen, int | float)
        or now - datetime.fromtimestamp(seen, UTC) > idle
    ):
        session.clear()
        return None
    if now - datetime.fromtimestamp(seen, UTC) >= SEEN_STEP:
        session[SEEN_KEY] = now.timestamp()
    return user


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
    session[USER_KEY] = user.id
    session[VERSION_KEY] = user.session_version
    session[SEEN_KEY] = utcnow().timestamp()
    session.permanent = True
    g.user = user


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-Ip")


def is_local_request() -> bool:
    """Whether the request comes from this machine to a loopback listener: the client's
    address, the address the server's socket is bound to (whatever started the server:
    `tributary run`, gunicorn, `flask run`) and no forwarding header naming another
    client. A proxy on the same host passes the first check only."""
    if not is_loopback(request.remote_addr or ""):
        return False
    for name in FORWARDING_HEADERS:
        for value in request.headers.getlist(name):
            if not all(is_loopback(client) for client in _forwarded_clients(name, value)):
                return False
    connection = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if connection is not None:
        try:
            bound = connection.getsockname()[0]
        except (OSError, IndexError, TypeError):
            return False
        return is_loopback(str(bound))
    return is_loopback(request.environ.get("SERVER_NAME", ""))


def _forwarded_clients(header: str, value: str) -> list[str]:
    """The client addresses a forwarding header names (``Forwarded: for=…``, or lists)."""
    clients = []
    for hop in value.split(","):
        client = hop.strip()
        if header == "Forwarded":
            pairs = [p.strip() for p in client.split(";")]
            client = next((p[4:] for p in pairs if p.lower().startswith("for=")), "")
        client = client.strip('"')
        if client.startswith("["):
            client = client[1 : client.find("]")]
        elif client.count(":") == 1:
            client = client.split(":")[0]
        if client:
            clients.append(client)
    return clients


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
