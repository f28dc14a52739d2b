"""``tributary sbom inspect`` (no app, no database) and ``tributary sbom ingest``."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlmodel import select

from service.cli import cli
from service.sboms.models import Product, Sbom
from tests.conftest import SHARED_SBOMS
from tests.factories import make_company
from tests.sboms.documents import corpus_rows, cyclonedx, expected_counts, require_corpus

SAMPLES = [
    "cyclonedx-json/proton-bridge-v1.8.0.cdx-1.2.json",
    "cyclonedx-json/blackduck-hub-mostly-no-purls.cdx-1.5.json",
    "cyclonedx-xml/webgoat-6.1.cdx-1.4.xml",
    "spdx-json/syft-0.90.0-kubectl-oci.spdx-2.3.json",
    "spdx-tagvalue/tools-golang-example6-bin.spdx",
    "spdx3-jsonld/ai-simplehtr.spdx3.json",
    "edge-cases/cdx-nested-components-small.json",
    "edge-cases/cdx-empty-no-components.json",
]
FORMATS = {"CycloneDX": "cyclonedx", "SPDX": "spdx"}


def no_app():
    raise AssertionError("sbom inspect must not build the app")


def inspect(*args: str):
    # A ScriptInfo whose app factory fails: inspect must never call it.
    return CliRunner().invoke(cli, ["sbom", "inspect", *args], obj=ScriptInfo(create_app=no_app))


@pytest.mark.parametrize("relative", SAMPLES)
def test_inspect_json_matches_the_corpus_counts(relative):
    require_corpus()
    row = next(r for r in corpus_rows() if r["file"] == relative)
    result = inspect(str(SHARED_SBOMS / relative), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON object, nothing else
    assert (summary["components"], summary["with_purl"]) == expected_counts(row)
    assert summary["format"] == FORMATS[row["format"].split()[0]]
    assert set(summary) == {
        "format",
        "spec_version",
        "encoding",
        "components",
        "with_purl",
        "packages",
        "dependency_edges",
        "direct",
        "warnings",
    }


def test_inspect_rejects_a_malformed_file_with_a_json_error():
    require_corpus()
    result = inspect(str(SHARED_SBOMS / "malformed/cdx-invalid-bomformat-1.6.json"), "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "unknown_format"
    assert error["message"] == "bomFormat: expected 'CycloneDX', got 'AnotherFormat'"
    assert error["details"] == {"field": "bomFormat", "value": "AnotherFormat"}

    plain = inspect(str(SHARED_SBOMS / "malformed/cdx-dt-truncated.json"))
    assert plain.exit_code == 1 and "ends early, at line 2, column 28" in plain.stderr


def test_inspect_an_unreadable_path(tmp_path):
    result = inspect(str(tmp_path / "missing.json"), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unreadable_file"


def test_the_file_argument_completes_as_a_path():
    """Read ahead or not, FILE is a path to the shell's completion."""
    from click.shell_completion import ShellComplete

    complete = ShellComplete(cli, {}, "tributary", "_TRIBUTARY_COMPLETE")
    for command in ("inspect", "ingest"):
        items = complete.get_completions(["sbom", command], "bo")
        assert [(item.value, item.type) for item in items] == [("bo", "file")]


