"""The pure risk score: normalization, weights, coverage, rounding, validation."""

from __future__ import annotations

import math
from typing import Any

import pytest

from service.risk.scoring import KNOWN_SIGNALS, RiskScore, resolve_weights, score
from service.risk.signals import (
    CATALOGUE,
    DEFAULT_WEIGHTS,
    SIGNAL_NAMES,
    InvalidSignalError,
)

TOTAL_DEFAULT_WEIGHT = 110  # 15+5+10+5+15+10+10+10+5+5+5+5 (DESIGN.md's 100) + criticality 10


def only(name: str, value: Any) -> float:
    """The normalized value of one signal given alone."""
    result = score({name: value})
    (line,) = result.breakdown
    return line.normalized


def test_catalogue_default_weights() -> None:
    assert dict(DEFAULT_WEIGHTS) == {
        "products_using": 15,
        "direct": 5,
        "dependents": 10,
        "downloads": 5,
        "publishers": 15,
        "active_contributors": 10,
        "months_since_release": 10,
        "scorecard_maintained": 10,
        "scorecard_score": 5,
        "advisories": 5,
        "archived_or_deprecated": 5,
        "funding_gap": 5,
        "criticality": 10,
    }
    assert sum(DEFAULT_WEIGHTS.values()) == TOTAL_DEFAULT_WEIGHT
    # The two Scorecard signals share DESIGN.md's Scorecard weight of 15.
    assert DEFAULT_WEIGHTS["scorecard_maintained"] + DEFAULT_WEIGHTS["scorecard_score"] == 15
    for spec in CATALOGUE.values():
        assert spec.description and spec.normalization and spec.direction and spec.unit


# --- normalization, by hand ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # dependents: ln(1+x)/ln(1+10000); 100 -> ln 101 / ln 10001 = 4.61512/9.21044 = 0.50108
        ("dependents", 0, 0.0),
        ("dependents", 100, 0.5011),
        ("dependents", 10_000, 1.0),
        ("dependents", 50_000, 1.0),  # capped at 1
        # downloads: ln(1+x)/ln(1+10^7); 9999 -> ln 10^4 / ln(10^7+1) = 4/7 = 0.571428...
        ("downloads", 9_999, 0.5714),
        ("downloads", 10_000_000, 1.0),
        # publishers: 1/max(n, 1)
        ("publishers", 0, 1.0),
        ("publishers", 1, 1.0),
        ("publishers", 2, 0.5),
        ("publishers", 4, 0.25),
        # active_contributors: 1 - ln(1+x)/ln(11); 1 -> 1 - 0.693147/2.397895 = 0.710935
        ("active_contributors", 0, 1.0),
        ("active_contributors", 1, 0.7109),
        ("active_contributors", 10, 0.0),
        ("active_contributors", 250, 0.0),
        # months_since_release: min(1, x/24)
        ("months_since_release", 0, 0.0),
        ("months_since_release", 6, 0.25),
        ("months_since_release", 24, 1.0),
        ("months_since_release", 60, 1.0),
        # Scorecard: 1 - x/10
        ("scorecard_maintained", 2, 0.8),
        ("scorecard_maintained", 10, 0.0),
        ("scorecard_score", 4.3, 0.57),
        ("scorecard_score", 0, 1.0),
        # advisories: ln(1+x)/ln(6); 1 -> 0.693147/1.791759 = 0.386853
        ("advisories", 0, 0.0),
        ("advisories", 1, 0.3869),
        ("advisories", 5, 1.0),
        # fractions and flags
        ("products_using", 0.75, 0.75),
        ("products_using", 1, 1.0),
        ("direct", True, 1.0),
        ("direct", False, 0.0),
        ("direct", 1, 1.0),
        ("archived_or_deprecated", True, 1.0),
        ("funding_gap", True, 1.0),
        ("funding_gap", 0.3, 0.3),
        ("funding_gap", False, 0.0),
        ("criticality", 0.42, 0.42),
    ],
)
def test_normalization(name: str, value: Any, expected: float) -> None:
    assert only(name, value) == expected


def test_log_normalization_matches_the_formula() -> None:
    assert only("dependents", 100) == round(math.log(101) / math.log(10001), 4)


