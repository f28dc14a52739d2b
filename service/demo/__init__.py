"""The offline demo: seeded people, real SBOMs and a snapshot of real registry metadata."""

from pathlib import Path

DEMO_DATA = Path(__file__).resolve().parent / "data"
# Real, public registry metadata for the demo's packages (see scripts/build_demo_data.py).
DEMO_SNAPSHOT = DEMO_DATA / "metadata-snapshot.jsonl"

COMMANDS = {"demo": ("service.demo.cli:demo_group", "The offline demo.")}
