"""Proposals never fail as a whole: the document's own root is the company's product, and
one input line the engine cannot take is shown with its reason while the rest is split."""

from __future__ import annotations

import itertools
import json
import logging
from datetime import UTC, datetime

from service.allocation import jobs
from service.allocation.generation import generate_proposal
from service.allocation.queries import lines_of, proposals_of_period
from service.audit.services import Actor
from service.cli import cli
from service.jobs.queue import run_pending
from tests.allocation.data import make_project, resolve, upload
from tests.factories import make_company
from tests.sboms.documents import github_spdx

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def lines(session, proposal) -> dict[str, tuple[str, int, str | None]]:
    return {
        line.project_key: (line.kind, line.amount_minor, line.omitted_code)
        for line in lines_of(session, proposal.id)
    }


def test_the_github_dependency_graph_root_is_the_product_not_a_candidate(app, session, tmp_path):
    company = make_company(session, "graphco", monthly_budget_minor=10_000)
    export = tmp_path / "acme-shop.spdx.json"
    export.write_text(json.dumps({"sbom": github_spdx("acme/shop", ("pkg:npm/left-pad", "1.3.0"))}))
    done = app.test_cli_runner().invoke(
        cli, ["sbom", "ingest", "--company", "graphco", "--product", "shop", str(export)]
    )
    assert done.exit_code == 0, done.output
    # Both packages resolve (the root's purl names its own repository).
    resolve(session, "pkg:github/acme/shop", make_project(session, "github.com/acme/shop"))
    resolve(session, "pkg:npm/left-pad", make_project(session, "github.com/left/pad"))
    proposal = generate_proposal(session, Actor.system("test"), company, "2026-12", NOW)
    session.commit()
    assert lines(session, proposal) == {"github.com/left/pad": ("held", 10_000, None)}


def test_one_bad_line_is_reported_and_the_rest_is_split(session):
    company = make_company(session, monthly_budget_minor=10_000)
    # A dependency chain deeper than the engine takes (1,000): only its end is a project.
    chain = [f"pkg:npm/link{i}" for i in range(1001)]
    edges = {a: [b] for a, b in itertools.pairwise(chain)}
    upload(session, company, "web", ["pkg:npm/left-pad", chain[0]], edges)
    resolve(session, "pkg:npm/left-pad", make_project(session, "github.com/left/pad"))
    resolve(session, chain[-1], make_project(session, "github.com/deep/end"))
    proposal = generate_proposal(session, Actor.system("test"), company, "2026-12", NOW)
    session.commit()
    assert lines(session, proposal) == {
        "github.com/left/pad": ("held", 10_000, None),
        "github.com/deep/end": ("omitted", 0, "invalid_input"),
    }
    deep = next(line for line in lines_of(session, proposal.id) if line.kind == "omitted")
    assert deep.reason == (
        "not computed: depth in web: 1001 is deeper than 1000; check the dependency graph"
    )


def test_the_monthly_job_carries_on_after_a_company_fails(app, session, monkeypatch, caplog, clock):
    broken = make_company(session, monthly_budget_minor=10_000)
    fine = make_company(session, monthly_budget_minor=10_000)
    upload(session, fine, "web", ["pkg:npm/left-pad"])
    resolve(session, "pkg:npm/left-pad", make_project(session, "github.com/left/pad"))
    real = jobs.generate_proposal

    def failing(session_, actor, company, *args, **kwargs):
        if company.id == broken.id:
            raise RuntimeError("database went away")
        return real(session_, actor, company, *args, **kwargs)

    monkeypatch.setattr(jobs, "generate_proposal", failing)
    with app.app_context(), caplog.at_level(logging.ERROR):
        jobs.monthly(NOW)  # one task per company; the workers run them
        run_pending(app.extensions["tributary.db"], now=NOW, kinds=[jobs.GENERATE_TASK])
    assert [p.state for p in proposals_of_period(session, fine.id, "2026-12")] == ["in_review"]
    assert proposals_of_period(session, broken.id, "2026-12") == []
    assert "(allocation.generate_proposal) failed" in caplog.text
    assert "RuntimeError: database went away" in caplog.text
