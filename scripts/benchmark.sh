#!/usr/bin/env bash
# Measure turns/s, latency, cold start, memory and training time of the assistant against a
# stock `rasa init` bot on this machine; writes reports/benchmark/. Options: see
#   .venv/bin/python -m benchmark --help   (e.g. scripts/benchmark.sh --skip-training)
# Takes about 10 minutes (2 more the first time, to build the reference bot). Run nothing
# else heavy meanwhile: both bots share this machine's cores with the load generator.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
# Benchmark the current model (trains only if something changed); quiet unless it fails.
if ! training_output="$(scripts/train.sh 2>&1)"; then
  echo "$training_output" | tail -20 >&2
  echo "error: training failed (above), so there is no current model to benchmark" >&2
  exit 1
fi
"$PY" -m benchmark "$@"
