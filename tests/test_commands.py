"""The `tributary` command line: lazy commands, declared help, and light start-up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import select

from service import domains
from service.audit.models import Event
from service.cli import cli
from service.core.cli import load_command
from service.db import Database
from service.jobs.models import Task
from service.sboms.models import Sbom, SbomComponent
from service.sboms.queueing import RESOLVE_SBOM
from tests.conftest import SHARED_SBOMS, TEST_SECRET
from tests.factories import make_company
from tests.sboms.documents import cyclonedx

HEAVY = ("flask", "sqlmodel", "sqlalchemy", "alembic", "werkzeug", "jinja2")
# Runs the command in a fresh interpreter and reports which heavy packages it imported
# (through the root group: the console entry would end the process of `sbom inspect`).
PROBE = """
import json, sys
args, heavy = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
from service.cli import cli
try:
    cli.main(args, prog_name="tributary")
except SystemExit:
    pass
print("IMPORTED " + json.dumps(sorted({name.split(".")[0] for name in sys.modules} & heavy)))
"""


def run_probe(
    probe: str, marker: str, args: list[str], env: dict[str, str] | None = None
) -> tuple[Any, str]:
    """Run a probe script in a fresh interpreter: what it printed after `marker`, and its
    standard error."""
    done = subprocess.run(
        [sys.executable, "-c", probe, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(marker)]
    assert lines, done.stderr
    return json.loads(lines[-1].removeprefix(marker)), done.stderr


def imported_heavy(*args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    imported, _stderr = run_probe(PROBE, "IMPORTED ", [json.dumps(args), json.dumps(heavy)])
    return imported


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
    # A snapshot named on the command line is read without the settings (pydantic-settings
    # and the rate-limit notation they check were half of this command's start).
    snapshot = Path(__file__).parent / "allocation" / "fixtures" / "propose-snapshot.jsonl"
    named = (*offline, "--snapshot", str(snapshot))
    assert imported_heavy(*named, heavy=(*heavy, "pydantic_settings", "limits")) == []


def test_commands_that_need_the_app_build_it(app):
    result = app.test_cli_runner().invoke(cli, ["db", "current"])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(": up to date\n")


# Runs a command in a fresh interpreter (through the root group, which leaves the process
# running) and reports what the app it built holds and which modules of the web server's
# part it imported.
APP_PROBE = """
import gc, json, sys
import service.app
built, factory, collections = [], service.app.create_app, []
def build(*args, **kwargs):
    gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info))
    built.append(factory(*args, **kwargs))
    gc.callbacks.clear()
    return built[-1]
service.app.create_app = build
from service.cli import cli
try:
    cli.main(json.loads(sys.argv[1]), prog_name="tributary")
except SystemExit as exit:
    assert not exit.code, exit.code
from service.accounts.signals import signed_in
from service.risk.hooks import proposed_amounts_wanted
web = ("service.web", "flask_limiter", "flask_wtf", "pygal")
print("APP " + json.dumps({
    "blueprints": sorted(built[0].blueprints),
    "rules": sorted(rule.rule for rule in built[0].url_map.iter_rules()),
    "web_modules": sorted(
        name for name in sys.modules
        if name.startswith(web)
        or name.startswith("service.") and name.split(".")[2:] in (["views"], ["api"], ["dtrack"])
    ),
    "receivers": [bool(proposed_amounts_wanted.receivers), bool(signed_in.receivers)],
    "services_built": sorted(set(built[0].extensions.factories) & set(built[0].extensions)),
    "http_client": "httpx" in sys.modules,
    "frozen": gc.get_freeze_count(),
    "collections_while_building": len(collections),
    "collector_on": gc.isenabled(),
}))
"""


def run_app_probe(env: dict[str, str], *args: str) -> dict:
    probe, stderr = run_probe(APP_PROBE, "APP ", [json.dumps(args)], env)
    assert stderr == ""  # nothing said at exit either
    return probe


@pytest.fixture
def command_env(tmp_path) -> dict[str, str]:
    """The environment of an installed command on a migrated SQLite file of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIBUTARY_")}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{tmp_path}/commands.db",
        "TRIBUTARY_ENV": "test",
        "TRIBUTARY_SECRET_KEY": TEST_SECRET,
        "TRIBUTARY_INSTANCE_PATH": str(tmp_path / "instance"),
    }


