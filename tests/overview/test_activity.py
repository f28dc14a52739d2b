"""The audit trail as sentences, and how a home figure moved (pure functions)."""

from service.overview.activity import kinds, sentence
from service.overview.figures import trend


def test_an_override_reads_as_a_sentence_with_its_amount_and_note():
    details = {
        "period": "2026-12",
        "project": "github.com/psf/requests",
        "kind": "override",
        "value": 12000,
        "note": "core dependency",
        "amount_before": 9410,
        "amount_after": 12000,
    }
    assert sentence("proposal.adjusted", details, "USD") == (
        "overrode github.com/psf/requests to 120.00 USD in 2026-12: “core dependency”"
    )


def test_other_actions_and_unknown_ones():
    assert sentence(
        "proposal.adjusted", {"project": "p", "kind": "exclude", "period": "2026-11"}, "EUR"
    ) == ("excluded p in 2026-11")
    upload = {"product": "web", "components": 85, "added": 83, "removed": 0, "changed": 0}
    assert sentence("sbom.uploaded", upload, "USD") == (
        "uploaded an SBOM of web: 85 components, 83 packages added, 0 removed"
    )
    approved = {"period": "2026-12", "paid_minor": 218880, "comment": None}
    assert sentence("proposal.approved", approved, "USD") == (
        "approved the 2026-12 proposal: 2188.80 USD to pay"
    )
    assert sentence("pledge.payment_recorded", {"amount_minor": 500, "currency": "EUR"}, "USD") == (
        "recorded a payment of 5.00 EUR"
    )
    assert sentence("something.new_thing", {}, "USD") == "something: new thing"
    assert {"proposal", "sbom", "member", "pledge"} <= set(kinds())


def test_trend_says_whether_a_change_is_welcome():
    assert trend(112.0, 100.0, "2026-11") == ("+12% against 2026-11", "up", "good")
    assert trend(90.0, 100.0, "2026-11", more_is="bad") == ("-10% against 2026-11", "down", "good")
    assert trend(130.0, 100.0, "2026-11", more_is="bad") == ("+30% against 2026-11", "up", "bad")
    assert trend(100.2, 100.0, "2026-11") == ("same as 2026-11", "flat", "")
    assert trend(5.0, 0, "2026-11") is None and trend(None, 3.0, "x") is None
