"""Each step of the engine on its own: weights, cap with relaxation, minimum, rounding, hold."""

from fractions import Fraction

from service.allocation.engine import Candidate, ProductUse
from service.allocation.engine.eligibility import ineligible
from service.allocation.engine.solver import Solver, round_shares
from service.allocation.engine.split import take_part
from service.allocation.engine.weights import Member, merged_uses, ordered_uses, weigh
from service.allocation.policy import Policy


def candidate(key: str, *uses: ProductUse, **values) -> Candidate:
    return Candidate(key=f"github.com/{key}", uses=uses, **values)


def test_weights_are_exact_and_scaled_to_integers_over_one_denominator():
    policy = Policy()
    members, omitted = take_part(
        [
            # depth 1 + depth 2 = 1 + 1/2; risk 100 → x3/2: 9/4
            candidate("a/x", ProductUse("web", 1), ProductUse("api", 2), risk=100, claimed=True),
            # unknown depth counts as 2 → 1/2; unknown risk x1; boost 2: 1
            candidate("b/y", ProductUse("web"), boost=2, claimed=True),
        ],
        policy,
    )
    weigh(members, policy)
    assert omitted == []
    assert [(m.candidate.key, m.weight, m.scaled) for m in members] == [
        ("github.com/a/x", Fraction(9, 4), 9),
        ("github.com/b/y", Fraction(1), 4),
    ]


def test_uses_merge_to_the_shallowest_known_depth_per_product_and_read_shallowest_first():
    uses = (
        ProductUse("web", 3),
        ProductUse("api"),
        ProductUse("web", 2),
        ProductUse("cli", 1),
        ProductUse("api", 4),
        ProductUse("db"),
    )
    merged = merged_uses(uses)
    assert merged == {"web": 2, "api": 4, "cli": 1, "db": None}
    assert ordered_uses(merged) == [("cli", 1), ("web", 2), ("api", 4), ("db", None)]
    once = (ProductUse("web", 1), ProductUse("api"))
    assert merged_uses(once) == {"web": 1, "api": None}


def test_the_cap_is_relaxed_only_when_too_few_projects_share_the_pool():
    two = Solver([3, 1], [], units=100, base_cap=10, minimum=1)
    assert two.cap(2) == (Fraction(50), True)
    # Both at the relaxed cap: equal lines, λ not needed.
    assert two.solve(2) == (Fraction(50), True, None)
    twenty = Solver([1] * 20, [], units=100, base_cap=10, minimum=1)
    assert twenty.cap(20) == (Fraction(10), False)
    assert twenty.solve(20) == (Fraction(10), False, Fraction(5))


def test_the_minimum_drops_the_smallest_until_every_share_meets_it():
    solver = Solver([6, 3, 1], [], units=100, base_cap=100, minimum=20)
    assert solver.feasible(3) is False  # the smallest would get 10
    assert solver.feasible(2) is True  # 100/9 x  3 = 33.3
    assert solver.kept() == 2


def test_rounding_gives_the_leftover_units_by_largest_remainder_ties_to_the_earlier_key():
    paid = [
        Member(candidate(key, ProductUse("web", 1)), {}, Fraction(1), Fraction(1), scaled=1)
        for key in ("a/x", "b/y", "c/z")
    ]
    exacts, rounded = round_shares(paid, Fraction(100), Fraction(10, 3), 10)
    assert exacts == [Fraction(10, 3)] * 3
    assert rounded == [4, 3, 3]


def test_an_unclaimed_project_takes_part_until_its_hold_runs_out():
    policy = Policy(hold_months=2)
    use = ProductUse("web", 1)
    assert ineligible(candidate("a/x", use, months_held=1), policy) is None
    assert ineligible(candidate("a/x", use, months_held=2), policy) == (
        "hold_expired",
        "unclaimed after 2 month(s) on hold: its share went to the others",
    )
    assert ineligible(candidate("a/x", use), Policy(unclaimed="skip")) == (
        "unclaimed_skipped",
        "unclaimed, and the policy skips unclaimed projects: its share went to the others",
    )
    assert ineligible(candidate("a/x", use, months_held=5, claimed=True), policy) is None
