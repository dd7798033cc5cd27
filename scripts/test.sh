#!/usr/bin/env bash
# The whole test suite: set-up, validation, lint, training (if needed), pytest, test stories.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
scripts/setup_browser.sh
scripts/validate.sh
echo "Lint (ruff, mypy) ..."
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
scripts/train.sh
echo "Test stories (tests/test_stories.yml) ..."
"$RASA" test core --model models/clinic.tar.gz --stories tests/test_stories.yml \
  --out reports/test_stories --fail-on-prediction-errors --quiet
echo "pytest ..."
"$PY" -m pytest "$@"
