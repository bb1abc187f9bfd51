#!/usr/bin/env bash
# Install everything and run the whole test suite (SQLite by default; DATABASE_URL for PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh requirements-dev.txt
exec .venv/bin/python -m pytest -q "$@"
