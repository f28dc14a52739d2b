"""Outbound safety (issue #11, item 8): webhooks connect to the address that was checked,
odd IP spellings are stored as the address, demo sign-in decides from the request and the
server's real bind, and per-company limits on SBOM size and daily bytes."""

from __future__ import annotations

import httpx
import pytest

from service.audit.services import Actor
from service.notifications.delivery import (
    DeliveryError,
    WebhookSender,
    normalize_webhook_url,
    webhook_url_problem,
)
from service.sboms.parsing import ParseLimits, SbomError
from service.sboms.services import ingest
from tests.factories import make_company
from tests.sboms.documents import cyclonedx


def test_webhooks_connect_to_the_checked_address_never_a_second_lookup():
    seen: list[httpx.Request] = []
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding name

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = WebhookSender(
        user_agent="Tributary/test",
        transport=httpx.MockTransport(receiver),
        resolver=lambda host: next(answers),
    )
    assert sender.post("https://hooks.example.com/t?x=1", "s" * 16, "e", "d1", b"{}") == 204
    [request] = seen
    assert str(request.url) == "https://93.184.216.34/t?x=1"
    assert request.headers["Host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    # The next lookup says loopback: refused before anything is sent.
    with pytest.raises(DeliveryError, match="private or local address"):
        sender.post("https://hooks.example.com/t", "s" * 16, "e", "d2", b"{}")
    assert len(seen) == 1
    sender.close()


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://127.1/hook", "https://127.0.0.1/hook"),
        ("https://0x7f.0.0.1:8443/hook", "https://127.0.0.1:8443/hook"),
        ("https://2130706433/hook", "https://127.0.0.1/hook"),
        ("https://017700000001/hook", "https://127.0.0.1/hook"),
        ("https://hooks.example.com/hook", "https://hooks.example.com/hook"),
        ("https://93.184.216.34/hook", "https://93.184.216.34/hook"),
    ],
)
def test_odd_ip_spellings_are_stored_as_the_address(written, stored):
    assert normalize_webhook_url(written) == stored
    if "127.0.0.1" in stored:
        assert (
            webhook_url_problem(stored, allow_http=False) == "points at a private or local address"
        )


def test_a_large_sbom_and_a_full_day_are_refused_with_the_limit(session):
    company = make_company(session)
    document = cyclonedx(*((f"pkg:npm/p{i}", "1.0") for i in range(6)))
    with pytest.raises(SbomError, match="more than 5 components"):
        ingest(
            session,
            Actor.system("t"),
            company,
            "web",
            document,
            source="cli",
            limits=ParseLimits(max_components=5),
        )
    daily = ParseLimits(max_bytes_per_day=len(document) + 10)
    ingest(session, Actor.system("t"), company, "web", document, source="cli", limits=daily)
    session.commit()
    other = cyclonedx(("pkg:npm/left-pad", "1.3.0"))
    with pytest.raises(SbomError) as refused:
        ingest(session, Actor.system("t"), company, "api", other, source="cli", limits=daily)
    assert refused.value.code == "daily_limit"
    assert f"limit of {len(document) + 10} bytes of SBOMs a day" in refused.value.message
    # Another company has its own day.
    ingest(
        session, Actor.system("t"), make_company(session), "api", other, source="cli", limits=daily
    )
