#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, linters, the Django/Python matrix
# (with PostgreSQL, MariaDB and RabbitMQ), then every test, browser tests included, on SQLite.
# Extra arguments go to the last pytest run (e.g. scripts/test.sh -m "not integration").
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
echo "== matrix (tox.ini)"; scripts/matrix.sh
echo "== pytest (Django $(.venv/bin/python -c 'import django; print(django.__version__)'), SQLite)"
# The reconnect storm (500 clients, gunicorn) runs on PostgreSQL, in the matrix.
env -u DATABASE_URL .venv/bin/pytest -m "not storm" "$@"
