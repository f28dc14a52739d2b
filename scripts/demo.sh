#!/usr/bin/env bash
# Set up, load the demo company and serve it on http://127.0.0.1:5000 (SQLite, offline).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -e .
export TRIBUTARY_ENV=demo
.venv/bin/tributary db upgrade
.venv/bin/tributary demo load
echo "Tributary demo: open http://127.0.0.1:5000 and sign in as a demo user."
exec .venv/bin/tributary run --host 127.0.0.1 --port "${PORT:-5000}"
