#!/usr/bin/env bash
# Send random and malformed requests to the chat webhook and count what they got; writes
# reports/fuzz/ and exits 1 on any 5xx, connection failure, broken turn, ERROR line or traceback.
# Options: see `.venv/bin/python -m benchmark.fuzz --help` (make fuzz N=... SEED=... URL=...
# LOGS=...). Without --url it starts its own servers (a throw-away tracker store): it needs the
# current model, trained here if something changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

if [[ " $* " != *" --url "* ]]; then
  current_model_or_exit start 2
else
  scripts/setup.sh
fi
exec "$PY" -m benchmark.fuzz "$@"
