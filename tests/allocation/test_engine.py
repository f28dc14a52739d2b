# ruff: noqa: RUF001, RUF002, RUF003 - reasons use × → − as DESIGN.md writes them
"""The allocation engine and its policy on worked examples (DESIGN "Allocation")."""

from __future__ import annotations

from fractions import Fraction

import pytest

from service.allocation.engine import (
    RISK_MULTIPLIER_FLOOR,
    AllocationError,
    Candidate,
    ProductUse,
    Proposal,
    allocate,
    project_weight,
    risk_multiplier,
    split_among_maintainers,
)
from service.allocation.policy import Policy
from service.money import Money
from service.numbers import InputError

USD = "USD"


def usd(minor: int) -> Money:
    return Money(minor, USD)


def project(key: str, boost: Fraction | float | int = 1, **fields) -> Candidate:
    """A claimed project used directly by one product, weight = boost (risk unknown = ×1)."""
    if "/" not in key:
        key = f"github.com/{key}/repo"
    fields.setdefault("uses", (ProductUse("web", 1),))
    fields.setdefault("claimed", True)
    return Candidate(key, boost=boost, **fields)


def amounts(proposal: Proposal) -> dict[str, int]:
    return {line.project.split("/")[1]: line.amount for line in proposal.lines}


def held(proposal: Proposal) -> dict[str, int]:
    return {entry.project.split("/")[1]: entry.amount for entry in proposal.held}


def omitted(proposal: Proposal) -> dict[str, str]:
    return {entry.project.split("/")[1]: entry.code for entry in proposal.omitted}


def assert_balanced(proposal: Proposal) -> None:
    assert proposal.total_lines + proposal.total_held + proposal.remainder == proposal.budget


NO_CAP = Policy(cap=1, minimum=0)


# --- step 2: weights ----------------------------------------------------------------


def test_weight_sums_decay_over_products_at_their_shallowest_depth() -> None:
    candidate = Candidate(
        "github.com/o/r",
        uses=(ProductUse("web", 3), ProductUse("web", 1), ProductUse("api", 2), ProductUse("cli")),
    )
    # web at its shallowest depth 1 (1), api at 2 (0.5), cli unknown -> depth 2 (0.5)
    assert project_weight(candidate) == 2
    assert project_weight(candidate, Policy(decay=0.25, unknown_depth=3)) == Fraction(
        1 + 1 / 4 + 1 / 16
    )


def test_depth_must_be_at_least_one_and_sane() -> None:
    for depth in (0, -1, True, 1001):
        with pytest.raises(AllocationError, match="depth in web"):
            ProductUse("web", depth)
    deep = Candidate("github.com/o/r", uses=(ProductUse("web", 1000),))
    assert project_weight(deep) == Fraction(1, 2**999)


def test_unknown_depth_in_one_entry_does_not_hide_a_known_one() -> None:
    candidate = Candidate("github.com/o/r", uses=(ProductUse("web"), ProductUse("web", 4)))
    assert project_weight(candidate) == Fraction(1, 8)


def test_risk_multiplier_neutral_at_50_and_unknown_and_floored() -> None:
    assert risk_multiplier(None) == 1
    assert risk_multiplier(50) == 1
    assert risk_multiplier(72) == Fraction(122, 100)
    assert risk_multiplier(0, alpha=2) == RISK_MULTIPLIER_FLOOR  # 1 + 2·(0 − 0.5) = 0
    assert risk_multiplier(10, alpha=5) == RISK_MULTIPLIER_FLOOR  # would be −1
    assert risk_multiplier(100, alpha=0) == 1


def test_boost_is_the_candidates_times_the_policys() -> None:
    candidate = Candidate("github.com/O/R", uses=(ProductUse("web", 1),), boost=1.5)
    assert project_weight(candidate, Policy(boosts={"github.com/o/r": 2})) == 3


def test_floats_in_policy_mean_their_decimal_value() -> None:
    policy = Policy(cap=0.1, decay=0.3, risk_alpha=1.1)
    assert policy.cap == Fraction(1, 10)
    assert policy.decay == Fraction(3, 10)
    assert policy.risk_alpha == Fraction(11, 10)


