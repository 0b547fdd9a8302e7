#!/usr/bin/env bash
# The Django/Python compatibility matrix of tox.ini: the offline suite on each Django the
# package claims; the whole suite but the browser tests on PostgreSQL, the tests that use the
# database on MariaDB, and the Celery tests with RabbitMQ as the broker. Three environments at a
# time, the server ones first; one summary line each. Called by scripts/test.sh after
# scripts/bootstrap.sh (it needs .venv, the npm packages, Redis, PostgreSQL, MariaDB and
# RabbitMQ). Arguments name the environments to run (e.g. scripts/matrix.sh
# py312-django61-mariadb); none: all of tox.ini.
set -euo pipefail
cd "$(dirname "$0")/.."

use_python() {  # put python$1 on PATH: the machine's own, else the newest pyenv install of it
  if "python$1" -c "" >/dev/null 2>&1; then return; fi
  local root dir
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  dir=$(find "$root/versions" -maxdepth 1 -name "$1.*" 2>/dev/null | sort -V | tail -1)
  if [ -z "$dir" ] || ! "$dir/bin/python$1" -c "" >/dev/null 2>&1; then
    echo "matrix: Python $1 is needed (tox.ini) but not installed" >&2
    exit 1
  fi
  PATH="$dir/bin:$PATH"
}
use_python 3.11
use_python 3.12
use_python 3.13
export PATH
out="${TEST_OUTPUT_DIR:-$PWD/test-output}/matrix"
mkdir -p "$out"

run_env() {
  local env=$1 log="$out/$1.log" started=$SECONDS status
  if .venv/bin/tox run -e "$env" >"$log" 2>&1; then status=ok; else status=FAILED; fi
  printf 'matrix %-26s %-6s %4ss  %s\n' "$env" "$status" $((SECONDS - started)) \
    "$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -1 | tr -d '=')"
  [ "$status" = ok ]
}
export -f run_env
export out

if [ $# -gt 0 ]; then envs=$(printf '%s\n' "$@"); else envs=$(.venv/bin/tox list --no-desc); fi
# The server environments are the longest and mostly wait (on soketi, workers, relays, the
# storm's 500 clients): first, so that the CPU-bound offline ones fill the time beside them
# (measured: two at a time, the matrix took 27 of the run's 31 minutes, with a core idle).
# Runs cannot collide: each environment has its own database and test-output folder, each
# worker its own queue, and what needs a fixed name has a Redis of its own (tests/support).
servers='-(postgres|mariadb|rabbitmq)$'
order=$({ echo "$envs" | grep -E -e "$servers" || true; echo "$envs" | grep -vE -e "$servers" || true; })
echo "$order" | xargs -P 3 -I{} bash -c 'run_env {}'
