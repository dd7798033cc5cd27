#!/usr/bin/env bash
# Train if needed, then score the held-out files: our report and Rasa's own, one folder.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

out="reports/heldout"
scripts/train.sh
"$PY" -m evaluation.heldout --out "$out"

# Rasa's intent report and confusion matrix, on all held-out NLU files merged into one.
mkdir -p "$out/rasa"
"$PY" - "$out/rasa/heldout_nlu.yml" <<'PY'
import sys
import yaml
from evaluation.heldout import NLU_HELDOUT_FILES
blocks = [b for path in NLU_HELDOUT_FILES for b in yaml.safe_load(path.read_text())["nlu"]]
with open(sys.argv[1], "w") as merged:
    yaml.safe_dump({"version": "3.1", "nlu": blocks}, merged, sort_keys=False, width=1000)
PY
"$RASA" test nlu --model models/clinic.tar.gz --nlu "$out/rasa/heldout_nlu.yml" \
  --out "$out/rasa" --quiet >/dev/null 2>&1 || echo "warning: rasa test nlu failed" >&2
echo "Reports: $out/report.md, $out/curve.png, $out/rasa/ (intent_report.json, confusion matrix)"
