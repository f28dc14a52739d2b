"""Explanations in words."""

from __future__ import annotations

from typing import Any

import pytest

from service.risk.explain import explain
from service.risk.scoring import SignalContribution, score


def sentences(signals: dict[str, Any], context: dict[str, Any] | None = None) -> list[str]:
    return explain(score(signals), context)


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        ({"publishers": 1}, "one person can publish"),
        ({"publishers": 0}, "no one is listed as able to publish it"),
        ({"publishers": 2}, "only 2 people can publish"),
        ({"months_since_release": 26}, "no release for 26 months"),
        ({"months_since_release": 1}, "no release for 1 month"),
        ({"archived_or_deprecated": True}, "archived or deprecated"),
        ({"advisories": 2}, "2 known advisories on the version in use"),
        ({"advisories": 1}, "1 known advisory on the version in use"),
        ({"scorecard_maintained": 2}, "OpenSSF Scorecard 'Maintained' 2/10"),
        ({"scorecard_score": 4.3}, "OpenSSF Scorecard 4.3/10"),
        ({"funding_gap": True}, "no funding channel found"),
        ({"funding_gap": 1}, "no funding channel found"),
        ({"funding_gap": 0.75}, "funding covers only 25% of its need"),
        ({"dependents": 12345}, "depended on by 12,345 packages"),
        ({"dependents": 1}, "depended on by 1 package"),
        ({"downloads": 1234567}, "1,234,567 downloads a month"),
        ({"active_contributors": 0}, "no active contributors in the last year"),
        ({"active_contributors": 1}, "one active contributor in the last year"),
        ({"active_contributors": 3}, "only 3 active contributors in the last year"),
        ({"direct": True}, "a direct dependency"),
        ({"products_using": 0.75}, "used by 75% of the company's products"),
        ({"products_using": 1}, "used by all of the company's products"),
        ({"criticality": 0.8}, "OpenSSF criticality score 0.80 (1 = most critical)"),
    ],
)
def test_sentence_per_signal(signals: dict[str, Any], expected: str) -> None:
    assert sentences(signals) == [expected]


def test_products_with_the_number_of_products() -> None:
    assert sentences({"products_using": 0.75}, {"products_total": 4}) == ["used by 3 of 4 products"]
    assert sentences({"products_using": 0.5}, {"products_total": 4.0}) == [
        "used by 2 of 4 products"
    ]
    assert sentences({"products_using": 1}, {"products_total": 1}) == [
        "used by the company's only product"
    ]


def test_direct_merges_into_the_products_sentence() -> None:
    assert sentences({"products_using": 0.75, "direct": True}, {"products_total": 4}) == [
        "used directly by 3 of 4 products"
    ]


def test_ordered_by_contribution() -> None:
    # publishers 1 (15) > months 26 (10) > advisories 2 (0.6131·5) > archived (5)?
    # archived true: 1·5 = 5 > advisories 3.07.
    result = sentences(
        {
            "advisories": 2,
            "archived_or_deprecated": True,
            "months_since_release": 26,
            "publishers": 1,
        }
    )
    assert result == [
        "one person can publish",
        "no release for 26 months",
        "archived or deprecated",
        "2 known advisories on the version in use",
    ]


def test_signals_that_do_not_add_risk_are_not_explained() -> None:
    assert sentences({"publishers": 20, "archived_or_deprecated": False, "advisories": 0}) == [
        "only 20 people can publish"
    ]
    assert sentences({"months_since_release": 0, "funding_gap": False}) == []


def test_zero_weight_signals_are_not_explained() -> None:
    result = score({"publishers": 1, "advisories": 3}, weights={"publishers": 0})
    assert explain(result) == ["3 known advisories on the version in use"]


def test_sources_are_carried() -> None:
    signals = {
        "publishers": {"value": 1, "source": "PyPI"},
        "dependents": {"value": 1500, "source": "deps.dev"},
    }
    assert sentences(signals) == [
        "one person can publish (source: PyPI)",
        "depended on by 1,500 packages (source: deps.dev)",
    ]
    assert sentences(signals, {"sources": False}) == [
        "one person can publish",
        "depended on by 1,500 packages",
    ]


def test_accepts_breakdown_lines_and_dicts() -> None:
    result = score({"publishers": 1, "months_since_release": 26})
    expected = ["one person can publish", "no release for 26 months"]
    assert explain(result.breakdown) == expected
    assert explain(result.to_dict()["breakdown"]) == expected


def test_orders_unsorted_input_by_contribution() -> None:
    lines = [
        SignalContribution("advisories", 1, 0.3869, 5, 10.0),
        SignalContribution("publishers", 1, 1.0, 15, 90.0),
    ]
    assert explain(lines) == [
        "one person can publish",
        "1 known advisory on the version in use",
    ]


def test_criticality_from_inputs() -> None:
    # contributor_count 5000 -> 2/8.5 = 0.23529 -> "0.24"
    assert sentences({"contributor_count": 5000}) == [
        "OpenSSF criticality score 0.24 (1 = most critical)"
    ]


def test_empty() -> None:
    assert explain(score({})) == []
    assert explain([]) == []
