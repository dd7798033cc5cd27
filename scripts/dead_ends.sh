#!/usr/bin/env bash
# Send a sample of held-out visitor messages (200, from every round's blind sets) to the
# assistant, each as a new conversation, and count the replies that leave the visitor nowhere
# to go; writes reports/dead-ends/report.md. Options: `.venv/bin/python -m evaluation.dead_ends
# --help` (make dead-ends SAMPLE=... SETS="file.tsv ..."). It needs the current model, trained
# here if something changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
if ! training_output="$(scripts/train.sh 2>&1)"; then
  echo "$training_output" | tail -20 >&2
  echo "error: training failed (above), so there is no current model to start" >&2
  exit 2
fi
exec "$PY" -m evaluation.dead_ends "$@"