# --- step 3: share, cap, minimum -----------------------------------------------------


def test_split_is_proportional_to_weight() -> None:
    proposal = allocate([project("a", 1), project("b", 2), project("c", 1)], usd(100_00), NO_CAP)
    assert amounts(proposal) == {"b": 50_00, "a": 25_00, "c": 25_00}
    assert [line.project for line in proposal.lines] == [
        "github.com/b/repo",
        "github.com/a/repo",
        "github.com/c/repo",
    ]
    assert proposal.remainder == 0
    line = proposal.lines[0]
    assert (line.share, line.weight, line.exact) == (0.5, 2.0, Fraction(50_00))


def test_cap_excess_is_re_spread_over_the_others() -> None:
    proposal = allocate(
        [project("a", 8), project("b", 1), project("c", 1)], usd(100_00), Policy(cap=0.5, minimum=0)
    )
    assert amounts(proposal) == {"a": 50_00, "b": 25_00, "c": 25_00}
    assert proposal.lines[0].capped and not proposal.lines[1].capped
    assert "capped at 50% of budget (50.00)" in proposal.lines[0].reason
    assert not proposal.cap_relaxed and proposal.cap == 50_00


def test_re_spreading_can_cap_a_second_project() -> None:
    # a is capped at 40; its excess lifts b over 40 too; c and d share the rest.
    weights = {"a": 10, "b": 6, "c": 1, "d": 1}
    proposal = allocate(
        [project(k, w) for k, w in weights.items()], usd(100), Policy(cap=0.4, minimum=0)
    )
    assert amounts(proposal) == {"a": 40, "b": 40, "c": 10, "d": 10}


def test_cap_relaxed_when_fewer_projects_than_one_over_cap() -> None:
    proposal = allocate([project("a", 5), project("b", 1), project("c", 1)], usd(1000_00), Policy())
    # 3 projects cannot take 1000.00 at 10% each: the cap becomes 1/3 and lines are equal.
    assert proposal.cap_relaxed
    assert amounts(proposal) == {"a": 33334, "b": 33333, "c": 33333}
    assert proposal.cap == 33334
    assert "the 10% cap is relaxed" in proposal.lines[0].reason


def test_cap_relaxation_respects_granularity() -> None:
    policy = Policy(granularity=100)
    proposal = allocate([project("a"), project("b"), project("c")], usd(1000_00), policy)
    assert sorted(amounts(proposal).values()) == [333_00, 333_00, 334_00]
    assert proposal.cap == 334_00  # 1000/3 rounded up: no whole-dollar split does better
    assert proposal.remainder == 0


def test_cap_is_rounded_down_to_the_granularity() -> None:
    # 10% of 1005.00 is 100.50; with whole dollars no line may get more than 100.00.
    candidates = [project(f"p{i:02d}", 20 if i == 0 else 1) for i in range(15)]
    proposal = allocate(candidates, usd(1005_00), Policy(granularity=100))
    assert proposal.cap == 100_00 and not proposal.cap_relaxed
    assert max(line.amount for line in proposal.lines) == 100_00
    assert proposal.remainder == 0
    assert_balanced(proposal)


def test_minimum_drops_the_smallest_first_and_renormalizes() -> None:
    candidates = [project("a", 10), project("b", 3), project("c", 2)]
    proposal = allocate(candidates, usd(30_00), Policy(cap=1, minimum=5_00))
    # 20.00 / 6.00 / 4.00: c is under 5.00 and goes; a and b share 30.00 as 10:3.
    assert amounts(proposal) == {"a": 23_08, "b": 6_92}
    assert omitted(proposal) == {"c": "below_minimum"}
    assert "minimum payout of 5.00" in proposal.omitted[0].reason


