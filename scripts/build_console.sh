#!/usr/bin/env bash
# Build the web console (console/ → console/dist/, served under /console/) when its sources changed.
# Needs Node.js 20.19 or later (Vite 8) and npm. Without them: a warning, exit 0, and /console/ shows
# a page saying how to build — unless CONSOLE_BUILD_REQUIRED=1 (the tests), which makes it an error.
set -euo pipefail
cd "$(dirname "$0")/.."
need() {
  echo "console: $1 — the web console needs Node.js 20.19 or later and npm (Debian: apt-get install nodejs npm)." >&2
  [ "${CONSOLE_BUILD_REQUIRED:-0}" = 1 ] && exit 1
  exit 0
}
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || need "node or npm not found"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || need "Node.js $(node --version) is too old"
hash=$( (cat console/package.json console/package-lock.json console/index.html console/vite.config.js
         find console/src -type f | LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ ! -d console/node_modules ] || [ console/package-lock.json -nt console/node_modules/.package-lock.json ]; then
  npm ci --prefix console --no-audit --no-fund --loglevel=error
fi
if [ "$(cat console/dist/.build-hash 2>/dev/null || true)" != "$hash" ]; then
  echo "console: building (vite build)…"
  (cd console && npx --no-install vite build --logLevel warn)
  echo "$hash" > console/dist/.build-hash
fi
