# Shared settings for the project's scripts: sourced, never run. Every value can be
# overridden by setting the variable before running a command, e.g.
#   TRACKER_STORE_URL=postgresql://rasa:secret@db:5432/rasa make run
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROJECT_DIR
export PYTHONPATH="$PROJECT_DIR${PYTHONPATH:+:$PYTHONPATH}"
VENV="$PROJECT_DIR/.venv"
PY="$VENV/bin/python"
RASA="${RASA:-$VENV/bin/rasa}"  # overridable so tests can stand in for it

export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export WIDGET_PORT="${WIDGET_PORT:-8080}"
export ACTION_ENDPOINT_URL="${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}"
export TRACKER_STORE_URL="${TRACKER_STORE_URL:-sqlite:///$PROJECT_DIR/var/tracker.db}"
# The action server listens on loopback only (rasa-sdk reads SANIC_HOST).
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
export RASA_HOST="${RASA_HOST:-127.0.0.1}"

# Limits of the chat webhook (clinic_server/rest_channel.py); 0 switches one off. The rates are
# per Rasa server process, over a sliding window. Behind a proxy, set SANIC_PROXIES_COUNT=1 (or
# SANIC_REAL_IP_HEADER) so the per-IP limit sees visitors, not the proxy's one address.
export CHAT_MAX_BODY_BYTES="${CHAT_MAX_BODY_BYTES:-65536}"
export CHAT_MAX_MESSAGE_CHARS="${CHAT_MAX_MESSAGE_CHARS:-2000}"
export CHAT_RATE_WINDOW_SECONDS="${CHAT_RATE_WINDOW_SECONDS:-10}"
export CHAT_RATE_LIMIT_PER_SENDER="${CHAT_RATE_LIMIT_PER_SENDER:-20}"
export CHAT_RATE_LIMIT_PER_IP="${CHAT_RATE_LIMIT_PER_IP:-60}"
# Any request body to either server (Sanic reads SANIC_*): refused with 413 before it is read.
# The action server gets the session's whole tracker, about 4.5 KB a turn: 2 MiB is ~450 turns.
export SANIC_REQUEST_MAX_SIZE="${SANIC_REQUEST_MAX_SIZE:-2097152}"

# Quiet, private, offline.
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export RASA_TELEMETRY_ENABLED=false
export HF_HUB_OFFLINE=1
export TRANSFORMERS_OFFLINE=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore}"
mkdir -p "$PROJECT_DIR/var"