def test_minimum_dropping_repeats_until_every_line_meets_it() -> None:
    candidates = [project("a", 10), project("b", 1), project("c", 1)]
    proposal = allocate(candidates, usd(20_00), Policy(cap=1, minimum=5_00))
    # 16.67/1.67/1.67 -> drop c (equal weight: the later key) -> 18.18/1.82 -> drop b.
    assert amounts(proposal) == {"a": 20_00}
    assert omitted(proposal) == {"b": "below_minimum", "c": "below_minimum"}


def test_equal_weights_drop_the_later_key_first() -> None:
    candidates = [project("a", 1), project("b", 1), project("c", 1)]
    proposal = allocate(candidates, usd(10_00), Policy(cap=1, minimum=4_00))
    assert amounts(proposal) == {"a": 5_00, "b": 5_00}
    assert omitted(proposal) == {"c": "below_minimum"}


def test_minimum_is_rounded_up_to_the_granularity() -> None:
    candidates = [project(f"p{i}", i + 1) for i in range(8)]
    proposal = allocate(candidates, usd(100_00), Policy(cap=1, minimum=5_50, granularity=100))
    assert proposal.minimum == 6_00
    assert all(line.amount >= 6_00 and line.amount % 100 == 0 for line in proposal.lines)
    assert_balanced(proposal)


def test_budget_under_the_minimum_pays_nothing() -> None:
    proposal = allocate([project("a"), project("b")], usd(4_99), Policy())
    assert proposal.lines == () and proposal.remainder == 4_99
    assert omitted(proposal) == {"a": "below_minimum", "b": "below_minimum"}


def test_dropping_can_relax_the_cap_again() -> None:
    # 12 projects fit under 10%, but only 6 can meet a 10.00 minimum out of 60.00.
    candidates = [project(f"p{i:02d}", 1) for i in range(12)]
    proposal = allocate(candidates, usd(60_00), Policy(minimum=10_00))
    assert len(proposal.lines) == 6 and proposal.cap_relaxed
    assert all(line.amount == 10_00 for line in proposal.lines)


# --- step 4: rounding ----------------------------------------------------------------


def test_largest_remainder_ties_go_to_the_earlier_key() -> None:
    proposal = allocate([project("c"), project("a"), project("b")], usd(100), NO_CAP)
    assert amounts(proposal) == {"a": 34, "b": 33, "c": 33}


def test_largest_remainder_gives_units_to_the_largest_fractions() -> None:
    # exact 4.2 / 3.5 / 2.3 -> floors 4/3/2, one unit left -> b (0.5)
    proposal = allocate([project("a", 42), project("b", 35), project("c", 23)], usd(10), NO_CAP)
    assert amounts(proposal) == {"a": 4, "b": 4, "c": 2}


def test_what_cannot_be_placed_at_the_granularity_is_remainder() -> None:
    proposal = allocate([project("a"), project("b")], usd(1000_50), Policy(granularity=100))
    assert amounts(proposal) == {"a": 500_00, "b": 500_00}
    assert proposal.remainder == 50
    assert_balanced(proposal)


def test_zero_decimal_currency() -> None:
    proposal = allocate([project("a"), project("b"), project("c")], Money(10_000, "JPY"), Policy())
    assert sorted(amounts(proposal).values()) == [3333, 3333, 3334]
    assert proposal.minimum == 5  # 5.00 in JPY is 5 yen


# --- steps 1 and 5: who takes part ---------------------------------------------------


def test_first_party_and_exclusions_are_omitted_with_reasons() -> None:
    candidates = [
        project("github.com/ACME/tool", 1),
        project("mine", 1, first_party=True),
        project("ospo", 1, excluded=True),
        project("banned", 1),
        project("evil", 1),
        project("npmpkg", 1, ecosystem="NPM"),
        project("unused", 1, uses=()),
        project("kept", 1),
    ]
    policy = Policy(
        first_party_owners=["acme"],
        exclude_projects=["GITHUB.COM/banned/repo"],
        exclude_owners=["Evil"],
        exclude_ecosystems=["npm"],
    )
    proposal = allocate(candidates, usd(100_00), policy)
    assert amounts(proposal) == {"kept": 100_00}
    assert {e.project.split("/")[1]: e.code for e in proposal.omitted} == {
        "ACME": "first_party",
        "mine": "first_party",
        "ospo": "excluded",
        "banned": "policy_excluded",
        "evil": "policy_excluded",
        "npmpkg": "policy_excluded",
        "unused": "not_used",
    }


