#!/usr/bin/env bash
# Production start on one machine: one Rasa server per port in RASA_PORTS and one action server
# per port in ACTION_PORTS, all on loopback, behind nginx; conversations in PostgreSQL, locks in
# Redis. Settings: the environment, then deploy/production.env (DEPLOY_ENV_FILE), then the
# defaults of clinic/launcher.py's one table (its "deploy" profile). Ctrl-C / SIGTERM stops
# everything. See docs/deployment.md.
#
# A server that dies is reported and the others go on serving (nginx skips it); this script
# stops only when every Rasa server, every action server or nginx is gone. Restarting a dead
# process is the job of the supervisor around it (systemd, Kubernetes).
set -euo pipefail
PROJECT_DIR="$(cd "$(dirname "$0")/.." && pwd)"

# The environment wins over the file: only variables not already set are taken from it.
env_file="${DEPLOY_ENV_FILE:-$PROJECT_DIR/deploy/production.env}"
if [ -e "$env_file" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ ! "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]]; then
      echo "error: $env_file: not a NAME=value line: ${line%%=*}" >&2
      exit 1
    fi
    name="${BASH_REMATCH[1]}"
    if [ -z "${!name+set}" ]; then export "$name=${BASH_REMATCH[2]}"; fi
  done < "$env_file"
elif [ -n "${DEPLOY_ENV_FILE:-}" ]; then
  echo "error: DEPLOY_ENV_FILE=$DEPLOY_ENV_FILE does not exist" >&2
  exit 1
fi

# Read before the defaults, so that the file wins over them.
source "$PROJECT_DIR/scripts/env.sh"
cd "$PROJECT_DIR"
# The defaults (ports, nginx, stores, SANIC_WORKERS, SANIC_PROXIES_COUNT=1 as nginx is the proxy,
# chat limits, SANIC_REQUEST_MAX_SIZE, also nginx's for action calls) for what is still unset;
# the action servers listen on loopback (SANIC_HOST) and every Rasa server calls them through
# nginx's private listener (ACTION_ENDPOINT_URL). `"$PY" -m clinic.launcher env --profile deploy`
# shows them.
eval "$("$PY" -m clinic.launcher env --profile deploy)"
model="$RASA_MODEL"
nginx_bin="${NGINX_BIN:-nginx}"
PATH="$PATH:/usr/sbin"  # Debian's nginx, for users whose PATH lacks sbin

run_dir="${DEPLOY_RUN_DIR:-var/deploy}"
mkdir -p "$run_dir"
DEPLOY_RUN_DIR="$(cd "$run_dir" && pwd)"
export DEPLOY_RUN_DIR
mkdir -p "$DEPLOY_RUN_DIR"/{logs,pids,nginx}
rm -f "$DEPLOY_RUN_DIR/ready" "$DEPLOY_RUN_DIR"/pids/*.pid

command -v "$nginx_bin" >/dev/null || { echo "error: nginx not found (apt-get install nginx)" >&2; exit 1; }
[ -f "$model" ] || { echo "error: no model at $model (make train)" >&2; exit 1; }
"$PY" -m clinic.settings  # names the broken setting in settings/clinic.yml, if any
"$PY" deploy/configure.py check
"$PY" deploy/configure.py render-nginx deploy/nginx.conf.template "$DEPLOY_RUN_DIR/nginx/nginx.conf"
"$nginx_bin" -t -q -p "$DEPLOY_RUN_DIR/nginx/" -c "$DEPLOY_RUN_DIR/nginx/nginx.conf" \
  -e "$DEPLOY_RUN_DIR/logs/nginx-error.log"

declare -A pids=()  # name -> pid
stopping=0
stop_all() {
  stopping=1
  local name
  for name in "${!pids[@]}"; do kill -TERM "${pids[$name]}" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    local alive=0
    for name in "${!pids[@]}"; do kill -0 "${pids[$name]}" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for name in "${!pids[@]}"; do kill -KILL "${pids[$name]}" 2>/dev/null || true; done
  rm -f "$DEPLOY_RUN_DIR/ready" "$DEPLOY_RUN_DIR"/pids/*.pid
}
trap 'stop_all' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

launch() {  # launch NAME COMMAND...: in the background, output to logs/NAME.log
  local name="$1"
  shift
  "$@" >"$DEPLOY_RUN_DIR/logs/$name.log" 2>&1 &
  pids[$name]=$!
  echo "${pids[$name]}" > "$DEPLOY_RUN_DIR/pids/$name.pid"
}

# The command lines come from clinic/launcher.py, as for make run, the tests and the benchmark.
for port in $ACTION_PORTS; do
  mapfile -d '' -t command < <("$PY" -m clinic.launcher command actions --port "$port")
  [ "${#command[@]}" -gt 0 ] || { echo "error: no command line for actions-$port" >&2; exit 1; }
  launch "actions-$port" "${command[@]}"
done
for port in $RASA_PORTS; do
  # The Rasa HTTP API on 127.0.0.1 only, with RASA_AUTH_TOKEN; CORS for the pages listed in
  # settings/clinic.yml (widget_origins); `rasa run` with the speed-ups of clinic_speedups.
  mapfile -d '' -t command < <("$PY" -m clinic.launcher command rasa --port "$port" \
    --model "$model" --endpoints deploy/endpoints.yml)
  [ "${#command[@]}" -gt 0 ] || { echo "error: no command line for rasa-$port" >&2; exit 1; }
  launch "rasa-$port" "${command[@]}"
done
launch nginx "$nginx_bin" -p "$DEPLOY_RUN_DIR/nginx/" -c "$DEPLOY_RUN_DIR/nginx/nginx.conf" \
  -e "$DEPLOY_RUN_DIR/logs/nginx-error.log"

echo "Starting $(wc -w <<<"$RASA_PORTS") Rasa server(s), $(wc -w <<<"$ACTION_PORTS") action server(s) and nginx; logs in $DEPLOY_RUN_DIR/logs"
wait_for() {  # wait_for NAME URL: until URL answers 2xx, or NAME's process exits
  local name="$1" url="$2"
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null --max-time 2 "$url" && return 0
    if ! kill -0 "${pids[$name]}" 2>/dev/null; then
      echo "error: $name stopped while starting; last lines of its log:" >&2
      tail -n 20 "$DEPLOY_RUN_DIR/logs/$name.log" >&2
      exit 1
    fi
    sleep 1
  done
  echo "error: $name did not answer at $url in 300 s" >&2
  exit 1
}
for port in $ACTION_PORTS; do wait_for "actions-$port" "http://127.0.0.1:$port/health"; done
for port in $RASA_PORTS; do wait_for "rasa-$port" "http://127.0.0.1:$port/"; done
wait_for nginx "http://$NGINX_LISTEN/webhooks/rest/"
wait_for nginx "http://$NGINX_ACTIONS_LISTEN/health"
touch "$DEPLOY_RUN_DIR/ready"
echo "Ready: chat at http://$NGINX_LISTEN/webhooks/rest/webhook"

# Watch: report each process that stops; go on while every kind still has one running.
declare -A reported=()
while [ "$stopping" = 0 ]; do
  rasa_alive=0 actions_alive=0 nginx_alive=0
  for name in "${!pids[@]}"; do
    if kill -0 "${pids[$name]}" 2>/dev/null; then
      case "$name" in
        rasa-*) rasa_alive=1 ;;
        actions-*) actions_alive=1 ;;
        nginx) nginx_alive=1 ;;
      esac
    elif [ -z "${reported[$name]:-}" ]; then
      reported[$name]=1
      rm -f "$DEPLOY_RUN_DIR/pids/$name.pid"
      echo "warning: $name stopped; the others go on serving (log: $DEPLOY_RUN_DIR/logs/$name.log)" >&2
    fi
  done
  if [ "$rasa_alive" = 0 ] || [ "$actions_alive" = 0 ] || [ "$nginx_alive" = 0 ]; then
    echo "error: no Rasa server, action server or nginx left running; stopping" >&2
    exit 1
  fi
  sleep 1 &
  wait $! || true
done
