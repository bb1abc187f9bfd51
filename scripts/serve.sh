#!/usr/bin/env bash
# Install everything, build the web console, migrate, load the demo data and serve on 127.0.0.1:8000 (SQLite, local media,
# built-in fake WeChat). Configuration comes from the environment (README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build_console.sh   # the web console under /console/ (when its sources changed; needs Node.js and npm)
.venv/bin/flask --app wsgi db upgrade heads
.venv/bin/flask --app wsgi demo
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