def test_scorecard_minus_one_means_no_data() -> None:
    result = score({"scorecard_maintained": -1, "publishers": 1})
    assert [line.signal for line in result.breakdown] == ["publishers"]
    assert "scorecard_maintained" in result.missing


# --- the score -------------------------------------------------------------------------


def test_hand_computed_score_and_contributions() -> None:
    # publishers 2        -> 0.5    · 15 = 7.5
    # active_contributors 1 -> 0.7109 · 10 = 7.109
    # advisories 1        -> 0.3869 ·  5 = 1.9345
    # archived false      -> 0      ·  5 = 0
    # Σw with data = 35; score = 16.5435/35·100 = 47.267 -> 47.3
    # contributions (exact): 21.4286, 20.3114, 5.5271, 0 -> tenths 214 + 203 + 55 = 472;
    # 473 needed, the largest remainder (.286, publishers) gets the extra tenth: 21.5.
    # coverage = 35/110 = 0.31818 -> 0.3182
    result = score(
        {
            "publishers": 2,
            "active_contributors": 1,
            "advisories": 1,
            "archived_or_deprecated": False,
        }
    )
    assert result.score == 47.3
    assert result.coverage == 0.3182
    assert [(c.signal, c.normalized, c.weight, c.contribution) for c in result.breakdown] == [
        ("publishers", 0.5, 15, 21.5),
        ("active_contributors", 0.7109, 10, 20.3),
        ("advisories", 0.3869, 5, 5.5),
        ("archived_or_deprecated", 0.0, 5, 0.0),
    ]
    assert result.criticality is None


def test_contributions_sum_exactly_to_the_score() -> None:
    # Three equal thirds: 33.333... each; naive rounding gives 99.9, not 100.0.
    # The extra tenth goes to the first in catalogue order (publishers).
    result = score(
        {"publishers": 1, "months_since_release": 30, "archived_or_deprecated": True},
        weights={"publishers": 10, "archived_or_deprecated": 10},
    )
    assert result.score == 100.0
    assert [(c.signal, c.contribution) for c in result.breakdown] == [
        ("publishers", 33.4),
        ("months_since_release", 33.3),
        ("archived_or_deprecated", 33.3),
    ]


@pytest.mark.parametrize(
    "signals",
    [
        {"publishers": 3, "dependents": 123, "downloads": 4567, "advisories": 2},
        {"products_using": 0.333, "direct": True, "scorecard_score": 6.7, "funding_gap": 0.9},
        {
            "active_contributors": 3,
            "months_since_release": 7,
            "scorecard_maintained": 1,
            "contributor_count": 40,
            "org_count": 3,
        },
    ],
)
def test_contributions_follow_the_formula(signals: dict[str, Any]) -> None:
    result = score(signals)
    assert result.score is not None
    with_data = sum(line.weight for line in result.breakdown)
    for line in result.breakdown:
        assert line.contribution == pytest.approx(
            line.normalized * line.weight / with_data * 100, abs=0.1
        )
    assert round(sum(line.contribution for line in result.breakdown), 1) == result.score


def test_breakdown_is_ordered_by_contribution() -> None:
    result = score({"advisories": 5, "publishers": 1, "months_since_release": 12})
    contributions = [line.contribution for line in result.breakdown]
    assert contributions == sorted(contributions, reverse=True)
    assert [line.signal for line in result.breakdown] == [
        "publishers",
        "months_since_release",
        "advisories",
    ]


def test_missing_signals_change_coverage_not_scale() -> None:
    # The same riskiest values score 100 whether one or three signals are known.
    one = score({"publishers": 1})
    three = score({"publishers": 1, "months_since_release": 24, "funding_gap": True})
    assert one.score == three.score == 100.0
    assert one.coverage == round(15 / 110, 4)  # 0.1364
    assert three.coverage == round(30 / 110, 4)  # 0.2727
    # Two signals at 0.5 -> 50, however many others are missing.
    half = score({"publishers": 2, "months_since_release": 12})
    assert half.score == 50.0
    assert half.coverage == round(25 / 110, 4)


def test_none_values_are_missing() -> None:
    assert score({"publishers": 1, "downloads": None, "advisories": {"value": None}}) == score(
        {"publishers": 1}
    )