@pytest.mark.parametrize(
    "candidates",
    [[], [project("a", excluded=True), project("b", first_party=True)]],
    ids=["empty", "all-excluded"],
)
def test_nothing_to_pay_is_an_empty_proposal_not_an_error(candidates) -> None:
    proposal = allocate(candidates, usd(1234_56), Policy())
    assert proposal.lines == () and proposal.held == ()
    assert proposal.remainder == 1234_56
    assert proposal.cap is None


def test_unclaimed_is_held_while_within_hold_months() -> None:
    candidates = [project("a", 1), project("b", 1, claimed=False, months_held=1)]
    proposal = allocate(candidates, usd(100_00), Policy(cap=1, hold_months=2))
    assert amounts(proposal) == {"a": 50_00}
    assert held(proposal) == {"b": 50_00}
    assert proposal.held[0].months_held == 1
    assert "held for its maintainers (month 2 of 2)" in proposal.held[0].reason
    assert_balanced(proposal)


def test_unclaimed_is_re_spread_after_hold_months_or_at_once_under_skip() -> None:
    candidates = [project("a", 1), project("b", 3), project("c", 1, claimed=False, months_held=2)]
    expired = allocate(candidates, usd(100_00), Policy(cap=1, hold_months=2))
    skipped = allocate(
        [*candidates[:2], project("c", 1, claimed=False)],
        usd(100_00),
        Policy(cap=1, unclaimed="skip"),
    )
    excluded = allocate(candidates[:2], usd(100_00), Policy(cap=1))
    for proposal in (expired, skipped):
        assert proposal.held == ()
        assert amounts(proposal) == amounts(excluded) == {"a": 25_00, "b": 75_00}
    assert omitted(expired) == {"c": "hold_expired"}
    assert omitted(skipped) == {"c": "unclaimed_skipped"}


def test_held_projects_meet_cap_and_minimum_like_lines() -> None:
    candidates = [project(f"p{i:02d}", 30 if i == 0 else 1, claimed=i % 2 == 0) for i in range(20)]
    proposal = allocate(candidates, usd(500_00), Policy())
    assert held(proposal)["p01"] >= 5_00
    assert max(entry.amount for entry in (*proposal.lines, *proposal.held)) <= proposal.cap
    assert_balanced(proposal)


def test_duplicate_keys_are_an_error() -> None:
    with pytest.raises(AllocationError) as error:
        allocate([project("a"), project("A")], usd(100), Policy())
    assert error.value.field == "key"


# --- OSPO adjustments ----------------------------------------------------------------


def test_override_is_fixed_and_the_rest_split_over_what_is_left() -> None:
    candidates = [
        project("a", 1),
        project("b", 1),
        project("o", 100, override=10_00, override_note="agreed with the maintainers"),
    ]
    proposal = allocate(candidates, usd(100_00), NO_CAP)
    assert amounts(proposal) == {"a": 45_00, "b": 45_00, "o": 10_00}
    line = next(line for line in proposal.lines if line.project.startswith("github.com/o/"))
    assert line.overridden and not line.capped
    assert "fixed at 10.00 by the OSPO: agreed with the maintainers" in line.reason


def test_override_larger_than_the_budget_names_the_project() -> None:
    with pytest.raises(AllocationError) as error:
        allocate([project("a"), project("o", override=200_00)], usd(100_00), Policy())
    assert error.value.project == "github.com/o/repo"
    assert "github.com/o/repo" in str(error.value) and "larger than the budget" in str(error.value)


def test_overrides_together_larger_than_the_budget() -> None:
    candidates = [project("o", override=60_00), project("p", override=50_00)]
    with pytest.raises(AllocationError, match=r"overrides total 110\.00"):
        allocate(candidates, usd(100_00), Policy())


