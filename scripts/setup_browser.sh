#!/usr/bin/env bash
# What the browser tests need beside .venv: Debian's Chromium and axe-core from npm.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests ..."
    apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  else
    echo "error: the browser tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium" >&2
    exit 1
  fi
fi
wanted="$(sha256sum webchat/package-lock.json | cut -d' ' -f1)"
stamp="webchat/node_modules/.installed-lock"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  npm ci --prefix webchat --no-audit --no-fund --loglevel=error
  echo "$wanted" > "$stamp"
fi
