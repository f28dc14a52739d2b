"""Pledges and payments over the JSON API: listing, one pledge, recording payments with
errors naming the field; tokens of another company get 404; the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime

from service.audit.services import Actor
from service.companies.services import create_token
from service.pledges import services
from tests.allocation.data import acme

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)


def bearer(session, company, scopes=("read",)):
    issued = create_token(session, Actor.system("test"), company, name="t", scopes=list(scopes))
    session.commit()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def test_list_and_show(client, session, found):
    headers = bearer(session, found.company)
    base = f"/api/v1/companies/{found.company.slug}/pledges"
    body = client.get(base + "?project=left", headers=headers).json
    assert body["totals"] == {
        "USD": {"pledged_minor": 10_000, "paid_minor": 0, "owed_minor": 10_000}
    }
    [item] = body["items"]
    assert {
        k: item[k] for k in ("project", "period", "amount", "state", "due_on", "platforms")
    } == {
        "project": "github.com/left/pad",
        "period": "2026-12",
        "amount": "100.00",
        "state": "pledged",
        "due_on": "2027-01-15",
        "platforms": ["github_sponsors"],
    }
    one = client.get(f"{base}/{item['id']}", headers=headers).json
    assert one["payments"] == [] and [h["action"] for h in one["history"]] == ["pledge.created"]
    bad = client.get(base + "?period=2026-13", headers=headers)
    assert bad.status_code == 400 and bad.json["error"]["details"]["field"] == "period"


def test_recording_payments(client, session, found):
    read = bearer(session, found.company)
    write = bearer(session, found.company, ("payments:write",))
    pledge_id = client.get(
        f"/api/v1/companies/{found.company.slug}/pledges?project=left", headers=read
    ).json["items"][0]["id"]
    url = f"/api/v1/companies/{found.company.slug}/pledges/{pledge_id}/payments"
    payment = {
        "amount": "60.00",
        "currency": "USD",
        "paid_on": "2027-01-05",
        "platform": "open_collective",
        "reference": "OC-9",
    }
    assert client.post(url, json=payment, headers=read).status_code == 403
    made = client.post(url, json=payment, headers=write)
    assert made.status_code == 201
    assert made.json["pledge"]["state"] == "partially_paid"
    assert made.json["payment"]["amount_minor"] == 6_000
    over = client.post(url, json=payment, headers=write)
    assert over.status_code == 400
    assert over.json["error"]["details"] == {"field": "confirm_overpayment"}
    for change, field in (
        ({"amount": "-1"}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"paid_on": "yesterday"}, "paid_on"),
        ({"platform": "cash"}, "platform"),
    ):
        answer = client.post(url, json={**payment, **change}, headers=write)
        assert (answer.status_code, answer.json["error"]["details"]["field"]) == (400, field)
    assert client.post(url, data="nope", headers=write).status_code == 400
    done = client.post(url, json={**payment, "amount": "40.00"}, headers=write).json
    assert done["pledge"]["state"] == "paid"
    listed = client.get(url, headers=read).json["items"]
    assert [p["amount"] for p in listed] == ["60.00", "40.00"]
    session.expire_all()
    pledge = services.pledge_of(session, found.company.id, pledge_id).pledge
    assert services.history(session, pledge)[-1].actor_token_id is not None


def test_a_cancelled_pledge_answers_409(client, session, found):
    pledge = services.pledges_of(session, found.company.id)[0]
    services.cancel(session, Actor.system("test"), pledge, "no longer used")
    session.commit()
    write = bearer(session, found.company, ("payments:write",))
    answer = client.post(
        f"/api/v1/companies/{found.company.slug}/pledges/{pledge.id}/payments",
        json={"amount": "1.00", "currency": "USD", "paid_on": "2027-01-05", "platform": "bank"},
        headers=write,
    )
    assert answer.status_code == 409 and "cancelled" in answer.json["error"]["message"]


def test_tokens_never_reach_another_companys_pledges(client, session, found):
    other = acme(session)
    theirs = bearer(session, other.company, ("read", "payments:write"))
    pledge = services.pledges_of(session, found.company.id)[0]
    for url in (
        f"/api/v1/companies/{found.company.slug}/pledges",
        f"/api/v1/companies/{found.company.slug}/pledges/{pledge.id}",
        f"/api/v1/companies/{other.company.slug}/pledges/{pledge.id}",
        f"/api/v1/companies/{other.company.slug}/pledges/{pledge.id}/payments",
    ):
        assert client.get(url, headers=theirs).status_code == 404, url
    posted = client.post(
        f"/api/v1/companies/{other.company.slug}/pledges/{pledge.id}/payments",
        json={"amount": "1.00", "currency": "USD", "paid_on": "2027-01-05", "platform": "bank"},
        headers=theirs,
    )
    assert posted.status_code == 404
    assert (
        client.get(f"/api/v1/companies/{other.company.slug}/pledges", headers=theirs).json["items"]
        == []
    )


def test_openapi_lists_the_pledge_paths(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert set(paths["/companies/{slug}/pledges/{pledge_id}/payments"]) == {"get", "post"}
    assert "/companies/{slug}/pledges" in paths and "/companies/{slug}/pledges/{pledge_id}" in paths