def test_override_must_be_payable_at_the_granularity() -> None:
    with pytest.raises(AllocationError, match=r"not a multiple of the granularity 1\.00"):
        allocate([project("o", override=10_50)], usd(100_00), Policy(granularity=100))


def test_override_zero_means_not_this_month() -> None:
    proposal = allocate([project("a"), project("o", override=0)], usd(100_00), Policy())
    assert amounts(proposal) == {"a": 100_00}
    assert omitted(proposal) == {"o": "override_zero"}


def test_override_may_exceed_cap_and_be_under_minimum() -> None:
    candidates = [project(f"p{i:02d}") for i in range(20)] + [
        project("big", override=50_00),
        project("tiny", override=1_00),
    ]
    proposal = allocate(candidates, usd(100_00), Policy())
    assert amounts(proposal)["big"] == 50_00 and amounts(proposal)["tiny"] == 1_00
    assert_balanced(proposal)


def test_pin_raises_a_line_to_its_minimum() -> None:
    candidates = [project("a", 10), project("b", 10), project("p", 1, pin_minimum=20_00)]
    proposal = allocate(candidates, usd(100_00), NO_CAP)
    assert amounts(proposal) == {"a": 40_00, "b": 40_00, "p": 20_00}
    line = next(line for line in proposal.lines if "/p/" in line.project)
    assert line.pinned and "raised to its pinned minimum 20.00" in line.reason


def test_pin_that_does_not_bind_changes_nothing() -> None:
    candidates = [project("a", 1), project("p", 1, pin_minimum=10_00)]
    proposal = allocate(candidates, usd(100_00), NO_CAP)
    assert amounts(proposal) == {"a": 50_00, "p": 50_00}
    assert "pinned at ≥ 10.00" in proposal.lines[1].reason


def test_pinned_project_is_never_dropped_for_the_minimum() -> None:
    candidates = [project("a", 100), project("p", 1, pin_minimum=0)]
    proposal = allocate(candidates, usd(100_00), Policy(cap=1, minimum=5_00))
    # the pin of 0 still keeps p, at the minimum payout
    assert amounts(proposal) == {"a": 95_00, "p": 5_00}


def test_pins_larger_than_the_pool_are_an_error() -> None:
    candidates = [project("a", override=60_00), project("p", pin_minimum=50_00)]
    with pytest.raises(AllocationError, match=r"pinned minimums total 50\.00") as error:
        allocate(candidates, usd(100_00), Policy())
    assert error.value.project == "github.com/p/repo"


# --- reasons -------------------------------------------------------------------------


def test_reason_reads_like_the_design_example() -> None:
    candidates = [
        Candidate(
            "github.com/o/r",
            uses=(ProductUse("web", 1), ProductUse("api", 3)),
            risk=72,
            claimed=True,
            boost=1.5,
        ),
        *(project(f"p{i:02d}", uses=(ProductUse("cli", 2),)) for i in range(12)),
    ]
    proposal = allocate(candidates, usd(1000_00), Policy())
    line = proposal.lines[0]
    assert line.project == "github.com/o/r"
    assert line.reason == (
        "used by 2 of 3 products (web at depth 1, api at depth 3); risk 72 → ×1.22; "
        "capped at 10% of budget (100.00); boosted ×1.5"
    )
    assert line.capped and line.boosted and not line.overridden
    assert line.weight == 2.2875  # (1 + 0.25) × 1.22 × 1.5


def test_reason_names_unknown_depth_and_neutral_risk() -> None:
    candidate = Candidate("github.com/o/r", uses=(ProductUse("img"),), claimed=True)
    proposal = allocate([candidate], usd(100_00), NO_CAP)
    assert proposal.lines[0].reason == (
        "used by 1 of 1 product (img at unknown depth (counted as 2)); risk unknown → ×1 (neutral)"
    )


def test_reason_counts_the_products_it_is_told_the_company_has() -> None:
    # A product none of whose packages has a project still counts among the company's.
    candidate = Candidate("github.com/o/r", uses=(ProductUse("web", 1),), claimed=True)
    proposal = allocate([candidate], usd(100_00), NO_CAP, products_total=8)
    assert proposal.lines[0].reason.startswith("used by 1 of 8 products (web at depth 1)")


