#!/usr/bin/env bash
# Install everything and run the whole test suite (SQLite by default; DATABASE_URL for PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh requirements-dev.txt
# The mini-program's npm packages: its node tests run inside pytest (tests/js/test_node.py).
# Without node/npm those tests fail with a message saying so.
if command -v npm >/dev/null 2>&1 &&
   { [ ! -d miniprogram/node_modules ] || [ miniprogram/package-lock.json -nt miniprogram/node_modules/.package-lock.json ]; }; then
  npm ci --prefix miniprogram --no-audit --no-fund --loglevel=error
fi
# The web console: its Vitest and browser tests run inside pytest (tests/console) against the built files.
bash scripts/build_console.sh || echo "console build failed: tests/console will say why"
# Two pytest-xdist workers by default (each with its own database); TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -q -n "${TEST_WORKERS:-2}" "$@"
