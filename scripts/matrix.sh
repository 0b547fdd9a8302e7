#!/usr/bin/env bash
# The Django/Python compatibility matrix of tox.ini: the offline suite on every pair the
# package claims, and the whole suite but the browser tests on the newest Django with
# PostgreSQL. Two environments at a time; one summary line each. Called by scripts/test.sh
# after scripts/bootstrap.sh (it needs .venv, the npm packages, Redis and PostgreSQL).
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
export DATABASE_URL="${POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/pusher_django}"
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

envs=$(.venv/bin/tox list --no-desc)
# The PostgreSQL environment starts servers and workers: alone, after the offline ones.
offline=$(echo "$envs" | grep -v postgres)
failed=0
echo "$offline" | xargs -P 2 -I{} bash -c 'run_env {}' || failed=1
for env in $(echo "$envs" | grep postgres); do run_env "$env" || failed=1; done
exit $failed
