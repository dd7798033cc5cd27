#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned packages (skipped when up to date).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$PROJECT_DIR"

if [ ! -x "$PY" ]; then
  python="${PYTHON:-python3.10}"
  if ! command -v "$python" >/dev/null; then
    echo "error: Python 3.10 is needed (Rasa 3.6 runs on 3.8-3.10); set PYTHON=/path/to/python3.10" >&2
    exit 1
  fi
  echo "Creating the virtual environment in .venv ..."
  "$python" -m venv "$VENV"
fi

wanted="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
stamp="$VENV/.installed-requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing pinned packages (a few minutes the first time) ..."
  "$PY" -m pip install --quiet --disable-pip-version-check "pip==24.0"
  "$PY" -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
  echo "$wanted" > "$stamp"
fi
