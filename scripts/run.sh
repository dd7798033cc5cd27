#!/usr/bin/env bash
# Set up, train if needed, then start the action server and the Rasa server (Ctrl-C stops both).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

scripts/setup.sh
scripts/train.sh
"$PY" -m clinic.settings  # stops here, naming the setting, if settings/clinic.yml is broken

# The Rasa HTTP API (/model/parse, /conversations/...) needs this token; the chat webhook
# does not. Set RASA_AUTH_TOKEN, or one is generated once and kept in var/ (not in git).
token_file="$PROJECT_DIR/var/rasa_auth_token"
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  if [ ! -s "$token_file" ]; then
    (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(32))" > "$token_file")
  fi
  RASA_AUTH_TOKEN="$(cat "$token_file")"
fi

# Only the pages listed in settings/clinic.yml (widget_origins) may call the Rasa server.
mapfile -t widget_origins < <("$PY" -m clinic.settings --widget-origins)
cors=()
if [ "${#widget_origins[@]}" -gt 0 ]; then cors=(--cors "${widget_origins[@]}"); fi

cleanup() { kill "${action_pid:-}" "${rasa_pid:-}" "${web_pid:-}" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

"$RASA" run actions --actions actions --port "$ACTION_PORT" &
action_pid=$!
# `rasa run` with the speed-ups of clinic_speedups (same behaviour; docs/performance.md).
"$PY" -m clinic_speedups run --model models/clinic.tar.gz --interface "$RASA_HOST" --port "$RASA_PORT" \
  --endpoints endpoints.yml --credentials credentials.yml \
  --enable-api --auth-token "$RASA_AUTH_TOKEN" "${cors[@]}" &
rasa_pid=$!
"$PY" -m webchat.serve --port "$WIDGET_PORT" --rasa-url "http://$RASA_HOST:$RASA_PORT" &
web_pid=$!

echo "Starting: action server on 127.0.0.1:$ACTION_PORT, Rasa server on $RASA_HOST:$RASA_PORT ..."
for _ in $(seq 1 180); do
  if curl -fs "http://$RASA_HOST:$RASA_PORT/" >/dev/null 2>&1; then break; fi
  kill -0 "$rasa_pid" 2>/dev/null || { echo "error: the Rasa server stopped, see above" >&2; exit 1; }
  sleep 1
done
cat <<MSG

The assistant is ready.
  Demo page with the chat widget:  http://127.0.0.1:$WIDGET_PORT/
  Chat (REST):  curl -s -XPOST http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook \\
                  -d '{"sender": "me", "message": "Is ketamine FDA approved?"}'
  Parse (API):  curl -s -XPOST "http://$RASA_HOST:$RASA_PORT/model/parse?token=\$(cat var/rasa_auth_token)" \\
                  -d '{"text": "how much does it cost?"}'
  Settings:     settings/clinic.yml   Conversations: ${TRACKER_STORE_URL}
Press Ctrl-C to stop.
MSG
wait -n "$action_pid" "$rasa_pid" "$web_pid"
