"""A request's one transaction: committed when its view answers below 400, rolled back when
it answers 4xx/5xx or raises; a savepoint undoes one change without the rest."""

from __future__ import annotations

import pytest
from flask import abort, redirect
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from service.db import db_session, savepoint
from service.jobs.models import Task
from service.jobs.queue import enqueue
from service.web import csrf


def queue(*names: str) -> None:
    for name in names:
        enqueue(db_session(), "test.noted", {"name": name})


def stored(session) -> list[str]:
    session.expire_all()
    return [t.payload["name"] for t in session.exec(select(Task).order_by(Task.id))]


@pytest.fixture
def route(app):
    """Add a view at /t/<name> answering GET and POST (no CSRF form needed)."""

    def add(name: str, view) -> str:
        view.__name__ = name
        app.add_url_rule(f"/t/{name}", view_func=csrf.exempt(view), methods=["GET", "POST"])
        return f"/t/{name}"

    return add


@pytest.mark.parametrize(
    "answer",
    [("made", 201), ("ok", 200), ("", 304)],
)
def test_a_successful_answer_commits_what_the_view_wrote(client, session, route, answer):
    def view():
        queue("first", "second")
        return answer

    assert client.post(route("write", view)).status_code == answer[1]
    assert stored(session) == ["first", "second"]


def test_a_redirect_commits(client, session, route):
    def view():
        queue("moved")
        return redirect("/", code=303)

    assert client.post(route("write", view)).status_code == 303
    assert stored(session) == ["moved"]


def test_a_get_that_writes_is_committed(client, session, route):
    def view():
        queue("seen")
        return "ok"

    assert client.get(route("read", view)).status_code == 200
    assert stored(session) == ["seen"]


@pytest.mark.parametrize("status", [400, 404, 409, 500, 503])
def test_an_error_answer_stores_nothing(client, session, route, status):
    def view():
        queue("first", "second")
        return "refused", status

    assert client.post(route("refuse", view)).status_code == status
    assert stored(session) == []


def test_an_aborted_view_stores_nothing(client, session, route):
    def view():
        queue("first")
        abort(403)

    assert client.post(route("abort", view)).status_code == 403
    assert stored(session) == []


def test_a_view_that_raises_stores_nothing_of_what_it_wrote_before(client, session, route):
    def view():
        queue("first")
        db_session().flush()  # already sent to the database: still undone
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        client.post(route("fail", view))
    assert stored(session) == []


def test_a_commit_that_fails_stores_nothing(client, session, route):
    def view():
        for _ in range(2):  # the second breaks the pending tasks' unique key at the commit
            db_session().add(Task(kind="test.noted", payload={"name": "twin"}, unique_key="k"))
        return "ok"

    with pytest.raises(IntegrityError):
        client.post(route("twins", view))
    assert stored(session) == []


def test_a_savepoint_undoes_its_own_change_and_keeps_the_rest(client, session, route):
    def refused(s):
        enqueue(s, "test.noted", {"name": "refused"})
        raise ValueError("refused")

    def view():
        queue("before")
        with pytest.raises(ValueError):
            savepoint(refused)
        kept = savepoint(lambda s: enqueue(s, "test.noted", {"name": "kept"}))
        assert kept.id is not None  # flushed when the savepoint ends
        return redirect("/")

    assert client.post(route("partly", view)).status_code == 302
    assert stored(session) == ["before", "kept"]


def test_a_savepoint_surfaces_a_constraint_error_inside_the_view(client, session, route):
    def twins(s):
        for _ in range(2):
            s.add(Task(kind="test.noted", payload={"name": "twin"}, unique_key="k"))

    def view():
        queue("before")
        try:
            savepoint(twins)
        except IntegrityError:
            return "duplicate", 200
        return "no error", 500

    response = client.post(route("twins", view))
    assert response.get_data(as_text=True) == "duplicate"
    assert stored(session) == ["before"]
