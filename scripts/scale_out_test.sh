#!/usr/bin/env bash
# make test-scale-out: start a private PostgreSQL, Redis, and the production layout
# (deploy/start.sh: two Rasa servers, two action servers, nginx) on loopback, then run
# tests/scale_out/: many concurrent conversations through nginx, bursts to one conversation,
# one Rasa server killed mid-run, every turn checked in PostgreSQL. Everything it starts is
# stopped on exit; the logs and the figures are kept in reports/scale_out/.
#
# Needs Debian's redis-server and nginx (installed here if missing, with apt-get) and the
# PostgreSQL server binaries (PG_BIN, default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"
cpu_lock="${CPU_LOCK:-/tmp/cpu.lock}"

if [ -z "${SCALE_OUT_LOCKED:-}" ]; then
  # Preparation, outside the CPU lock (training takes the lock itself).
  scripts/setup.sh
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [ -n "${PG_BIN:-}" ] || missing+=(postgresql)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing ${missing[*]} (apt-get) ..."
    sudo=()
    [ "$(id -u)" = 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
      { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
  if [ ! -f models/clinic.tar.gz ]; then flock "$cpu_lock" scripts/train.sh; fi
  # The servers and the load run under the CPU lock; -o: the servers do not inherit it.
  SCALE_OUT_LOCKED=1 exec flock -o "$cpu_lock" "$0" "$@"
fi

PATH="$PATH:/usr/sbin"
pg_bin="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}"
work="$(mktemp -d /tmp/scale_out.XXXXXX)"
chmod 755 "$work"
report_dir="$PROJECT_DIR/reports/scale_out"
mkdir -p "$report_dir"
rm -rf "$report_dir/logs"

# PostgreSQL refuses to run as root: as root, the cluster belongs to the postgres user.
as_db_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_pid="" redis_pid="" pg_started=0
cleanup() {
  local status=$?
  set +e
  if [ -n "$start_pid" ]; then
    kill -TERM "$start_pid" 2>/dev/null
    wait "$start_pid" 2>/dev/null
  fi
  if [ -n "$redis_pid" ]; then
    kill -TERM "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null
  fi
  [ "$pg_started" = 1 ] && as_db_owner "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null
  mkdir -p "$report_dir/logs"
  cp -r "$work/deploy/logs/." "$report_dir/logs/" 2>/dev/null
  cp "$work"/*.log "$work"/pgrun/*.log "$report_dir/logs/" 2>/dev/null
  rm -rf "$work"
  [ "$status" = 0 ] || echo "Logs of every server: $report_dir/logs/" >&2
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Seven free loopback ports: PostgreSQL, Redis, two Rasa, two action servers, nginx (+1).
read -r pg_port redis_port rasa_a rasa_b action_a action_b nginx_port nginx_actions_port < <(
  "$PY" - <<'PY'
import socket
sockets = [socket.socket() for _ in range(8)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
PY
)
db_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')"
redis_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')"

echo "PostgreSQL ($pg_bin) on 127.0.0.1:$pg_port ..."
mkdir -p "$work/pg" "$work/pgrun"
printf '%s\n' "$db_password" > "$work/pgrun/password"
if [ "$(id -u)" = 0 ]; then chown -R postgres "$work/pg" "$work/pgrun"; fi
as_db_owner "$pg_bin/initdb" -D "$work/pg" -U rasa --pwfile="$work/pgrun/password" \
  --auth=scram-sha-256 --no-sync >"$work/postgresql-initdb.log"
as_db_owner "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pgrun/postgresql.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $work/pgrun -c fsync=off" start >/dev/null
pg_started=1
PGPASSWORD="$db_password" "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U rasa rasa

echo "Redis on 127.0.0.1:$redis_port ..."
redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no \
  --requirepass "$redis_password" --logfile "$work/redis.log" &
redis_pid=$!

export DEPLOY_ENV_FILE=/dev/null  # the test's settings only, never a production.env
export RASA_AUTH_TOKEN="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(32))')"
export DB_HOST=127.0.0.1 DB_PORT="$pg_port" DB_DATABASE=rasa DB_USER=rasa DB_PASSWORD="$db_password"
export REDIS_HOST=127.0.0.1 REDIS_PORT="$redis_port" REDIS_DB=1 REDIS_PASSWORD="$redis_password"
export RASA_PORTS="$rasa_a $rasa_b" ACTION_PORTS="$action_a $action_b"
export NGINX_LISTEN="127.0.0.1:$nginx_port" NGINX_ACTIONS_LISTEN="127.0.0.1:$nginx_actions_port"
# All the test's visitors come from 127.0.0.1: the per-address limits (nginx's and the chat
# webhook's) must not throttle them.
export NGINX_RATE_LIMIT=1000r/s NGINX_RATE_BURST=1000 CHAT_RATE_LIMIT_PER_IP=0
export DEPLOY_RUN_DIR="$work/deploy"
# Overridable, e.g. NGINX_BALANCE=round_robin make test-scale-out; the report names both.
export NGINX_BALANCE="${NGINX_BALANCE:-sender}" TICKET_LOCK_LIFETIME="${TICKET_LOCK_LIFETIME:-3}"

deploy/start.sh &
start_pid=$!
for _ in $(seq 1 360); do
  [ -f "$DEPLOY_RUN_DIR/ready" ] && break
  kill -0 "$start_pid" 2>/dev/null || { echo "error: deploy/start.sh stopped, see above" >&2; exit 1; }
  sleep 1
done
[ -f "$DEPLOY_RUN_DIR/ready" ] || { echo "error: the servers were not ready in 6 minutes" >&2; exit 1; }

export SCALE_OUT_URL="http://$NGINX_LISTEN"
export SCALE_OUT_RUN_DIR="$DEPLOY_RUN_DIR"
export SCALE_OUT_DB_URL="postgresql://rasa:$db_password@127.0.0.1:$pg_port/rasa"
export SCALE_OUT_REDIS_URL="redis://:$redis_password@127.0.0.1:$redis_port/1"
export SCALE_OUT_REPORT="$report_dir/report.json"
"$PY" -m pytest tests/scale_out -q -p no:cacheprovider "$@"
echo "Figures: $SCALE_OUT_REPORT"
