"""`tributary resolve` (online and offline) and `tributary metadata stats/export/import`."""

from __future__ import annotations

from sqlmodel import select

from service.cli import cli
from service.projects.models import MetadataCacheEntry
from service.projects.providers import PackageMetadata, SnapshotRecord, dump_snapshot
from tests.factories import make_company
from tests.projects.conftest import NOW, component, store_sbom
from tests.projects.test_resolution import resolutions


def run(app, *args):
    return app.test_cli_runner().invoke(cli, list(args))


def test_resolve_offline_from_a_snapshot(app, session, tmp_path, registries):
    company = make_company(session, slug="offline-co")
    store_sbom(
        session,
        company,
        [component("pkg:npm/left-pad@1.3.0"), component("pkg:npm/unknown-thing@1.0.0")],
    )
    snapshot = tmp_path / "snapshot.jsonl"
    dump_snapshot(
        [
            SnapshotRecord(
                "npm",
                "pkg:npm/left-pad",
                NOW,
                PackageMetadata(repository_url="https://github.com/left-pad/left-pad"),
            )
        ],
        snapshot,
    )
    result = run(
        app, "resolve", "--company", "offline-co", "--offline", "--snapshot", str(snapshot)
    )
    assert result.exit_code == 0, result.output
    assert "2 packages: 1 resolved, 1 without a known repository" in result.output
    assert "No request was sent." in result.output
    assert registries.counts() == {}
    found = resolutions(session)
    assert found["pkg:npm/left-pad"][3] == "github.com/left-pad/left-pad"
    assert found["pkg:npm/unknown-thing"][2] == "npm: not found (not_in_snapshot)"

    again = run(app, "resolve", "--company", "offline-co", "--offline", "--snapshot", str(snapshot))
    assert "within its TTL" in again.output


def test_resolve_online_with_a_product_and_errors(app, session, providers, registries):
    company = make_company(session, slug="online-co")
    store_sbom(session, company, [component("pkg:pypi/requests@2.32.3")], product="api")
    store_sbom(session, company, [component("pkg:cargo/serde@1.0.203")], product="cli")
    result = run(app, "resolve", "--company", "online-co", "--product", "api")
    assert result.exit_code == 0, result.output
    assert "1 packages: 1 resolved" in result.output and "pypi 1" in result.output
    assert "crates" not in registries.counts()
    assert run(app, "resolve", "--company", "nope").exit_code != 0
    missing = run(app, "resolve", "--company", "online-co", "--product", "ghost")
    assert "no product named 'ghost'" in missing.stderr


def test_metadata_stats_export_and_import(app, session, providers, tmp_path):
    company = make_company(session, slug="stats-co")
    store_sbom(session, company, [component("pkg:pypi/requests@2.32.3")])
    assert run(app, "resolve", "--company", "stats-co").exit_code == 0
    stats = run(app, "metadata", "stats")
    assert stats.exit_code == 0
    line = next(row for row in stats.output.splitlines() if row.startswith("pypi"))
    assert line.split()[:3] == ["pypi", "1", "1"]

    target = tmp_path / "cache.jsonl"
    exported = run(app, "metadata", "export", str(target))
    assert "Exported 3 cache entries" in exported.output  # pypi, ecosyste.ms, GitHub
    assert target.read_text().count("\n") == 3

    for entry in session.exec(select(MetadataCacheEntry)):
        session.delete(entry)
    session.commit()
    imported = run(app, "metadata", "import", str(target))
    assert "Imported 3 cache entries" in imported.output
    entry = session.exec(
        select(MetadataCacheEntry).where(MetadataCacheEntry.source == "pypi")
    ).one()
    assert entry.data["repository_url"] == "https://github.com/psf/requests"

    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"source": "npm"}\n')
    failed = run(app, "metadata", "import", str(broken))
    assert failed.exit_code != 0 and "line 1" in failed.stderr


def test_resolve_lists_each_failed_package_with_its_reason(app, session, providers, registries):
    company = make_company(session, slug="failing-co")
    store_sbom(
        session,
        company,
        [component("pkg:pypi/requests@2.32.3"), component("pkg:pypi/no-repo@1.0")],
    )
    registries.app.add_fault("pypi", status=503, times=2, match="/requests/")
    result = run(app, "resolve", "--company", "failing-co", "--failures")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "failed: pkg:pypi/requests: pypi: http_503" in lines
    assert any(line.startswith("no project: pkg:pypi/no-repo: ") for line in lines)
    plain = run(app, "resolve", "--company", "failing-co", "--all")
    assert not any(line.startswith("no project:") for line in plain.output.splitlines())


def test_export_skips_answerless_rows_and_import_is_all_or_nothing(app, session, tmp_path):
    session.add(MetadataCacheEntry(source="npm", key="pkg:npm/down", status="error", data=None))
    session.add(
        MetadataCacheEntry(
            source="npm",
            key="pkg:npm/up",
            status="ok",
            fetched_at=NOW,
            data=PackageMetadata(repository_url="https://github.com/up/up").to_dict(),
        )
    )
    session.commit()
    target = tmp_path / "cache.jsonl"
    exported = run(app, "metadata", "export", str(target))
    assert exported.exit_code == 0, exported.output
    assert "Exported 1 cache entries" in exported.output
    assert [line.split('"key": ')[1][:12] for line in target.read_text().splitlines()] == [
        '"pkg:npm/up"'
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["cache.jsonl"]  # no partial file left

    for entry in session.exec(select(MetadataCacheEntry)):
        session.delete(entry)
    session.commit()
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(target.read_text() + "not json\n")
    failed = run(app, "metadata", "import", str(mixed))
    assert failed.exit_code != 0 and "line 2" in failed.stderr
    assert "nothing was imported" in failed.stderr
    assert session.exec(select(MetadataCacheEntry)).all() == []
