"""Exports of a company's month: recorded (who, when, checksum, what was left out), the
pledges they carried marked exported with a history entry; the command line."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from service.audit.services import Actor
from service.pledges import services
from service.pledges.exporting import exports_of, make_export

NOW = datetime(2027, 1, 10, 9, tzinfo=UTC)


def export(session, found, actor, kind="github-sponsors"):
    return make_export(
        session,
        actor,
        company_id=found.company.id,
        slug="acme",
        period="2026-12",
        kind=kind,
        row_limit=100,
    )


def by_project(session, found):
    return {p.project_id: p for p in services.pledges_of(session, found.company.id)}


def test_a_github_sponsors_export_is_recorded_and_moves_the_pledges(session, found):
    made, row = export(session, found, Actor(user_id=found.reviewer.id))
    session.commit()
    # left-pad is unclaimed but its FUNDING.yml names the sponsorable account "left";
    # framework's maintainer has no payout channel yet.
    assert [(f.name, f.content) for f in made.files] == [
        (
            "acme-2026-12-github-sponsors.csv",
            b"Maintainer username,Sponsorship amount in USD\nleft,100\n",
        )
    ]
    assert row.left_out == [
        {
            "project": "github.com/fw/framework",
            "who": found.maintainer.login,
            "amount": "30.00",
            "currency": "USD",
            "reason": "no GitHub Sponsors channel",
        }
    ]
    assert (row.made_by_id, row.created_at, row.period, row.kind) == (
        found.reviewer.id,
        NOW,
        "2026-12",
        "github-sponsors",
    )
    assert row.files == [
        {
            "name": "acme-2026-12-github-sponsors.csv",
            "sha256": hashlib.sha256(made.files[0].content).hexdigest(),
            "rows": 1,
            "content": "Maintainer username,Sponsorship amount in USD\nleft,100\n",
        }
    ]
    assert row.checksum == made.checksum
    pledges = by_project(session, found)
    left, framework = pledges[found.projects["left"].id], pledges[found.projects["framework"].id]
    assert (left.exported_at, framework.exported_at) == (NOW, None)
    assert [e.action for e in services.history(session, left)] == [
        "pledge.created",
        "pledge.exported",
    ]
    # A second export is recorded too, but the pledge's history says "exported" once.
    export(session, found, Actor.system("cli"))
    session.commit()
    assert [e.action for e in services.history(session, left)].count("pledge.exported") == 1
    assert [r.made_by_label for r in exports_of(session, found.company.id)] == ["cli", None]


def test_cancelled_pledges_are_not_exported(session, found):
    pledges = by_project(session, found)
    services.cancel(session, Actor.system("test"), pledges[found.projects["left"].id], "dropped")
    made, _row = export(session, found, Actor.system("t"), "json")
    assert made.pledge_ids == [pledges[found.projects["framework"].id].id]


def test_the_export_command(app, session, found, tmp_path):
    from service.cli import cli

    def run(*args):
        return app.test_cli_runner().invoke(cli, ["export", *args])

    out = tmp_path / "gh.csv"
    result = run(
        "github-sponsors", "--company", found.company.slug, "--period", "2026-12", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"Maintainer username,Sponsorship amount in USD\nleft,100\n"
    assert (
        f"left out: github.com/fw/framework ({found.maintainer.login}) 30.00 USD: "
        "no GitHub Sponsors channel"
    ) in result.stderr
    printed = run("csv", "--company", found.company.slug, "--period", "2026-12")
    assert printed.stdout.startswith("pledge id,period,project,maintainer,")
    assert printed.stdout.count("\n") == 3
    both = run("open-collective", "--company", found.company.slug, "--period", "2026-12")
    assert both.exit_code == 1 and "give --out DIRECTORY" in both.stderr
    folder = tmp_path / "oc"
    run(
        "open-collective",
        "--company",
        found.company.slug,
        "--period",
        "2026-12",
        "--out",
        str(folder),
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{found.company.slug}-2026-12-open-collective.csv",
        f"{found.company.slug}-2026-12-open-collective.json",
    ]
    bad = run("json", "--company", found.company.slug, "--period", "2026-13")
    assert bad.exit_code == 1 and "YYYY-MM" in bad.stderr
    unknown = run("json", "--company", "nobody", "--period", "2026-12")
    assert unknown.exit_code == 1 and "No company with the slug 'nobody'" in unknown.stderr