def test_reason_shortens_long_product_lists() -> None:
    uses = tuple(ProductUse(f"prod{i}", 1) for i in range(8))
    proposal = allocate([Candidate("github.com/o/r", uses=uses, claimed=True)], usd(100), NO_CAP)
    assert "prod4 at depth 1, and 3 more)" in proposal.lines[0].reason


# --- worked cases where a DESIGN property holds only with a tolerance ---------------


def test_own_weight_increase_can_cost_one_step_when_it_pushes_another_under_the_minimum() -> None:
    """The one case where a project gains weight and loses money: a rounding paradox.

    Raising i's weight 79 -> 79.01 pushes e (exactly at the 1-unit minimum) under it.
    e's unit is re-spread and largest remainder re-rounds everyone: i's exact share grows
    (1.517 -> 1.572) but j's fraction now beats i's, so i drops from 2 units to 1.
    """
    weights = {"i": Fraction(79), "j": Fraction(585), "k": Fraction(564), "l": Fraction(230)}
    weights["e"] = Fraction(729, 14)  # exactly 1 unit of 29
    policy = Policy(cap=1, minimum=1)

    def run(weight_i: Fraction) -> Proposal:
        changed = {**weights, "i": weight_i}
        return allocate([project(k, w) for k, w in changed.items()], usd(29), policy)

    before, after = run(Fraction(79)), run(Fraction(7901, 100))
    line_before = next(line for line in before.lines if "/i/" in line.project)
    line_after = next(line for line in after.lines if "/i/" in line.project)
    assert line_after.exact > line_before.exact  # exact share: monotone
    assert (line_before.amount, line_after.amount) == (2, 1)  # rounded: one step less
    assert "e" in amounts(before) and omitted(after) == {"e": "below_minimum"}


def test_excluding_a_project_can_cost_another_one_step_of_rounding() -> None:
    """Largest remainder's population paradox: a's exact share grows, its amount falls."""
    candidates = [project("a", 1), project("b", 1), project("c", 13)]
    policy = Policy(cap=1, minimum=0, granularity=100)
    before = allocate(candidates, usd(20_00), policy)
    after = allocate([candidates[0], candidates[2]], usd(20_00), policy)
    assert amounts(before) == {"a": 2_00, "b": 1_00, "c": 17_00}  # exact 1.33 / 1.33 / 17.33
    assert amounts(after) == {"a": 1_00, "c": 19_00}  # exact 1.43 / 18.57


def test_excluding_a_project_can_readmit_projects_the_minimum_dropped() -> None:
    """DESIGN's minimum rule and "excluding never lowers another line" cannot both hold.

    With j, only a and j meet 8.20 (d1, d2 would get 7.41, then 8.00). Without j, d1 and
    d2 would get 8.33 each, so the rule keeps them, and they share j's money with a.
    """
    candidates = [
        project("a", 10),
        project("j", Fraction(3, 2)),
        project("d1", 1),
        project("d2", 1),
    ]
    policy = Policy(cap=1, minimum=8_20)
    before = allocate(candidates, usd(100_00), policy)
    after = allocate([c for c in candidates if "/j/" not in c.key], usd(100_00), policy)
    assert amounts(before) == {"a": 86_96, "j": 13_04}
    assert amounts(after) == {"a": 83_34, "d1": 8_33, "d2": 8_33}


# --- step 6 --------------------------------------------------------------------------


def test_split_among_maintainers_equal_by_default() -> None:
    assert split_among_maintainers(100, ["bo", "al", "cy"]) == {"al": 34, "bo": 33, "cy": 33}
    assert split_among_maintainers(100, {"al": None, "bo": None}) == {"al": 50, "bo": 50}


