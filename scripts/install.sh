#!/usr/bin/env bash
# Create the virtual environment and install the pinned requirements (idempotent).
# Usage: bash scripts/install.sh [REQUIREMENTS_FILE]   (default requirements.txt: the runtime only;
# scripts/test.sh passes requirements-dev.txt). PYTHON=/path/to/python3.11 picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r "${1:-requirements.txt}"