def test_full_coverage() -> None:
    signals = {
        "products_using": 0.5,
        "direct": True,
        "dependents": 100,
        "downloads": 1000,
        "publishers": 2,
        "active_contributors": 4,
        "months_since_release": 3,
        "scorecard_maintained": 5,
        "scorecard_score": 5,
        "advisories": 0,
        "archived_or_deprecated": False,
        "funding_gap": 0.5,
        "contributor_count": 10,
    }
    result = score(signals)
    assert result.coverage == 1.0
    assert result.missing == ()
    assert len(result.breakdown) == len(SIGNAL_NAMES)


def test_no_data_gives_no_score() -> None:
    result = score({})
    assert result.score is None
    assert result.coverage == 0.0
    assert result.breakdown == ()
    assert result.missing == SIGNAL_NAMES


def test_only_zero_weight_data_gives_no_score() -> None:
    result = score({"publishers": 1}, weights={"publishers": 0})
    assert result.score is None
    assert result.coverage == 0.0
    assert [(c.signal, c.weight, c.contribution) for c in result.breakdown] == [
        ("publishers", 0.0, 0.0)
    ]


def test_deterministic_whatever_the_input_order() -> None:
    a = {"publishers": 3, "dependents": 99, "months_since_release": 13, "org_count": 2}
    b = dict(reversed(list(a.items())))
    first = score(a)
    assert score(b) == first
    assert all(score(a) == first for _ in range(5))
    assert score(a).to_dict() == first.to_dict()


def test_to_dict_shape() -> None:
    result = score({"publishers": {"value": 1, "source": "PyPI"}})
    assert result.to_dict() == {
        "score": 100.0,
        "coverage": 0.1364,
        "criticality": None,
        "breakdown": [
            {
                "signal": "publishers",
                "raw": 1,
                "normalized": 1.0,
                "weight": 15.0,
                "contribution": 100.0,
                "source": "PyPI",
            }
        ],
    }


# --- weights -----------------------------------------------------------------------------


def test_custom_weights_are_applied() -> None:
    signals = {"publishers": 1, "months_since_release": 0}
    # default: (1·15 + 0·10)/25 = 60.0
    assert score(signals).score == 60.0
    # publishers 30: 30/40 = 75.0
    custom = score(signals, weights={"publishers": 30})
    assert custom.score == 75.0
    assert custom.breakdown[0].weight == 30.0
    # total weight is now 110 - 15 + 30 = 125; with data 40 -> 0.32
    assert custom.coverage == 0.32


def test_zero_weight_removes_a_signal_from_the_score() -> None:
    result = score({"publishers": 1, "months_since_release": 0}, weights={"publishers": 0})
    assert result.score == 0.0
    assert "publishers" not in result.missing


def test_resolve_weights_merges_onto_defaults() -> None:
    resolved = resolve_weights({"downloads": 0, "criticality": 2.5})
    assert resolved["downloads"] == 0.0
    assert resolved["criticality"] == 2.5
    assert resolved["publishers"] == 15.0
    assert resolve_weights(None) == dict(DEFAULT_WEIGHTS)


def test_unknown_weight_names_are_rejected_and_named() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"publishers": 1}, weights={"publisher": 3, "bogus": 1})
    assert info.value.field == "weights.bogus"
    assert "'bogus'" in str(info.value) and "'publisher'" in str(info.value)
    assert info.value.details["fields"] == ["weights.bogus", "weights.publisher"]


@pytest.mark.parametrize("weight", [-1, "10", True, math.inf, math.nan, None])
def test_invalid_weights_are_rejected(weight: Any) -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"publishers": 1}, weights={"downloads": weight})
    assert info.value.field == "weights.downloads"


def test_weights_of_criticality_inputs_are_rejected() -> None:
    with pytest.raises(InvalidSignalError, match=r"weights\.criticality") as info:
        score({}, weights={"contributor_count": 3})
    assert info.value.field == "weights.contributor_count"


def test_weights_must_be_a_mapping() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({}, weights=[1, 2])  # type: ignore[arg-type]
    assert info.value.field == "weights"


# --- signal validation -------------------------------------------------------------------