def test_split_among_maintainers_by_agreed_percent() -> None:
    split = split_among_maintainers(10_001, {"al": 70, "bo": 20, "cy": 10})
    assert split == {"al": 7001, "bo": 2000, "cy": 1000}
    assert sum(split.values()) == 10_001
    # shares are normalised: 2:1 is 66.67% / 33.33%
    assert split_among_maintainers(300, {"al": 2, "bo": 1}) == {"al": 200, "bo": 100}


def test_split_among_maintainers_at_a_granularity() -> None:
    split = split_among_maintainers(10_00, {"al": 50, "bo": 25, "cy": 25}, granularity=100)
    assert split == {"al": 5_00, "bo": 3_00, "cy": 2_00}  # 2.5 / 2.5 tie -> earlier login
    assert split_among_maintainers(0, ["al"]) == {"al": 0}


@pytest.mark.parametrize(
    ("amount", "shares", "granularity", "message"),
    [
        (100, [], 1, "no maintainers"),
        (100, {"al": 50, "bo": None}, 1, "every maintainer, or for none"),
        (100, {"al": -1, "bo": 2}, 1, "must be ≥ 0"),
        (100, {"al": 0}, 1, "add up to 0"),
        (150, ["al"], 100, "not a multiple"),
        (-1, ["al"], 1, "minor units ≥ 0"),
        (100, ["al", "AL"], 1, "listed twice"),
    ],
)
def test_split_among_maintainers_rejects_bad_input(amount, shares, granularity, message) -> None:
    with pytest.raises(ValueError, match=message):
        split_among_maintainers(amount, shares, granularity)


# --- policy --------------------------------------------------------------------------


def test_policy_from_dict_reads_amounts_in_the_budget_currency() -> None:
    policy = Policy.from_dict(
        {"minimum": "2.50", "granularity": "1.00", "cap": 0.2, "boosts": {"github.com/o/r": 2}},
        "USD",
    )
    assert (policy.minimum, policy.granularity, policy.cap) == (250, 100, Fraction(1, 5))
    assert policy.boost_for("GitHub.com/O/R") == 2
    assert Policy.from_dict({}, "USD") == Policy()
    assert Policy().minimum_for("USD") == 500 and Policy().minimum_for("KWD") == 5000


def test_policy_round_trips_through_to_dict() -> None:
    policy = Policy.from_dict(
        {
            "decay": 0.3,
            "cap": "0.15",
            "minimum": "7.00",
            "exclude_owners": ["x"],
            "unclaimed": "skip",
        },
        "EUR",
    )
    assert Policy.from_dict(policy.to_dict("EUR"), "EUR") == policy


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"decay": 0}, "decay"),
        ({"decay": 1.5}, "decay"),
        ({"decay": True}, "decay"),
        ({"cap": 0}, "cap"),
        ({"cap": "lots"}, "cap"),
        ({"risk_alpha": -1}, "risk_alpha"),
        ({"unknown_depth": 0}, "unknown_depth"),
        ({"unknown_depth": 2.0}, "unknown_depth"),
        ({"unknown_depth": 1001}, "unknown_depth"),
        ({"minimum": 5}, None),  # an integer amount is unambiguous: accepted
        ({"minimum": 5.0}, "minimum"),
        ({"minimum": "-1.00"}, "minimum"),
        ({"minimum": "1.001"}, "minimum"),
        ({"granularity": "0.00"}, "granularity"),
        ({"unclaimed": "keep"}, "unclaimed"),
        ({"hold_months": -1}, "hold_months"),
        ({"exclude_owners": "acme"}, "exclude_owners"),
        ({"exclude_owners": ["ok", 3]}, "exclude_owners[1]"),
        ({"boosts": {"github.com/o/r": 0}}, 'boosts["github.com/o/r"]'),
        ({"boosts": [1]}, "boosts"),
        ({"caps": 0.1}, "caps"),
    ],
)
def test_policy_errors_name_the_field(data, field) -> None:
    if field is None:
        Policy.from_dict(data, "USD")
        return
    with pytest.raises(InputError) as error:
        Policy.from_dict(data, "USD")
    assert error.value.field == field
    assert str(error.value).startswith(f"{field}: ")
