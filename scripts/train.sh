#!/usr/bin/env bash
# Build the spaCy pipeline and train the model, only when something changed.
#   scripts/train.sh          full training (Rasa's cache skips the parts nothing changed)
#   scripts/train.sh --quick  for new or edited example phrasings and answers: continues
#                             training the last full model for a fifth of the epochs
#                             (about 3 minutes instead of 9); falls back to a full training
#                             when the change needs one (a new topic or intent, config.yml,
#                             patterns/). Run a full `make train` before a release.
#   scripts/train.sh --same-way   quick if the current model came from a quick training, else
#                             full: `make run` and `make reload` use it, so they do not undo
#                             a quick training with a long one.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

quick=false
case "${1:-}" in
  --quick) quick=true; shift ;;
  --same-way)
    if grep -q '"quick": true' models/training.json 2>/dev/null; then quick=true; fi
    shift ;;
esac

"$PY" -m clinic_nlp.crisis_rules >/dev/null  # a clear message if the patterns are broken
"$PY" -m clinic_nlp.pipeline

# Rasa's cache knows the spaCy pipeline by its path only, and the crisis patterns are not
# training data: when either changed, retrain from scratch.
pipeline_stamp="build/spacy/clinic_en/clinic_fingerprint.txt"
model_stamp="models/.pipeline_fingerprint"
# A hard link to the last full training's model: quick trainings always start from it, so
# they do not drift from one another; it costs no disk space until the next full training.
last_full="models/last-full-training.tar.gz"
force=()
if ! cmp -s "$pipeline_stamp" "$model_stamp"; then
  force=(--force)
fi
if $quick && { [ ${#force[@]} -gt 0 ] || [ ! -f "$last_full" ]; }; then
  echo "Quick training needs an earlier full training with the same patterns; training in full."
  quick=false
fi

started="$(date +%s)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if $quick; then
  status=0
  "$RASA" train --fixed-model-name clinic --out models --finetune "$last_full" \
    --epoch-fraction 0.2 "$@" 2>&1 | tee "$log" || status=$?
  if [ "$status" -ne 0 ]; then
    if ! grep -q "Cannot finetune" "$log"; then
      exit "$status"
    fi
    echo "This change needs a full training (a new topic, intent or setting); starting it now."
    quick=false
  fi
fi
if ! $quick; then
  "$RASA" train --fixed-model-name clinic --out models "${force[@]}" "$@" 2>&1 | tee "$log"
  cp "$pipeline_stamp" "$model_stamp"
  ln -f models/clinic.tar.gz "$last_full"
fi
# For the evaluation report: how the current model was trained and how long it took.
printf '{"seconds": %d, "from_scratch": %s, "quick": %s, "components_trained": %d}\n' \
  "$(( $(date +%s) - started ))" "$([ ${#force[@]} -gt 0 ] && echo true || echo false)" \
  "$quick" "$(grep -c "Finished training component" "$log" || true)" > models/training.json