def test_unknown_signals_are_rejected_and_named() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"publishers": 1, "foo": 2})
    assert info.value.field == "signals.foo"
    assert str(info.value).startswith("signals.foo: unknown signal 'foo'")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("publishers", "one"),
        ("publishers", -1),
        ("publishers", True),
        ("dependents", [1, 2]),
        ("downloads", math.nan),
        ("months_since_release", -3),
        ("products_using", 1.5),
        ("products_using", True),
        ("direct", 2),
        ("direct", "yes"),
        ("scorecard_maintained", 11),
        ("scorecard_score", -0.5),
        ("funding_gap", -0.1),
        ("criticality", 1.2),
    ],
)
def test_invalid_values_are_rejected(name: str, value: Any) -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({name: value})
    assert info.value.field == f"signals.{name}"


def test_signals_must_be_a_mapping() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score([("publishers", 1)])  # type: ignore[arg-type]
    assert info.value.field == "signals"


def test_known_signals_include_the_criticality_inputs() -> None:
    assert set(SIGNAL_NAMES) <= set(KNOWN_SIGNALS)
    assert {"created_since", "contributor_count", "dependents_count"} <= set(KNOWN_SIGNALS)


# --- provenance --------------------------------------------------------------------------


def test_wrapped_values_keep_their_source() -> None:
    result = score(
        {
            "dependents": {
                "value": 100,
                "source": "deps.dev",
                "fetched_at": "2024-05-01T00:00:00Z",
            },
            "publishers": 2,
        }
    )
    lines = {line.signal: line for line in result.breakdown}
    assert lines["dependents"].raw == 100
    assert lines["dependents"].source == "deps.dev"
    assert lines["dependents"].fetched_at == "2024-05-01T00:00:00Z"
    assert lines["publishers"].source is None
    # Same numbers as the plain values.
    assert result.score == score({"dependents": 100, "publishers": 2}).score


def test_wrapper_without_value_is_rejected() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"dependents": {"source": "deps.dev"}})
    assert info.value.field == "signals.dependents"


def test_wrapper_with_bad_source_is_rejected() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"dependents": {"value": 3, "source": 7}})
    assert info.value.field == "signals.dependents.source"


# --- criticality as a signal -------------------------------------------------------------


def test_criticality_inputs_become_one_criticality_line() -> None:
    # contributor_count 5000 -> 2/8.5 = 0.23529; publishers 1 -> 1.
    # score = (0.23529·10 + 1·15)/25·100 = (2.3529 + 15)/25·100 = 69.41 -> 69.4
    result = score(
        {
            "contributor_count": {"value": 5000, "source": "github"},
            "org_count": {"value": 0, "source": "github"},
            "publishers": 1,
        }
    )
    assert result.criticality == 0.23529
    assert result.score == 69.4
    line = next(c for c in result.breakdown if c.signal == "criticality")
    assert line.raw == {"contributor_count": 5000, "org_count": 0}
    assert line.normalized == 0.2353
    assert line.weight == 10.0
    assert line.source == "github"
    assert result.coverage == round(25 / 110, 4)


def test_criticality_absent_without_inputs() -> None:
    result = score({"publishers": 1})
    assert result.criticality is None
    assert "criticality" in result.missing


def test_precomputed_criticality() -> None:
    result = score({"criticality": {"value": 0.8, "source": "OpenSSF"}})
    assert result.criticality == 0.8
    assert result.score == 80.0
    assert result.breakdown[0].source == "OpenSSF"


def test_criticality_and_its_inputs_together_are_rejected() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"criticality": 0.5, "org_count": 3})
    assert info.value.field == "signals.criticality"


def test_criticality_sources_are_listed() -> None:
    result = score(
        {
            "contributor_count": {"value": 10, "source": "github"},
            "dependents_count": {"value": 10, "source": "deps.dev"},
        }
    )
    assert result.breakdown[0].source == "deps.dev, github"


def test_invalid_criticality_input_names_its_field() -> None:
    with pytest.raises(InvalidSignalError) as info:
        score({"commit_frequency": "often"})
    assert info.value.field == "signals.commit_frequency"


def test_result_type() -> None:
    assert isinstance(score({"publishers": 1}), RiskScore)
