"""Where a turn's time goes: py-spy samples the running Rasa server while it is under load."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from benchmark.servers import PROJECT_DIR, VENV_BIN

# Stages of a turn, recognised by a frame on the sampled stack (first match wins, in order).
# Deeply recursive stacks (jsonschema) can be cut short by py-spy: their root is then a
# jsonschema frame, which still lands them in the right stage.
STAGES: List[Tuple[str, str]] = [
    ("validating the action server's reply (jsonschema)", r"^_validate_action_result |jsonschema/"),
    ("tracker store (SQL)", r"tracker_store\.py|^get_tracker \(rasa/core/processor|sqlalchemy/"),
    ("NLU: parse the message", r"^parse_message \(rasa/core/processor\.py"),
    ("dialogue policies: predict the next action", r"^_?predict_next_with_tracker"),
    ("running actions (action server HTTP call, responses, events)", r"^_run_action \("),
    ("HTTP server and chat channel (Sanic, rest channel)", r"sanic/|rest_channel\.py|channel\.py"),
]

# Frames that wrap every request (entry point, server loop): on every stack, so not listed.
WRAPPERS = (r"^<module> |^main \(|rasa/cli/|rasa/api\.py|rasa/core/run\.py|sanic/|runpy\.py|"
            r"^connection_task|^handle_request|asyncio/|uvloop|dask/")


def py_spy() -> Optional[Path]:
    """The py-spy binary, if installed (requirements.txt pins it)."""
    found = VENV_BIN / "py-spy"
    if found.exists():
        return found
    on_path = shutil.which("py-spy")
    return Path(on_path) if on_path else None


def record(pid: int, seconds: int, output: Path, rate: int = 100) -> None:
    """Sample `pid` (and its child processes) for `seconds`, collapsed stacks into `output`.

    py-spy pauses the process for each sample: --nonblocking would not, but then gives
    stacks torn between two moments, which credit time to the wrong functions.
    """
    binary = py_spy()
    if binary is None:
        raise FileNotFoundError("py-spy is not installed: pip install -c constraints.txt py-spy")
    subprocess.run(
        [str(binary), "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
         "--format", "raw", "--output", str(output), "--subprocesses"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _frame_name(frame: str) -> str:
    """'function (path/to/site-packages/pkg/file.py:12)' -> 'function (pkg/file.py)'."""
    frame = re.sub(r":\d+\)$", ")", frame.strip())
    frame = frame.replace(f"({PROJECT_DIR}/", "(")
    return re.sub(r"\(.*?site-packages/", "(", frame)


def parse_collapsed(text: str) -> Tuple[Counter, Counter, Counter, int]:
    """Self samples and total samples per function, samples per stage, and all samples."""
    own: Counter = Counter()
    total: Counter = Counter()
    stages: Counter = Counter()
    all_samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if f.strip()]
        frames = [f for f in frames if not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        all_samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
        stages[_stage(frames)] += count
    return own, total, stages, all_samples


def _stage(frames: List[str]) -> str:
    for stage, pattern in STAGES:
        if any(re.search(pattern, frame) for frame in frames):
            return stage
    return "other (event loop, logging, start-up threads)"


def summarise(text: str, top: int = 15) -> Dict[str, Any]:
    """The profile as percentages of the sampled CPU time, for the report."""
    own, total, stages, all_samples = parse_collapsed(text)

    def share(count: int) -> float:
        return round(100 * count / all_samples, 1) if all_samples else 0.0

    return {
        "samples": all_samples,
        "stages": [{"stage": name, "percent": share(n)} for name, n in stages.most_common()],
        "top_self": [{"function": name, "percent": share(n)} for name, n in own.most_common(top)],
        "top_total": [
            {"function": name, "percent": share(n)} for name, n in total.most_common()
            if not re.search(WRAPPERS, name) and share(n) < 95  # not the request's wrappers
        ][:top],
    }
