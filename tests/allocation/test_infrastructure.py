"""The infrastructure share: the registries' table, the split by ecosystem, and its lines
through generation, adjustment and approval."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction

import pytest
from sqlmodel import select

from service.allocation import adjustments
from service.allocation.engine import allocate
from service.allocation.generation import generate_proposal
from service.allocation.infrastructure.split import (
    PackageUse,
    ecosystem_dependence,
    plan_infrastructure,
)
from service.allocation.infrastructure.table import TableError, load_table, parse_table
from service.allocation.policy import Policy
from service.allocation.queries import lines_of
from service.allocation.review import approve
from service.audit.services import Actor
from service.money import Money
from service.numbers import InputError
from service.pledges.exporting import make_export
from service.pledges.models import Pledge
from service.pledges.reconciliation import reconcile
from service.pledges.services import record_payment
from service.projects.models import FundingChannel, Project
from tests.allocation.data import acme
from tests.allocation.test_proposals import save_policy
from tests.conftest import csrf_token, login

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)

# A hand-computed case (decay 0.5): pypi a (web, depth 1) = 1 and b (web depth 2 = 0.5,
# api depth 1 = 1) = 1.5, so pypi 2.5; npm c = 1; gem d (api, depth 3) = 0.25; golang e =
# 1, which no steward in the table runs. Total 4.75.
USES = [
    PackageUse("pkg:pypi/a", "pypi", "web", 1),
    PackageUse("pkg:pypi/b", "pypi", "web", 2),
    PackageUse("pkg:pypi/b", "pypi", "web", 3),  # a deeper path in the same product
    PackageUse("pkg:pypi/b", "pypi", "api", 1),
    PackageUse("pkg:npm/c", "npm", "web", 1),
    PackageUse("pkg:gem/d", "gem", "api", 3),
    PackageUse("pkg:golang/e", "golang", "web", 1),
]


def split(policy: Policy, budget: int):
    plan = plan_infrastructure(ecosystem_dependence(USES, policy), load_table(), policy, budget)
    result = allocate(
        plan.candidates(),
        Money(plan.payable, "USD"),
        replace(policy, cap=policy.infrastructure_cap),
    )
    return plan, {line.project: line.amount for line in result.lines}, result


def test_dependence_is_products_times_depth_decay_summed_per_ecosystem():
    dependence = ecosystem_dependence(USES, Policy())
    assert dependence == {
        "gem": (Fraction(1, 4), 1),
        "golang": (Fraction(1), 1),
        "npm": (Fraction(1), 1),
        "pypi": (Fraction(5, 2), 2),
    }


def test_the_part_follows_each_ecosystems_share_and_exact_cents():
    plan, amounts, result = split(Policy(infrastructure_share=Fraction(1, 10)), 100_000)
    assert plan.part == 10_000
    # pypi and gem take contributions: (2.5 + 0.25) / 4.75 of the part.
    assert plan.payable == 5_789
    # 5,789 * 2.5/2.75 = 5,262.73 and * 0.25/2.75 = 526.27; the cent left goes to the
    # largest remainder.
    assert amounts == {"infrastructure/pypi": 5_263, "infrastructure/rubygems": 526}
    assert sum(amounts.values()) + result.remainder == plan.payable
    statuses = {share.ecosystem: share.status for share in plan.ecosystems}
    assert statuses == {
        "gem": "payable",
        "golang": "unlisted",
        "npm": "no_channel",
        "pypi": "payable",
    }
    reason = next(line.reason for line in result.lines if line.project == "infrastructure/pypi")
    assert reason.startswith(
        "infrastructure: 53% of your dependence is on PyPI packages (2 packages: pypi); "
        "PyPI is run by Python Software Foundation"
    )
    assert "risk" not in reason


def test_a_fixed_amount_wins_over_the_share_and_never_exceeds_the_budget():
    policy = Policy(infrastructure_share=Fraction(1, 10), infrastructure_amount=47_500)
    assert policy.infrastructure_part(100_000) == 47_500
    assert policy.infrastructure_part(20_000) == 20_000
    plan, amounts, _ = split(policy, 100_000)
    assert plan.payable == 27_500  # 47,500 * 2.75 / 4.75
    assert amounts == {"infrastructure/pypi": 25_000, "infrastructure/rubygems": 2_500}


def test_the_cap_per_registry_and_the_minimum_apply():
    capped = Policy(infrastructure_share=Fraction(1, 10), infrastructure_cap=Fraction(6, 10))
    _, amounts, _ = split(capped, 100_000)
    # The cap is 60% of the 5,789 given to stewards (3,473.4, rounded down); the rest
    # goes to the other steward.
    assert amounts == {"infrastructure/pypi": 3_473, "infrastructure/rubygems": 2_316}
    # With a 10.00 minimum, RubyGems' 5.26 is dropped and its share goes to PyPI.
    _, amounts, _ = split(Policy(infrastructure_share=Fraction(1, 10), minimum=1_000), 100_000)
    assert amounts == {"infrastructure/pypi": 5_789}


def test_off_by_default_and_bounded():
    assert Policy().infrastructure_part(100_000) == 0
    plan = plan_infrastructure(ecosystem_dependence(USES, Policy()), load_table(), Policy(), 10**6)
    assert plan.part == plan.payable == 0
    with pytest.raises(
        InputError, match=r"infrastructure_share: expected a fraction ≥ 0 and ≤ 0\.5"
    ):
        Policy(infrastructure_share=Fraction(6, 10))
    with pytest.raises(InputError, match="infrastructure_cap"):
        Policy.from_dict({"infrastructure_cap": "0"}, "USD")
    round_trip = Policy.from_dict({"infrastructure_amount": "12.50"}, "USD")
    assert round_trip.infrastructure_amount == 1_250
    again = Policy.from_dict(round_trip.to_dict("USD"), "USD")
    assert again.infrastructure_amount == 1_250 and again.infrastructure_share == 0


# The table ---------------------------------------------------------------------------------


def test_the_shipped_table_names_a_source_for_every_entry():
    table = load_table()
    assert {s.id for s in table.stewards} >= {"pypi", "rubygems", "crates", "npm", "maven-central"}
    assert all(steward.sources for steward in table.stewards)
    assert table.for_ecosystem("PyPI").steward == "Python Software Foundation"
    psf = table.by_key("infrastructure/pypi")
    assert next((c.platform, c.handle) for c in psf.channels) == ("github_sponsors", "python")
    assert not table.for_ecosystem("npm").payable
    assert table.for_ecosystem("golang") is None


ENTRY = """
[[registry]]
id = "one"
name = "One"
ecosystems = ["one"]
steward = "One Foundation"
kind = "nonprofit"
channels = [{ platform = "open_collective", account = "one" }]
note = "n"
sources = ["https://example.org/one"]
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('id = "two"', 'id = "Two!"'), "line 12: id 'Two!': use lowercase"),
        (('platform = "open_collective"', 'platform = "paypal"'), "line 12: channel platform"),
        (('sources = ["https://example.org/one"]', "sources = []"), "line 12: sources"),
        (('"https://example.org/one"', '"http://example.org/one"'), "is not an https address"),
        (('kind = "nonprofit"', 'kind = "charity"'), "line 12: kind 'charity'"),
        (('note = "n"', 'notes = "n"'), "line 12: unknown field 'notes'"),
        (
            ('ecosystems = ["two"]', 'ecosystems = ["one"]'),
            "line 12: ecosystem 'one' is already run",
        ),
    ],
)
def test_a_bad_entry_is_refused_with_its_line(change, message):
    second = ENTRY.replace('id = "one"', 'id = "two"').replace('["one"]', '["two"]')
    text = ENTRY + second.replace(*change)
    with pytest.raises(TableError, match=message.replace("(", r"\(")):
        parse_table(text)


