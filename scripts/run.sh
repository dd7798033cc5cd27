#!/usr/bin/env bash
# Set up, train if needed, then start the action server, the Rasa server and the demo page
# (Ctrl-C stops them all). The servers are started by clinic/launcher.py, with the defaults of
# its one table (scripts/env.sh exports them; the environment wins).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
scripts/train.sh
"$PY" -m clinic.settings  # stops here, naming the setting, if settings/clinic.yml is broken

# The Rasa HTTP API (/model/parse, /conversations/...) needs a token; the chat webhook does not.
# Set RASA_AUTH_TOKEN, or one is generated once and kept in var/rasa_auth_token (not in git).
# Only the pages listed in settings/clinic.yml (widget_origins) may call the Rasa server.
exec "$PY" -m clinic.launcher run
