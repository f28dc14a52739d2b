"""The OpenSSF criticality score, checked against hand-computed values.

C = (1/Σw) · Σ w_i · ln(1+S_i)/ln(1+max(S_i, T_i)), Σw = 1-1+2+1+1+0.5+0.5+0.5+1+2 = 8.5.
"""

from __future__ import annotations

import math

import pytest

from service.risk.criticality import (
    CRITICALITY_INPUT_NAMES,
    CRITICALITY_INPUTS,
    criticality,
    param_score,
)
from service.risk.signals import InvalidSignalError

THRESHOLDS = {i.name: i.threshold for i in CRITICALITY_INPUTS}


def test_published_weights_and_thresholds() -> None:
    assert {i.name: (i.weight, i.threshold) for i in CRITICALITY_INPUTS} == {
        "created_since": (1, 120),
        "updated_since": (-1, 120),
        "contributor_count": (2, 5000),
        "org_count": (1, 10),
        "commit_frequency": (1, 1000),
        "recent_releases_count": (0.5, 26),
        "closed_issues_count": (0.5, 5000),
        "updated_issues_count": (0.5, 5000),
        "comment_frequency": (1, 15),
        "dependents_count": (2, 500000),
    }


def test_all_inputs_at_their_thresholds_score_one() -> None:
    # Every term is ln(1+T)/ln(1+T) = 1, so the sum is Σw = 8.5 and 8.5/8.5 = 1.
    # (Dividing by Σ|w| = 10.5 instead would give 8.5/10.5 = 0.80952.)
    assert criticality(THRESHOLDS) == 1.0


def test_all_inputs_zero_score_zero() -> None:
    # ln(1+0) = 0 for every term.
    assert criticality(dict.fromkeys(CRITICALITY_INPUT_NAMES, 0)) == 0.0


def test_above_threshold_counts_as_threshold() -> None:
    # contributor_count 5000: 2·1/8.5 = 0.235294... -> 0.23529; 10000: ln(10001)/ln(10001) = 1.
    assert criticality({"contributor_count": 5000}) == 0.23529
    assert criticality({"contributor_count": 10000}) == 0.23529


def test_single_small_input() -> None:
    # org_count 1: ln(2)/ln(11) = 0.693147/2.397895 = 0.289065; /8.5 = 0.034008 -> 0.03401.
    assert criticality({"org_count": 1}) == 0.03401


def test_updated_since_pulls_the_score_down() -> None:
    # created_since 120 -> +1; updated_since 10 -> -ln(11)/ln(121) = -ln(11)/(2·ln(11)) = -0.5.
    # (1 - 0.5)/8.5 = 0.0588235 -> 0.05882.
    assert criticality({"created_since": 120, "updated_since": 10}) == 0.05882


def test_negative_total_is_clamped_to_zero() -> None:
    # Only updated_since 120: -1·1/8.5 < 0 -> clamped to 0, as the original tool does.
    assert criticality({"updated_since": 120}) == 0.0


def test_mixed_case() -> None:
    # created_since 120 (1·1) + updated_since 0 (0) + contributor_count 5000 (2·1)
    # + dependents_count 500000 (2·1) = 5; 5/8.5 = 0.588235 -> 0.58824.
    signals = {
        "created_since": 120,
        "updated_since": 0,
        "contributor_count": 5000,
        "dependents_count": 500000,
    }
    assert criticality(signals) == 0.58824


def test_readme_example_kubernetes() -> None:
    # The example printed in the ossf/criticality_score README: criticality_score 0.98514.
    kubernetes = {
        "created_since": 78,
        "updated_since": 0,
        "contributor_count": 3649,
        "org_count": 5,
        "commit_frequency": 105.9,
        "recent_releases_count": 77,
        "closed_issues_count": 3333,
        "updated_issues_count": 5489,
        "comment_frequency": 5.4,
        "dependents_count": 403529,
    }
    assert criticality(kubernetes) == 0.98514


def test_param_score() -> None:
    # ln(1+9)/ln(1+99) = ln 10 / ln 100 = 0.5.
    assert param_score(9, 99) == pytest.approx(0.5)
    assert param_score(200, 99) == 1.0
    assert param_score(0, 10) == 0.0


def test_missing_inputs_count_as_zero() -> None:
    # Missing inputs add 0 to the sum; the divisor stays 8.5.
    assert criticality({"dependents_count": 500000}) == round(2 / 8.5, 5)
    assert criticality({"dependents_count": 500000, "org_count": None}) == round(2 / 8.5, 5)


def test_none_when_no_input_is_given() -> None:
    assert criticality({}) is None
    assert criticality({"created_since": None, "org_count": None}) is None
    # Keys that are not criticality inputs are ignored.
    assert criticality({"publishers": 1, "downloads": 10}) is None


def test_wrapped_values_are_accepted() -> None:
    assert criticality({"contributor_count": {"value": 5000, "source": "github"}}) == 0.23529


@pytest.mark.parametrize("value", [-1, "12", True, math.inf, math.nan, [1]])
def test_invalid_inputs_are_rejected(value: object) -> None:
    with pytest.raises(InvalidSignalError) as info:
        criticality({"org_count": value})
    assert info.value.field == "org_count"


def test_result_is_always_within_zero_and_one() -> None:
    for scale in (0, 0.5, 1, 2, 100):
        signals = {name: t * scale for name, t in THRESHOLDS.items()}
        value = criticality(signals)
        assert value is not None
        assert 0.0 <= value <= 1.0
