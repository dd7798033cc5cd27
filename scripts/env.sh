# Shared settings for the project's scripts: sourced, never run. Every value can be
# overridden by setting the variable before running a command, e.g.
#   TRACKER_STORE_URL=postgresql://rasa:secret@db:5432/rasa make run
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROJECT_DIR
export PYTHONPATH="$PROJECT_DIR${PYTHONPATH:+:$PYTHONPATH}"
VENV="$PROJECT_DIR/.venv"
PY="$VENV/bin/python"
RASA="$VENV/bin/rasa"

export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export WIDGET_PORT="${WIDGET_PORT:-8080}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///$PROJECT_DIR/var/tracker.db}"
# The action server listens on loopback only (rasa-sdk reads SANIC_HOST).
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
export RASA_HOST="${RASA_HOST:-127.0.0.1}"

# Quiet, private, offline.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export RASA_TELEMETRY_ENABLED=false
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
mkdir -p "$PROJECT_DIR/var"
