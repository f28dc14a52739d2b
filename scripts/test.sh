#!/usr/bin/env bash
# Set up, lint, check the import layers and types, and run the whole test suite (SQLite by
# default; TRIBUTARY_TEST_DATABASE_URL for PostgreSQL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e ".[dev]"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports  # layers and pure cores (pyproject.toml [tool.importlinter])
.venv/bin/mypy  # the pure cores and core/ (pyproject.toml [tool.mypy])
if [ "${CI:-}" = "true" ]; then ./scripts/check_wheel.sh; fi  # the installable package
exec .venv/bin/pytest "$@"
