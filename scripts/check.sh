#!/usr/bin/env bash
# The quick tier for the edit-test loop: lint, the staff data checks and the tests that need
# no trained model, no server and no browser. `make test` is the full gate.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
"$PY" -m staff_tools.check_data
"$PY" -m clinic.settings >/dev/null
"$PY" -m clinic_nlp.crisis_rules >/dev/null
echo "Lint (ruff, mypy) ..."
"$VENV/bin/ruff" check .
"$VENV/bin/mypy"
echo "Unit tests ..."
"$PY" -m pytest -q -p no:cacheprovider \
  tests/test_actions.py tests/test_settings.py tests/test_core.py tests/test_architecture.py \
  tests/test_check_data.py tests/test_crisis_rules.py tests/test_crisis_detector.py \
  tests/test_faq_fallback.py tests/test_benchmark.py tests/test_speedups.py \
  tests/test_rasa_internals.py tests/test_launcher.py tests/test_training_data.py \
  tests/test_history.py tests/test_text_models.py tests/test_payloads.py \
  tests/test_dead_ends.py "$@"
