"""The `tributary` command line: lazy commands, declared help, and light start-up."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from service import domains
from service.cli import cli
from service.core.cli import load_command
from tests.conftest import SHARED_SBOMS

HEAVY = ("flask", "sqlmodel", "sqlalchemy", "alembic", "werkzeug", "jinja2")
# Runs the command in a fresh interpreter and reports which heavy packages it imported.
PROBE = """
import json, sys
args, heavy = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["tributary", *args]
from service.cli import main
try:
    main()
except SystemExit:
    pass
print("IMPORTED " + json.dumps(sorted({name.split(".")[0] for name in sys.modules} & heavy)))
"""


def imported_heavy(*args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), json.dumps(heavy)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("IMPORTED ")]
    assert lines, done.stderr
    return json.loads(lines[-1].removeprefix("IMPORTED "))


@pytest.mark.parametrize(("name", "entry"), sorted(domains.commands().items()))
def test_every_declared_command_loads_and_its_help_is_its_own(name, entry):
    target, declared_help = entry
    command = load_command(target)
    assert command.get_short_help_str(limit=1000) == declared_help
    assert cli.get_command(None, name) is command


def test_help_lists_every_command_without_loading_one():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:\n")[1].splitlines()]
    assert listed == sorted(domains.commands())
    assert imported_heavy("--help") == []


def test_database_free_commands_import_neither_flask_nor_the_database(tmp_path):
    sbom = SHARED_SBOMS / "edge-cases" / "cdx-nested-components-small.json"
    if not sbom.exists():
        pytest.skip("the shared SBOM corpus is not beside the checkout")
    signals = tmp_path / "signals.json"
    signals.write_text('{"signals": {"publishers": 1}}')
    split = tmp_path / "split.json"
    split.write_text(
        '{"budget": {"amount": "100.00", "currency": "USD"},'
        ' "projects": [{"key": "github.com/o/r", "claimed": true}]}'
    )
    assert imported_heavy("sbom", "inspect", str(sbom), "--json") == []
    assert imported_heavy("risk", "score", "--input", str(signals)) == []
    assert imported_heavy("allocate", "--input", str(split)) == []
    offline = ("propose", "--sbom", str(sbom), "--budget", "100", "--offline", "--json")
    assert imported_heavy(*offline) == []


def test_propose_offline_imports_no_http_client_and_no_metrics(tmp_path):
    # The online providers (and the outbound client they share) are imported only when
    # one is built: a snapshot answers without them.
    sbom = tmp_path / "app.cdx.json"
    sbom.write_text(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": '
        '[{"type": "library", "name": "left-pad", "version": "1.3.0", '
        '"purl": "pkg:npm/left-pad@1.3.0"}]}'
    )
    offline = ("propose", "--sbom", str(sbom), "--budget", "100", "--offline", "--json")
    heavy = ("httpx", "prometheus_client", "flask")
    assert imported_heavy(*offline, heavy=heavy) == []


def test_commands_that_need_the_app_build_it(app):
    result = app.test_cli_runner().invoke(cli, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(": up to date\n")


def test_two_domains_cannot_declare_one_command(monkeypatch):
    monkeypatch.setattr(domains, "DOMAINS", ("service.sboms", "service.sboms"))
    with pytest.raises(RuntimeError, match="two domains declare the command 'sbom'"):
        domains.commands()
