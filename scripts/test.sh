#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, linters, then every test on SQLite
# and the unit and integration tests again on PostgreSQL.
# Extra arguments go to both pytest runs (e.g. scripts/test.sh -m "not integration").
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium + chromium-driver for the browser tests; a PostgreSQL server for the second run
PUSHER_DJANGO_BROWSER=1 PUSHER_DJANGO_POSTGRES=1 scripts/bootstrap.sh

export TEST_OUTPUT_DIR="${TEST_OUTPUT_DIR:-$PWD/test-output}"
rm -rf "$TEST_OUTPUT_DIR" && mkdir -p "$TEST_OUTPUT_DIR"
POSTGRES_URL="${POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/pusher_django}"

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== migrations"; .venv/bin/python manage.py makemigrations --check --dry-run
echo "== pytest (SQLite)"; env -u DATABASE_URL .venv/bin/pytest "$@"
echo "== pytest (PostgreSQL, no browser)"
DATABASE_URL="$POSTGRES_URL" .venv/bin/pytest -m "not browser" -p no:cacheprovider \
  --ignore=tests/integration/test_demo_command.py "$@"  # the demo runs its own SQLite
