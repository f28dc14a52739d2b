#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment outside the checkout, migrate
# an empty database with `tributary db upgrade` and serve a page and the readiness check:
# proof that templates/, migrations/ and the package data ship in the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Build from a copy, so the build leaves nothing in the checkout.
mkdir "$work/src"
cp -r pyproject.toml setup.py MANIFEST.in README.md service templates migrations "$work/src/"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --upgrade pip
"$work/venv/bin/pip" wheel --quiet --no-deps --wheel-dir "$work/dist" "$work/src"
"$work/venv/bin/pip" install --quiet "$work"/dist/tributary-*.whl
rm -rf "$work/src"

# Run from elsewhere: nothing may come from the checkout.
cd "$work"
export DATABASE_URL="sqlite:///$work/tributary.db"
export TRIBUTARY_ENV=development
"$work/venv/bin/tributary" db upgrade
port="$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$work/venv/bin/tributary" run --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server=$!
"$work/venv/bin/python" - "$port" <<'PY'
import sys
import time

import httpx

base = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    try:
        ready = httpx.get(f"{base}/readyz", timeout=2)
        break
    except httpx.TransportError:
        time.sleep(0.2)
else:
    sys.exit("the installed app did not start")
assert ready.status_code == 200 and ready.json()["database"] == "ok", ready.text
page = httpx.get(f"{base}/", timeout=5)
assert page.status_code == 200 and "Tributary" in page.text, page.status_code
css = httpx.get(f"{base}/static/tributary.css", timeout=5)
assert css.status_code == 200, css.status_code
print(f"wheel: installed, migrated to {ready.json()['revision']}, served / and /static")
PY
