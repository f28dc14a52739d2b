"""The company home (figures, attention, activity) and the filterable activity page."""

from __future__ import annotations

from service.audit.services import Actor, record
from service.companies.models import Role
from tests.conftest import login
from tests.factories import make_company, make_user


def test_a_new_company_sees_how_to_upload_its_first_sbom(client, session):
    owner = make_user(session, "olive")
    make_company(session, "acme", name="Acme", members=[(owner, Role.owner)])
    session.commit()
    login(client, owner)
    html = client.get("/c/acme/").get_data(as_text=True)
    assert "Upload your first SBOM" in html
    assert "/api/v1/companies/acme/products/my-product/sboms?version=1.0.0" in html  # curl
    assert "secrets.TRIBUTARY_TOKEN" in html  # the CI step
    assert "Budget this month" in html and "no proposal yet" in html
    assert "Nothing right now" in html  # nothing needs attention


def test_activity_is_written_as_sentences_and_filtered(client, session):
    owner = make_user(session, "olive")
    dave = make_user(session, "dave")
    company = make_company(
        session, "acme", name="Acme", members=[(owner, Role.owner), (dave, Role.reviewer)]
    )
    record(
        session,
        Actor(user_id=dave.id),
        "proposal.adjusted",
        company_id=company.id,
        period="2026-12",
        project="github.com/psf/requests",
        kind="override",
        amount_after=12000,
        note="core dependency",
    )
    record(session, Actor(user_id=owner.id), "token.created", company_id=company.id, name="CI")
    session.commit()
    login(client, owner)
    home = client.get("/c/acme/").get_data(as_text=True)
    assert "<strong>dave</strong> overrode github.com/psf/requests to 120.00 USD" in home
    page = client.get("/c/acme/activity").get_data(as_text=True)
    assert "2 events" in page and "created the API token “CI”" in page
    only = client.get("/c/acme/activity?kind=proposal").get_data(as_text=True)
    assert "1 event" in only and "overrode" in only and "API token" not in only
    by = client.get("/c/acme/activity?actor=OLIVE").get_data(as_text=True)
    assert "1 event" in by and "created the API token" in by and "overrode" not in by
    unknown = client.get("/c/acme/activity?kind=nonsense").get_data(as_text=True)
    assert "2 events" in unknown  # an unknown family is no filter


def test_a_person_outside_the_company_gets_404(client, session):
    owner = make_user(session, "olive")
    make_company(session, "acme", members=[(owner, Role.owner)])
    stranger = make_user(session, "stranger")
    make_company(session, "other", members=[(stranger, Role.owner)])
    session.commit()
    login(client, stranger)
    assert client.get("/c/acme/").status_code == 404
    assert client.get("/c/acme/activity").status_code == 404


def test_a_maintainer_without_a_company_lands_on_my_projects(client, session):
    maintainer = make_user(session, "mia")
    session.commit()
    login(client, maintainer)
    answer = client.get("/")
    assert answer.status_code == 302 and answer.location.endswith("/me/projects")
