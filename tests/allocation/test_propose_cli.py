"""`tributary propose`: SBOM files to a proposal without a database (offline snapshot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
WEB = str(FIXTURES / "web-shop.cdx.json")
API = str(FIXTURES / "api-service.spdx.json")
SNAPSHOT = str(FIXTURES / "propose-snapshot.jsonl")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Tests never reach the network: building live providers fails loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("propose tried to build live providers in a test")

    monkeypatch.setattr("service.projects.providers.build_providers", refuse)
    monkeypatch.delenv("TRIBUTARY_RESOLUTION_OFFLINE_SNAPSHOT", raising=False)


def run(*args: str):
    result = CliRunner().invoke(cli, ["propose", *args], catch_exceptions=False)
    return result, json.loads(result.output) if result.output.startswith("{") else None


def test_sboms_to_a_proposal_offline(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"cap": 1}))
    result, document = run(
        "--sbom",
        WEB,
        "--sbom",
        API,
        "--budget",
        "1000",
        "--offline",
        "--snapshot",
        SNAPSHOT,
        "--policy",
        str(policy),
        "--json",
    )
    assert result.exit_code == 0, result.output
    # Weights: left-pad 1 (web, direct) + 0.5 (api, depth 2); widget (pkg:github), express,
    # requests, mux (pkg:golang), vendored-lib (its vcs hint) 1 each; accepts 0.5.
    assert [(line["project"], line["amount"]) for line in document["lines"]] == [
        ("github.com/left/pad", "214.28"),
        ("github.com/acme/widget", "142.86"),
        ("github.com/expressjs/express", "142.86"),
        ("github.com/psf/requests", "142.86"),
    ]
    # Without a funding channel in any source a project is unclaimed: held.
    assert document["held"] == [
        {"project": "github.com/gorilla/mux", "amount": "142.86"},
        {"project": "github.com/vend/lib", "amount": "142.85"},
        {"project": "github.com/jshttp/accepts", "amount": "71.43"},
    ]
    assert document["unresolved"] == ["pkg:npm/mystery"]
    assert document["remainder"] == "0.00" and document["currency"] == "USD"
    assert set(document) == {"lines", "remainder", "held", "currency", "unresolved"}
    left = document["lines"][0]
    assert left["weight"] == 1.5 and left["share"] == 0.21428
    assert "web-shop at depth 1, api-service at depth 2" in left["reason"]
    total = sum(
        round(float(x["amount"]) * 100) for x in document["lines"] + document["held"]
    ) + round(float(document["remainder"]) * 100)
    assert total == 100_000


def test_default_policy_and_a_table(tmp_path):
    result, _ = run(
        "--sbom", WEB, "--budget", "500.00", "--currency", "eur", "--snapshot", SNAPSHOT
    )
    assert result.exit_code == 0, result.output
    assert "Allocation of 500.00 EUR" in result.output
    assert "No project found for 1 package(s): pkg:npm/mystery" in result.output


def test_product_names_come_from_the_root_or_the_file_name(tmp_path):
    document = json.loads(Path(WEB).read_text())
    del document["metadata"]
    path = tmp_path / "mobile-app.cdx.json"
    path.write_text(json.dumps(document))
    result, output = run("--sbom", str(path), "--budget", "100", "--snapshot", SNAPSHOT, "--json")
    assert result.exit_code == 0, result.output
    reasons = " ".join(line["reason"] for line in output["lines"])
    assert "mobile-app at depth" in reasons


def test_the_configured_snapshot_is_the_offline_default(monkeypatch):
    monkeypatch.setenv("TRIBUTARY_RESOLUTION_OFFLINE_SNAPSHOT", SNAPSHOT)
    result, document = run("--sbom", API, "--budget", "10", "--offline", "--json")
    assert result.exit_code == 0, result.output
    assert {line["project"] for line in document["lines"]} == {
        "github.com/psf/requests",
        "github.com/left/pad",
    }


def test_a_snapshot_named_on_the_command_line_is_read_without_the_settings(monkeypatch):
    # Nothing configured has a say over the file named, so not even a broken setting the
    # command would never use stops it; without the file, the settings are read and named.
    monkeypatch.setenv("TRIBUTARY_RATE_LIMIT_UPLOADS", "often")
    monkeypatch.setenv("TRIBUTARY_RESOLUTION_OFFLINE_SNAPSHOT", "/nonexistent/snapshot.jsonl")
    result, document = run("--sbom", API, "--budget", "10", "--snapshot", SNAPSHOT, "--json")
    assert result.exit_code == 0, result.output
    assert {line["project"] for line in document["lines"]} == {
        "github.com/psf/requests",
        "github.com/left/pad",
    }
    result, document = run("--sbom", API, "--budget", "10", "--offline", "--json")
    assert result.exit_code == 1
    assert document["error"]["code"] == "invalid_settings"
    assert "TRIBUTARY_RATE_LIMIT_UPLOADS='often'" in document["error"]["message"]


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        (["--budget", "ten"], "budget", "not a decimal number"),
        (["--budget", "10", "--currency", "XXX"], "currency", "unknown currency"),
        (["--budget", "10", "--sbom", "/nonexistent/bom.json"], "sbom[1]", "cannot read"),
    ],
)
def test_bad_input_is_a_json_error(args, field, message):
    result, document = run("--sbom", WEB, "--snapshot", SNAPSHOT, *args)
    assert result.exit_code == 1
    assert document["error"]["details"]["field"] == field
    assert message in document["error"]["message"]


def test_an_unreadable_sbom_names_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"bomFormat": "CycloneDX", "components": [')
    result, document = run("--sbom", str(path), "--budget", "10", "--snapshot", SNAPSHOT)
    assert result.exit_code == 1
    assert str(path) in document["error"]["message"]