def test_an_id_used_twice_and_broken_toml_are_refused():
    with pytest.raises(TableError, match="line 13: id 'one' is used twice"):
        parse_table(ENTRY + "\n" + ENTRY.replace('["one"]', '["other"]'))
    with pytest.raises(TableError, match="not valid TOML"):
        parse_table("[[registry]\n")


def test_an_operators_bad_table_stops_the_start_with_its_line(tmp_path):
    from service import create_app
    from service.allocation.infrastructure.stewards import registry_table

    table = tmp_path / "registries.toml"
    table.write_text(ENTRY.replace('kind = "nonprofit"', 'kind = "charity"'))
    registry_table.cache_clear()
    with pytest.raises(TableError, match="line 2: kind 'charity'"):
        create_app({"env": "test", "instance_path": tmp_path, "infrastructure_table": table})


# Through the proposal -----------------------------------------------------------------------


@pytest.fixture
def scenario(session):
    found = acme(session)
    save_policy(session, found.company, {"cap": "1", "infrastructure_share": "0.1"})
    return found


def generate(session, scenario):
    proposal = generate_proposal(
        session, Actor(user_id=scenario.reviewer.id), scenario.company, "2026-12", NOW
    )
    session.commit()
    return proposal


def test_a_proposal_pays_the_steward_of_its_ecosystems_and_says_why(session, scenario):
    proposal = generate(session, scenario)
    lines = {line.project_key: line for line in lines_of(session, proposal.id)}
    # acme: npm left-pad (web 1 + api 1), own-lib 1, unknown-thing 1 = 4; pypi framework 1,
    # tiny 0.5 = 1.5. 10% of 1,000.00 set aside; PyPI's 1.5/5.5 of it is payable.
    psf = lines["infrastructure/pypi"]
    assert (psf.kind, psf.amount_minor, psf.flags[0]) == ("line", 2_727, "infrastructure")
    assert "27% of your dependence is on PyPI packages" in psf.reason
    assert "infrastructure/npm" not in lines  # GitHub takes no donations: npm's share stays
    stats = proposal.stats["infrastructure"]
    assert (stats["part_minor"], stats["payable_minor"]) == (10_000, 2_727)
    assert [(e["ecosystem"], e["status"]) for e in stats["ecosystems"]] == [
        ("npm", "no_channel"),
        ("pypi", "payable"),
    ]
    # Σ of every line, held amount and remainder is still the budget.
    assert proposal.paid_minor + proposal.held_minor + proposal.remainder_minor == 100_000
    projects_paid = sum(
        line.amount_minor
        for key, line in lines.items()
        if line.kind == "line" and not key.startswith("infrastructure/")
    )
    assert projects_paid == proposal.paid_minor - 2_727
    steward = session.exec(select(Project).where(Project.key == "infrastructure/pypi")).one()
    channels = session.exec(
        select(FundingChannel.kind, FundingChannel.handle).where(
            FundingChannel.project_id == steward.id
        )
    ).all()
    assert sorted(channels) == [
        ("custom", "https://donate.python.org/"),
        ("github_sponsors", "python"),
    ]
    assert steward.repo_status == "unsupported"


