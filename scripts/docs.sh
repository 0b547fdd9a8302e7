#!/usr/bin/env bash
# Builds the documentation site into site/ with warnings as errors (broken internal links,
# missing anchors, a missing included example, a page outside the nav all fail), then runs
# the tests that execute every Python example the pages include.
# scripts/docs.sh serve: the same site, live-reloading on http://127.0.0.1:8001/.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || scripts/bootstrap.sh
stamp=.venv/.requirements-docs-installed
if [ ! -f "$stamp" ] || ! cmp -s requirements-docs.txt "$stamp"; then
  .venv/bin/pip install -q -r requirements-docs.txt
  cp requirements-docs.txt "$stamp"
fi
export NO_MKDOCS_2_WARNING=1
if [ "${1:-}" = "serve" ]; then
  exec .venv/bin/mkdocs serve --strict -a 127.0.0.1:8001
fi
.venv/bin/mkdocs build --strict --clean
.venv/bin/pytest -q -p no:cacheprovider tests/unit/test_docs_examples.py tests/unit/test_presence.py