def test_inspect_prints_a_readable_summary(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(cyclonedx(("pkg:pypi/requests", "2.31.0"), ("name:internal", "1")))
    result = inspect(str(path))
    assert result.exit_code == 0
    assert "format:            cyclonedx 1.5" in result.stdout
    assert "components:        2" in result.stdout and "direct:            2" in result.stdout


def test_inspect_runs_without_any_app_configuration(tmp_path, tributary_command):
    """The installed command, with settings the app would refuse to start with."""
    path = tmp_path / "bom.json"
    path.write_bytes(cyclonedx(("pkg:npm/left-pad", "1.3.0")))
    env = {**os.environ, "TRIBUTARY_ENV": "production", "TRIBUTARY_SECRET_KEY": "short"}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [str(tributary_command), "sbom", "inspect", str(path), "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["components"] == 1


def test_the_installed_inspect_ends_its_process_with_all_its_output(tmp_path, tributary_command):
    """The console command ends its process at once after the summary: every line is
    out, through a pipe, and a refused file still exits with status 1."""
    path = tmp_path / "bom.json"
    path.write_bytes(cyclonedx(("pkg:pypi/requests", "2.31.0"), ("name:internal", "1")))
    done = subprocess.run(
        [str(tributary_command), "sbom", "inspect", "-"],
        input=path.read_bytes(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "format:            cyclonedx 1.5"
    assert lines[-1].startswith("  - 1 of 2 components have no purl;")
    assert lines[-1].endswith("count as unresolved")
    path.write_bytes(b'{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [')
    refused = subprocess.run(
        [str(tributary_command), "sbom", "inspect", str(path)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1 and b"ends early" in refused.stderr


def test_ingest_stores_and_prints_summary_and_diff(app, session, tmp_path):
    company = make_company(session, "clico")
    first, second = tmp_path / "v1.json", tmp_path / "v2.json"
    first.write_bytes(cyclonedx(("pkg:pypi/requests", "2.31.0"), ("pkg:pypi/idna", "3.4")))
    second.write_bytes(cyclonedx(("pkg:pypi/requests", "2.32.0")))
    runner = app.test_cli_runner()
    args = ["sbom", "ingest", "--company", "clico", "--product", "api"]
    stored = runner.invoke(cli, [*args, str(first), "--version", "1.0"])
    assert stored.exit_code == 0, stored.output
    assert "Stored SBOM" in stored.stdout and "components:        2" in stored.stdout
    assert "first SBOM of this product (2 packages)" in stored.stdout
    changed = runner.invoke(cli, [*args, str(second)])
    assert "+0 added, -1 removed, ~1 changed" in changed.stdout
    assert "~ pkg:pypi/requests 2.31.0 -> 2.32.0" in changed.stdout
    again = runner.invoke(cli, [*args, str(second), "--json"])
    body = json.loads(again.stdout)
    assert body["created"] is False and body["product"] == "api" and body["source"] == "cli"
    product = session.exec(select(Product).where(Product.company_id == company.id)).one()
    sboms = session.exec(select(Sbom).where(Sbom.product_id == product.id)).all()
    assert [(s.filename, s.project_version) for s in sboms] == [
        ("v1.json", "1.0"),
        ("v2.json", None),
    ]


def test_ingest_reads_the_file_ahead_and_keeps_its_digest(app, session, tmp_path):
    """The file is read (and hashed) while the app is built: the stored SBOM has the
    bytes' SHA-256, from a path or from stdin, and a path that cannot be read is an error."""
    make_company(session, "clico")
    data = cyclonedx(("pkg:pypi/requests", "2.31.0"))
    path = tmp_path / "bom.json"
    path.write_bytes(data)
    runner = app.test_cli_runner()
    args = ["--company", "clico", "--product", "api", "--json"]
    stored = json.loads(runner.invoke(cli, ["sbom", "ingest", str(path), *args]).stdout)
    assert stored["created"] is True
    again = runner.invoke(cli, ["sbom", "ingest", "-", *args], input=data)
    assert json.loads(again.stdout)["id"] == stored["id"]  # the same bytes, the same SBOM
    sbom = session.get(Sbom, stored["id"])
    assert sbom is not None and sbom.content_sha256 == hashlib.sha256(data).hexdigest()
    missing = runner.invoke(cli, ["sbom", "ingest", str(tmp_path / "missing.json"), *args])
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["error"]["code"] == "unreadable_file"


def test_ingest_errors_store_nothing(app, session, tmp_path):
    make_company(session, "clico")
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"bomFormat": "CycloneDX", ')
    runner = app.test_cli_runner()
    result = runner.invoke(
        cli, ["sbom", "ingest", str(bad), "--company", "clico", "--product", "p", "--json"]
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "invalid_json"
    ghost = runner.invoke(cli, ["sbom", "ingest", str(bad), "--company", "ghost", "--product", "p"])
    assert ghost.exit_code == 1 and "No company with the slug 'ghost'" in ghost.stderr
    assert session.exec(select(Product)).all() == []
