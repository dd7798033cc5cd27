#!/usr/bin/env bash
# Measure turns/s, latency, cold start, memory and training time of the assistant against a
# stock `rasa init` bot on this machine; writes reports/benchmark/. Options: see
#   .venv/bin/python -m benchmark --help   (e.g. scripts/benchmark.sh --skip-training)
# Takes about 10 minutes (2 more the first time, to build the reference bot). Run nothing
# else heavy meanwhile: both bots share this machine's cores with the load generator.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

# Benchmark the current model (trains only if something changed); quiet unless it fails.
current_model_or_exit benchmark 1
"$PY" -m benchmark "$@"
