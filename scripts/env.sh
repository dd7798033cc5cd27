# Shared settings for the project's scripts: sourced, never run. Every value can be
# overridden by setting the variable before running a command, e.g.
#   TRACKER_STORE_URL=postgresql://rasa:secret@db:5432/rasa make run
PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PROJECT_DIR
export PYTHONPATH="$PROJECT_DIR${PYTHONPATH:+:$PYTHONPATH}"
VENV="$PROJECT_DIR/.venv"
PY="$VENV/bin/python"
RASA="${RASA:-$VENV/bin/rasa}"  # overridable so tests can stand in for it

# The servers' settings: the one table of defaults in clinic/launcher.py (ports, hosts, tracker
# store, action endpoint, chat limits, SANIC_*, quiet/private/offline), exported here for every
# variable not already set. `"$PY" -m clinic.launcher env` shows them. Standard library only, so
# the system python3 does before .venv exists (scripts/setup.sh sources this file too).
_launcher_py="$PY"
[ -x "$_launcher_py" ] || _launcher_py=python3
eval "$("$_launcher_py" -m clinic.launcher env)"
unset _launcher_py
mkdir -p "$PROJECT_DIR/var"

# For the commands that start the assistant on the current model (benchmark, fuzz, dead-ends):
# set up, then train if something changed, quietly unless training fails; then show its last
# lines and stop with status $2, saying there is no current model to $1.
current_model_or_exit() {
  scripts/setup.sh
  local training_output
  if ! training_output="$(scripts/train.sh 2>&1)"; then
    echo "$training_output" | tail -20 >&2
    echo "error: training failed (above), so there is no current model to $1" >&2
    exit "$2"
  fi
}
