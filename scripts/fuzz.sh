#!/usr/bin/env bash
# Send random and malformed requests to the chat webhook and count what they got; writes
# reports/fuzz/ and exits 1 on any 5xx, connection failure, broken turn, ERROR line or traceback.
# Options: see `.venv/bin/python -m benchmark.fuzz --help` (make fuzz N=... SEED=... URL=...
# LOGS=...). Without --url it starts its own servers (a throw-away tracker store): it needs the
# current model, trained here if something changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
if [[ " $* " != *" --url "* ]]; then
  if ! training_output="$(scripts/train.sh 2>&1)"; then
    echo "$training_output" | tail -20 >&2
    echo "error: training failed (above), so there is no current model to start" >&2
    exit 2
  fi
fi
exec "$PY" -m benchmark.fuzz "$@"
