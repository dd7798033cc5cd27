#!/usr/bin/env bash
# Build the spaCy pipeline and train the model, only when something changed.
# Training takes seconds once the sentence vectors of the examples are cached
# (build/embedding-cache.sqlite, keyed by text and model version): a new example embeds one
# example. Rasa's own cache skips every component whose inputs did not change.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

"$PY" -m clinic_nlp.pipeline

# Rasa's cache knows the spaCy pipeline by its path only, and the crisis patterns are not
# training data: when either changed, retrain from scratch.
pipeline_stamp="build/spacy/clinic_en/clinic_fingerprint.txt"
model_stamp="models/.pipeline_fingerprint"
force=()
if ! cmp -s "$pipeline_stamp" "$model_stamp"; then
  "$PY" -m clinic_nlp.crisis_rules >/dev/null  # a clear message if the patterns are broken
  force=(--force)
fi

started="$(date +%s)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Rasa's own checks of the data (`make validate`, part of `make test`) are not repeated here:
# they read every file again and took a quarter of a retraining.
# `rasa train`, ending the process without Python's object-by-object teardown (a second).
"$PY" -m clinic_speedups train --skip-validation --fixed-model-name clinic --out models \
  "${force[@]}" "$@" 2>&1 | tee "$log"
cp "$pipeline_stamp" "$model_stamp"
# For the evaluation report: how long the current model took to train.
printf '{"seconds": %d, "from_scratch": %s, "components_trained": %d}\n' \
  "$(( $(date +%s) - started ))" "$([ ${#force[@]} -gt 0 ] && echo true || echo false)" \
  "$(grep -c "Finished training component" "$log" || true)" > models/training.json
