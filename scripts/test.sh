#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, linters, then the Django/Python matrix
# (with PostgreSQL, MariaDB and RabbitMQ) and, beside it, every test, browser tests included,
# on SQLite. Extra arguments go to that SQLite run (e.g. scripts/test.sh -m "not integration").
set -euo pipefail
cd "$(dirname "$0")/.."
# chromium + chromium-driver for the browser tests; PostgreSQL, MariaDB and RabbitMQ for the matrix
PUSHER_DJANGO_BROWSER=1 PUSHER_DJANGO_POSTGRES=1 PUSHER_DJANGO_MARIADB=1 PUSHER_DJANGO_RABBITMQ=1 \
  scripts/bootstrap.sh

export TEST_OUTPUT_DIR="${TEST_OUTPUT_DIR:-$PWD/test-output}"
rm -rf "$TEST_OUTPUT_DIR" && mkdir -p "$TEST_OUTPUT_DIR"

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== migrations"; .venv/bin/python manage.py makemigrations --check --dry-run
echo "== docs (mkdocs build --strict, executed examples)"; scripts/docs.sh
# The SQLite run waits on servers and Chromium most of the time: beside the matrix, which runs
# three environments at a time. Its output follows the matrix's summary lines.
django=$(.venv/bin/python -c 'import django; print(django.__version__)')
echo "== matrix (tox.ini); beside it, pytest on SQLite (Django $django)"
# The reconnect storm (500 clients, gunicorn) runs on PostgreSQL, in the matrix. Job control
# (set -m) for the background run: without it, bash makes it ignore SIGINT, which the demo's
# Ctrl-C test sends to scripts/demo.sh.
set -m
env -u DATABASE_URL .venv/bin/pytest -m "not storm" "$@" >"$TEST_OUTPUT_DIR/pytest-sqlite.log" 2>&1 &
sqlite=$!
set +m
matrix=0; scripts/matrix.sh || matrix=$?
pytest=0; wait "$sqlite" || pytest=$?
echo "== pytest (Django $django, SQLite)"; cat "$TEST_OUTPUT_DIR/pytest-sqlite.log"
[ "$matrix" -eq 0 ] && [ "$pytest" -eq 0 ]
