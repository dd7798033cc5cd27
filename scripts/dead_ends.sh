#!/usr/bin/env bash
# Send a sample of held-out visitor messages (200, from every round's blind sets) to the
# assistant, each as a new conversation, and count the replies that leave the visitor nowhere
# to go; writes reports/dead-ends/report.md. Options: `.venv/bin/python -m evaluation.dead_ends
# --help` (make dead-ends SAMPLE=... SETS="file.tsv ..."). It needs the current model, trained
# here if something changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

current_model_or_exit start 2
exec "$PY" -m evaluation.dead_ends "$@"
