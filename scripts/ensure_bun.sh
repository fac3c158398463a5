#!/usr/bin/env bash
# Reflex builds its front end with bun and downloads it from the internet, which some
# machines cannot reach. When no bun is on PATH, install it from the npm registry into
# .tools/bun (the Makefile puts its .bin on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v bun >/dev/null 2>&1; then
  exit 0
fi
if [ -x .tools/bun/node_modules/.bin/bun ] && .tools/bun/node_modules/.bin/bun --version >/dev/null 2>&1; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "Neither bun nor npm is installed: install Node.js (npm) or bun, then retry." >&2
  exit 1
fi
echo "Installing bun from the npm registry into .tools/bun ..."
npm install --silent --no-audit --no-fund --prefix .tools/bun bun@1.4.5
.tools/bun/node_modules/.bin/bun --version >/dev/null
