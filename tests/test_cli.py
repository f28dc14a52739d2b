"""Operator commands: companies and tokens from the command line."""

import re

from sqlmodel import select

from service.cli import cli
from service.companies.models import ApiToken, Company


def run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def test_company_create_and_tokens(app, session):
    result = run(
        app,
        "company",
        "create",
        "clico",
        "--name",
        "Cli Co",
        "--currency",
        "eur",
        "--budget",
        "5000.00",
    )
    assert result.exit_code == 0, result.output
    company = session.exec(select(Company).where(Company.slug == "clico")).one()
    assert (company.currency, company.monthly_budget_minor) == ("EUR", 500000)

    created = run(app, "token", "create", "clico", "--scope", "sbom:write")
    assert created.exit_code == 0
    plaintext = created.stdout.strip()
    assert re.fullmatch(r"trb_[A-Za-z0-9_-]{43}", plaintext)
    token = session.exec(select(ApiToken)).one()
    assert token.scopes == ["sbom:write"] and token.token_hash != plaintext

    revoked = run(app, "token", "revoke", "clico", token.prefix)
    assert revoked.exit_code == 0
    session.refresh(token)
    assert token.revoked_at is not None


def test_cli_errors_name_the_problem(app):
    duplicate = run(app, "company", "create", "dup", "--name", "Dup")
    assert duplicate.exit_code == 0
    again = run(app, "company", "create", "dup", "--name", "Dup")
    assert again.exit_code != 0 and "already exists" in again.stderr
    bad_budget = run(app, "company", "create", "money", "--name", "M", "--budget", "ten")
    assert "is not a decimal number" in bad_budget.stderr
    assert (
        "No company with the slug 'ghost'"
        in run(app, "token", "create", "ghost", "--scope", "read").stderr
    )
