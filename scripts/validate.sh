#!/usr/bin/env bash
# Check everything staff edit: clinic settings, spaCy patterns, training data and stories.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

# First the staff check: file, line and how to fix for each problem (docs/staff-guide.md).
"$PY" -m staff_tools.check_data
"$PY" -m clinic.settings
"$PY" -m clinic_nlp.crisis_rules
"$PY" -m clinic_nlp.pipeline
echo "Validating training data, domain, rules and stories ..."
"$RASA" data validate --fail-on-warnings --quiet
echo "Data OK."
