#!/usr/bin/env bash
# Sets up and runs the whole demo: soketi, Django, a Celery worker, the outbox relay and
# pusher_listen (restarted whenever it exits).
# Ctrl-C stops every process. Set PUSHER_URL to use hosted Pusher instead of soketi.
# --asgi (or DEMO_SERVER=uvicorn) serves Django through uvicorn (demo_project/asgi.py)
# instead of runserver.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_SERVER="${DEMO_SERVER:-runserver}"
for arg in "$@"; do
  case "$arg" in
    --asgi) DEMO_SERVER=uvicorn ;;
    *) echo "usage: scripts/demo.sh [--asgi]" >&2; exit 2 ;;
  esac
done
PUSHER_DJANGO_REQUIREMENTS=requirements-demo.txt scripts/bootstrap.sh  # no test tools

DEMO_PORT="${DEMO_PORT:-8000}"
export SOKETI_PORT="${SOKETI_PORT:-6001}"
export DJANGO_SETTINGS_MODULE=demo_project.settings
PY=.venv/bin/python
pids=()

cleanup() {
  trap - INT TERM EXIT
  echo "[demo] stopping..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  echo "[demo] stopped"
  exit 0
}
trap cleanup INT TERM EXIT

run() { # run NAME COMMAND...: start in its own process group, output prefixed with [NAME]
  setsid bash -c 'name=$1; shift; "$@" 2>&1 | sed -u "s/^/[$name] /"' _ "$@" &
  pids+=($!)
}

if [ -z "${PUSHER_URL:-}" ] && [ -z "${PUSHER_APP_ID:-}" ]; then
  # soketi posts cache_miss webhooks to Django, whose receiver re-publishes the announcement.
  SOKETI_DEFAULT_APP_ID=100001 SOKETI_DEFAULT_APP_KEY=demo-key SOKETI_DEFAULT_APP_SECRET=demo-secret \
  SOKETI_DEFAULT_APP_ENABLE_CLIENT_MESSAGES=true SOKETI_DEFAULT_APP_USER_AUTHENTICATION=true \
  SOKETI_DEFAULT_APP_WEBHOOKS="[{\"url\":\"http://127.0.0.1:$DEMO_PORT/pusher/webhook/\",\"event_types\":[\"cache_miss\"]}]" \
  SOKETI_METRICS_SERVER_PORT="${SOKETI_METRICS_PORT:-9601}" \
    run soketi node_modules/.bin/soketi start
fi

$PY manage.py migrate --noinput | sed -u 's/^/[migrate] /'
$PY manage.py seed_demo | sed -u 's/^/[demo] /'

run celery .venv/bin/celery -A demo_project worker --loglevel=INFO --concurrency=2
run outbox $PY manage.py pusher_outbox
# A supervisor for the listener: whatever ends it (a crash, a refusal, "Terminate" from an
# admin that allows it), the demo goes on and the listener comes back.
run listen bash -c 'while true; do "$0" manage.py pusher_listen && status=0 || status=$?; echo "pusher_listen exited ($status); restarting in 2 s"; sleep 2; done' "$PY"
if [ "$DEMO_SERVER" = uvicorn ]; then
  run django .venv/bin/uvicorn demo_project.asgi:application --host 127.0.0.1 --port "$DEMO_PORT" --lifespan off
else
  run django $PY manage.py runserver "127.0.0.1:$DEMO_PORT" --noreload
fi
for _ in $(seq 300); do  # the URL is worth printing once Django answers
  $PY -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "http://127.0.0.1:$DEMO_PORT/accounts/login/" 2>/dev/null && break
  sleep 0.2
done
echo "[demo] open http://127.0.0.1:$DEMO_PORT/ in two browsers (admin: http://127.0.0.1:$DEMO_PORT/admin/) - Ctrl-C stops everything"
wait -n "${pids[@]}" || true
