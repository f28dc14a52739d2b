"""Sign in with GitHub (or as a seeded demo user), sign out, and the profile page."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from service.accounts.auth import (
    current_user,
    is_local_request,
    login_required,
    safe_next,
    start_session,
)
from service.accounts.demo_people import demo_profile, demo_user_choices
from service.accounts.github import GitHubError
from service.accounts.oauth import AuthorizationRequest, SignInError
from service.accounts.services import sign_in, sign_out
from service.accounts.signals import signed_in
from service.core.services import get_github, get_oauth, get_secrets, get_settings
from service.db import db_session

bp = Blueprint("accounts", __name__)


@bp.get("/login")
def login():
    settings = get_settings()
    demo_users = []
    if settings.demo_signin and is_local_request():
        demo_users = demo_user_choices()
    return render_template(
        "accounts/login.html",
        next=safe_next(request.args.get("next")),
        github_enabled=get_oauth() is not None,
        demo_users=demo_users,
    )


def _callback_url() -> str:
    public_url = get_settings().public_url
    if public_url:
        return public_url.rstrip("/") + url_for("accounts.github_callback")
    return url_for("accounts.github_callback", _external=True)


@bp.get("/auth/github")
def github_login():
    oauth = get_oauth()
    if oauth is None:
        flash("GitHub sign-in is not configured on this server.", "error")
        return redirect(url_for("accounts.login"))
    pending = oauth.begin(_callback_url())
    session["oauth"] = {
        "state": pending.state,
        "verifier": pending.code_verifier,
        "next": safe_next(request.args.get("next")),
    }
    return redirect(pending.url)


@bp.get("/auth/github/callback")
def github_callback():
    oauth = get_oauth()
    if oauth is None:
        abort(404)
    saved = session.pop("oauth", None)
    pending = (
        AuthorizationRequest(url="", state=saved["state"], code_verifier=saved["verifier"])
        if saved
        else None
    )
    try:
        token = oauth.finish(request.url, request.args.to_dict(), pending, _callback_url())
        profile = get_github().profile(token)
    except SignInError as exc:
        status = 200 if exc.code == "cancelled" else 400
        return render_template("accounts/signin_failed.html", message=exc.message), status
    except GitHubError as exc:
        message = f"Signed in, but GitHub did not tell us who you are ({exc.reason}). Try again."
        return render_template("accounts/signin_failed.html", message=message), 502
    user = sign_in(db_session(), profile, token=token, secrets=get_secrets())
    signed_in.send(current_app._get_current_object(), user=user, session=db_session())
    start_session(user)
    flash(f"Signed in as {user.login}.", "success")
    return redirect(safe_next(saved.get("next")))


@bp.post("/auth/demo")
def demo_login():
    settings = get_settings()
    # Settings refuse demo sign-in off loopback; the request itself must be local too.
    if not settings.demo_signin or not is_local_request():
        abort(404)
    profile = demo_profile(request.form.get("login", ""))
    if profile is None:
        abort(400, description="Unknown demo user.")
    user = sign_in(db_session(), profile, token=profile.login, secrets=get_secrets(), demo=True)
    signed_in.send(current_app._get_current_object(), user=user, session=db_session())
    start_session(user)
    flash(f"Signed in as the demo user {user.login}.", "success")
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    user = current_user()
    if user is not None:
        sign_out(db_session(), user)
    session.clear()
    flash("Signed out.", "success")
    return redirect(url_for("companies.landing"))


@bp.get("/profile")
@login_required
def profile():
    user = current_user()
    # Their companies are the page's `my_companies`, as in every page's menu.
    return render_template("accounts/profile.html", user=user)
