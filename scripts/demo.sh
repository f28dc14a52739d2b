#!/usr/bin/env bash
# Set up, load the demo company and serve it on http://127.0.0.1:5000 (SQLite, offline),
# with the scheduler and a worker beside it so new uploads are resolved in the background.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .
export TRIBUTARY_ENV=demo PYTHONWARNINGS="ignore:DemoGitHubAPI is in use"
.venv/bin/tributary db upgrade
.venv/bin/tributary demo load
.venv/bin/tributary scheduler &
scheduler=$!
.venv/bin/tributary worker --threads 2 &
worker=$!
trap 'kill "$scheduler" "$worker" 2>/dev/null || true' EXIT
echo "Tributary demo: open http://127.0.0.1:${PORT:-5000} and sign in as a demo user."
.venv/bin/tributary run --host 127.0.0.1 --port "${PORT:-5000}"