def test_a_steward_line_is_adjusted_and_approved_like_the_others(session, scenario):
    proposal = generate(session, scenario)
    steward = session.exec(select(Project).where(Project.key == "infrastructure/pypi")).one()
    adjustments.adjust(
        session,
        Actor(user_id=scenario.reviewer.id),
        proposal,
        steward.id,
        "override",
        "50.00",
        "PSF sponsorship tier",
    )
    session.commit()
    lines = {line.project_key: line for line in lines_of(session, proposal.id)}
    psf = lines["infrastructure/pypi"]
    assert psf.amount_minor == 5_000 and "overridden" in psf.flags
    assert proposal.paid_minor + proposal.held_minor + proposal.remainder_minor == 100_000
    approve(session, Actor(user_id=scenario.owner.id), proposal, now=NOW)
    session.commit()
    pledge = session.exec(select(Pledge).where(Pledge.project_id == steward.id)).one()
    assert (pledge.amount_minor, pledge.currency) == (5_000, "USD")


def test_an_approved_steward_line_is_exported_to_its_platform(session, scenario):
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, now=NOW)
    session.commit()
    company = scenario.company
    sponsors, _ = make_export(
        session,
        Actor(user_id=scenario.owner.id),
        company_id=company.id,
        slug=company.slug,
        period="2026-12",
        kind="github-sponsors",
        row_limit=1000,
        now=NOW,
    )
    rows = b"".join(f.content for f in sponsors.files).decode().splitlines()
    # The PSF's GitHub Sponsors account gets the steward's 27.27 USD as whole dollars.
    assert "python,27" in rows
    generic, _ = make_export(
        session,
        Actor(user_id=scenario.owner.id),
        company_id=company.id,
        slug=company.slug,
        period="2026-12",
        kind="csv",
        row_limit=1000,
        now=NOW,
    )
    text = generic.files[0].content.decode()
    assert "infrastructure/pypi" in text and "https://donate.python.org/" in text


def test_reconciliation_totals_the_stewards_apart_from_the_maintainers(session, scenario):
    proposal = generate(session, scenario)
    approve(session, Actor(user_id=scenario.owner.id), proposal, now=NOW)
    session.commit()
    steward = session.exec(select(Project).where(Project.key == "infrastructure/pypi")).one()
    pledge = session.exec(select(Pledge).where(Pledge.project_id == steward.id)).one()
    record_payment(
        session,
        Actor.system("t"),
        pledge,
        amount="27.27",
        currency="USD",
        paid_on=NOW.date(),
        platform="github_sponsors",
        now=NOW,
    )
    session.commit()
    found = reconcile(session, scenario.company.id, "2026-12", "USD")
    stewards = found.totals(infrastructure=True)
    maintainers = found.totals(infrastructure=False)
    assert (stewards.planned, stewards.paid) == (2_727, 2_727)
    assert maintainers.planned == proposal.paid_minor - 2_727 and maintainers.paid == 0
    assert stewards.planned + maintainers.planned == found.planned


def test_the_owner_turns_it_on_and_the_pages_show_it(app, client, session):
    found = acme(session)
    login(client, found.owner)
    token = csrf_token(client, app)
    page = client.get(f"/c/{found.company.slug}/policy")
    assert b"Infrastructure share" in page.data
    answer = client.post(
        f"/c/{found.company.slug}/policy",
        data={"csrf_token": token, "infrastructure_share": "0.05", "cap": "1"},
    )
    assert answer.status_code == 302, answer.data
    registries = client.get(f"/c/{found.company.slug}/registries")
    text = registries.get_data(as_text=True)
    assert registries.status_code == 200
    assert "50.00 USD" in text and "Python Software Foundation" in text
    assert "takes no contributions" in text  # npm
    assert "No metadata requests for your packages yet this month." in text
    proposal = generate(session, found)
    review = client.get(f"/c/{found.company.slug}/proposals/{proposal.period}")
    text = review.get_data(as_text=True)
    assert "set aside for the registries" in text and "infrastructure/pypi" in text
