#!/usr/bin/env bash
# Build the spaCy pipeline and train the model, only when something changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

"$PY" -m clinic_nlp.crisis_rules >/dev/null  # a clear message if the patterns are broken
"$PY" -m clinic_nlp.pipeline

# Rasa's cache knows the spaCy pipeline by its path only, and the crisis patterns are not
# training data: when either changed, retrain from scratch.
pipeline_stamp="build/spacy/clinic_en/clinic_fingerprint.txt"
model_stamp="models/.pipeline_fingerprint"
force=()
if ! cmp -s "$pipeline_stamp" "$model_stamp"; then
  force=(--force)
fi
before="$(stat -c %Y models/clinic.tar.gz 2>/dev/null || echo none)"
started="$(date +%s)"
log="$(mktemp)"
"$RASA" train --fixed-model-name clinic --out models "${force[@]}" "$@" 2>&1 | tee "$log"
cp "$pipeline_stamp" "$model_stamp"
if [ "$(stat -c %Y models/clinic.tar.gz)" != "$before" ] && ! grep -q "Nothing changed" "$log"; then
  # For the evaluation report: how long the last real training took.
  printf '{"seconds": %d, "from_scratch": %s}\n' "$(( $(date +%s) - started ))" \
    "$([ ${#force[@]} -gt 0 ] && echo true || echo false)" > models/training.json
fi
rm -f "$log"