def test_sbom_ingest_gets_an_app_without_pages_or_http_that_stores_it_all(tmp_path, command_env):
    database = Database(command_env["DATABASE_URL"])
    database.upgrade()
    with database.transaction() as session:
        make_company(session, "acme")
    sbom = tmp_path / "app.cdx.json"
    sbom.write_bytes(cyclonedx(("pkg:npm/left-pad", "1.3.0"), ("pkg:pypi/idna", "3.4")))

    args = ("sbom", "ingest", str(sbom), "--company", "acme", "--product", "app")
    probe = run_app_probe(command_env, *args)

    assert probe["blueprints"] == [] and probe["rules"] == ["/static/<path:filename>"]
    assert probe["web_modules"] == []
    # The signal receivers every process needs are connected all the same; the outside
    # services wait for a command that uses one.
    assert probe["receivers"] == [True, True]
    assert probe["services_built"] == [] and not probe["http_client"]
    # The app's objects, out of the collector's way: built with it paused, then frozen,
    # and the collector on again for the command's own work.
    assert probe["frozen"] > 0 and probe["collections_while_building"] == 0
    assert probe["collector_on"]
    with database.transaction() as session:
        stored = session.exec(select(Sbom)).one()
        components = session.exec(select(SbomComponent.purl)).all()
        task = session.exec(select(Task).where(Task.kind == RESOLVE_SBOM)).one()
        event = session.exec(select(Event).where(Event.action == "sbom.uploaded")).one()
    assert stored.component_count == 2 and stored.source == "cli"
    assert sorted(components) == ["pkg:npm/left-pad@1.3.0", "pkg:pypi/idna@3.4"]
    assert task.payload == {"sbom_id": stored.id} and event.company_id == stored.company_id
    database.engine.dispose()


def test_the_installed_sbom_ingest_commits_closes_and_ends(
    tmp_path, command_env, tributary_command
):
    """The console command ends its process without the interpreter's teardown, after
    the commit and with its connections closed: SQLite leaves no write-ahead log."""
    database = Database(command_env["DATABASE_URL"])
    database.upgrade()
    with database.transaction() as session:
        make_company(session, "acme")
    database.engine.dispose()
    sbom = tmp_path / "app.cdx.json"
    sbom.write_bytes(cyclonedx(("pkg:npm/left-pad", "1.3.0")))
    args = ["sbom", "ingest", str(sbom), "--company", "acme", "--product", "app"]
    done = subprocess.run(
        [str(tributary_command), *args],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert (
        done.stdout.splitlines()[-1] == "diff:              first SBOM of this product (1 packages)"
    )
    assert not (tmp_path / "commands.db-wal").exists()
    with database.transaction() as session:
        assert session.exec(select(SbomComponent.purl)).all() == ["pkg:npm/left-pad@1.3.0"]
    database.engine.dispose()


def test_a_command_that_builds_the_app_says_nothing_as_it_exits(command_env, tributary_command):
    done = subprocess.run(
        [str(tributary_command), "db", "current"],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.startswith("empty (code expects ")
    assert done.stderr == ""


def test_routes_lists_every_page_of_the_web_app(app, command_env):
    done = subprocess.run(
        [sys.executable, "-c", "from service.cli import cli; cli.main(['routes'], 'tributary')"],
        env=command_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines()[2:]}
    assert listed == {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {"sboms.products", "dtrack_version", "core.healthz"} <= listed


def test_two_domains_cannot_declare_one_command(monkeypatch):
    monkeypatch.setattr(domains, "DOMAINS", ("service.sboms", "service.sboms"))
    with pytest.raises(RuntimeError, match="two domains declare the command 'sbom'"):
        domains.commands()
