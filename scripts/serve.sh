#!/usr/bin/env bash
# Production-like start of one host: the schema migrated first, then gunicorn (settings
# in scripts/gunicorn.conf.py), the scheduler and N task workers, all stopped together.
#
#   scripts/serve.sh [--workers N] [--threads T] [--no-scheduler] [--no-migrate] [--no-web]
#
# Configure it as the app: DATABASE_URL, TRIBUTARY_ENV=production, TRIBUTARY_SECRET_KEY,
# REDIS_URL, ...; TRIBUTARY_BIND (127.0.0.1:8000) and WEB_CONCURRENCY for gunicorn.
# SIGTERM or SIGINT stops every process gracefully; if one of them dies, the rest are
# stopped too, so a supervisor (systemd, a container runtime) restarts the host's set.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${TRIBUTARY_BIN:-.venv/bin}"
workers=2 threads=4 scheduler=1 migrate=1 web=1
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --no-scheduler) scheduler=0 ;;
    --no-migrate) migrate=0 ;;
    --no-web) web=0 ;;
    *) echo "serve.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

# Every process of this host counts its metrics in one directory, emptied at start.
if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  PROMETHEUS_MULTIPROC_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tributary-metrics.XXXXXX")"
  trap 'rm -rf "$PROMETHEUS_MULTIPROC_DIR"' EXIT
fi
export PROMETHEUS_MULTIPROC_DIR
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -delete

if [ "$migrate" = 1 ]; then
  "$bin/tributary" db upgrade
fi

pids=()
stop() {
  trap - TERM INT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap 'stop; exit 0' TERM INT

if [ "$web" = 1 ]; then
  "$bin/gunicorn" -c scripts/gunicorn.conf.py &
  pids+=($!)
fi
if [ "$scheduler" = 1 ]; then
  "$bin/tributary" scheduler &
  pids+=($!)
fi
for _ in $(seq 1 "$workers"); do
  "$bin/tributary" worker --threads "$threads" &
  pids+=($!)
done
[ "${#pids[@]}" -gt 0 ] || { echo "serve.sh: nothing to run" >&2; exit 2; }

# The first process to end (a crash, a kill) ends the host's set.
set +e
wait -n
status=$?
set -e
echo "serve.sh: a process exited ($status); stopping the others" >&2
stop
exit "$status"
