"""The stock reference bot: what `rasa init` creates, on the same Rasa version."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, Optional

from benchmark.servers import rasa_env
from clinic.paths import PROJECT_DIR

REFERENCE_DIR = PROJECT_DIR / "build" / "reference"
# Written next to the reference bot once it is trained: how long `rasa init` took.
BUILD_RECORD = REFERENCE_DIR / "benchmark_build.json"

def reference_model() -> Optional[Path]:
    """The newest trained model of the reference bot, if there is one."""
    models = sorted((REFERENCE_DIR / "models").glob("*.tar.gz"))
    return models[-1] if models else None


def build_reference(rasa: Path) -> Dict[str, Any]:
    """Create and train the reference bot unless it is already there; say how long it took."""
    if reference_model() is not None and BUILD_RECORD.exists():
        record: Dict[str, Any] = json.loads(BUILD_RECORD.read_text())
        return {**record, "cached": True}
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)  # rasa init --no-prompt needs it
    print(f"Building the stock reference bot in {REFERENCE_DIR} (rasa init, 1-2 minutes) ...",
          flush=True)
    started = time.monotonic()
    completed = subprocess.run(
        [str(rasa), "init", "--no-prompt", "--init-dir", str(REFERENCE_DIR)],
        cwd=PROJECT_DIR, env=rasa_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )
    seconds = time.monotonic() - started
    if completed.returncode != 0 or reference_model() is None:
        raise RuntimeError(
            f"rasa init failed (exit {completed.returncode}): {completed.stdout[-2000:]}"
        )
    record = {"training_seconds": round(seconds, 1), "built_at": time.strftime("%Y-%m-%d %H:%M")}
    BUILD_RECORD.write_text(json.dumps(record) + "\n")
    return {**record, "cached": False}
