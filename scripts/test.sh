#!/usr/bin/env bash
# The whole test suite from a fresh machine: set-up, linters, unit and integration tests.
# Extra arguments go to pytest (e.g. scripts/test.sh -m "not integration").
set -euo pipefail
cd "$(dirname "$0")/.."
PUSHER_DJANGO_BROWSER=1 scripts/bootstrap.sh  # chromium + chromium-driver for the browser tests

export TEST_OUTPUT_DIR="${TEST_OUTPUT_DIR:-$PWD/test-output}"
rm -rf "$TEST_OUTPUT_DIR" && mkdir -p "$TEST_OUTPUT_DIR"

echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== migrations"; .venv/bin/python manage.py makemigrations --check --dry-run
echo "== pytest"; .venv/bin/pytest "$@"
