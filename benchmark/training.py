"""Training time: from scratch, and after a one-line data change with Rasa's cache."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from benchmark.servers import PROJECT_DIR, VENV_BIN, rasa_env

CHANGED_FILE = Path("nlu") / "general.yml"
NEW_EXAMPLE = "hello again, it's me from the benchmark"


def add_one_example(data_dir: Path) -> str:
    """Add one training example to the first intent of data/nlu/general.yml (a copy)."""
    path = data_dir / CHANGED_FILE
    lines = path.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines):
        if re.match(r"\s*examples:\s*\|", line):
            example = next(x for x in lines[number + 1:] if x.strip().startswith("- "))
            indent = example[: len(example) - len(example.lstrip())]
            lines.insert(number + 1, f"{indent}- {NEW_EXAMPLE}\n")
            path.write_text("".join(lines))
            return f"data/{CHANGED_FILE}: + '- {NEW_EXAMPLE}'"
    raise ValueError(f"no 'examples: |' block in data/{CHANGED_FILE}")


def cold_config(tmp: Path) -> Path:
    """config.yml with the sentence-vector cache in `tmp`, so nothing is embedded beforehand."""
    import yaml

    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text())
    for component in config["pipeline"]:
        if component["name"].startswith("clinic_nlp.") and component["name"].endswith(
                ("SentenceEmbeddingFeaturizer", "SemanticCrisisDetector")):
            component["cache_path"] = str(tmp / "embedding-cache.sqlite")
    path = tmp / "config.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _train(
    config: Path, data_dir: Path, out_dir: Path, cache_dir: Path, force: bool
) -> Dict[str, Any]:
    # As `make train` runs it (scripts/train.sh): Rasa's data checks are `make validate`'s.
    command = [str(VENV_BIN / "rasa"), "train", "--config", str(config), "--domain", "domain.yml",
               "--data", str(data_dir), "--out", str(out_dir), "--fixed-model-name", "benchmark",
               "--skip-validation"]
    if force:
        command.append("--force")
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=PROJECT_DIR, env=rasa_env({"RASA_CACHE_DIRECTORY": str(cache_dir)}),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    seconds = round(time.monotonic() - started, 1)
    if completed.returncode != 0:
        raise RuntimeError(f"rasa train failed: {completed.stdout[-2000:]}")
    restored = sorted(re.findall(r"Restored component '(\w+)' from cache", completed.stdout))
    trained = sorted(re.findall(r"Starting to train component '(\w+)'", completed.stdout))
    return {"seconds": seconds, "restored_from_cache": restored, "trained": trained}


def measure_training() -> Dict[str, Any]:
    """Train our assistant from scratch, then again after adding one NLU example.

    Both runs use a copy of data/, an empty Rasa cache and an empty sentence-vector cache in
    a temp dir, as on a fresh clone, so models/clinic.tar.gz and the project's caches stay as
    they are. The second run reuses the first run's caches, as `make train` would after a
    staff member adds one example.
    """
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        data_dir, cache_dir = tmp / "data", tmp / "cache"
        shutil.copytree(PROJECT_DIR / "data", data_dir)
        config = cold_config(tmp)
        print("Training from scratch (empty caches, --force) ...", flush=True)
        scratch = _train(config, data_dir, tmp / "models", cache_dir, force=True)
        change = add_one_example(data_dir)
        print(f"Training again after one new example ({change}) ...", flush=True)
        one_line = _train(config, data_dir, tmp / "models", cache_dir, force=False)
        return {"from_scratch": scratch, "one_line_change": {**one_line, "change": change}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def training_fingerprint() -> str:
    """What training depends on: config, domain, data, the spaCy pipeline and Rasa's version."""
    import hashlib

    import rasa

    digest = hashlib.sha256(rasa.__version__.encode())
    inputs = [PROJECT_DIR / "config.yml", PROJECT_DIR / "domain.yml",
              PROJECT_DIR / "build" / "spacy" / "clinic_en" / "clinic_fingerprint.txt",
              *sorted((PROJECT_DIR / "data").rglob("*.yml"))]
    for path in inputs:
        digest.update(str(path.relative_to(PROJECT_DIR)).encode())
        digest.update(path.read_bytes() if path.exists() else b"missing")
    return digest.hexdigest()


def measure_training_if_changed(record: Path, force: bool = False) -> Dict[str, Any]:
    """measure_training(), unless `record` holds figures for the same training inputs.

    Training takes minutes (most of a benchmark run), so the figures are kept in `record`
    and measured again only when config, domain, data, pipeline or Rasa changed, or if forced.
    """
    fingerprint = training_fingerprint()
    if not force and record.exists():
        previous: Dict[str, Any] = json.loads(record.read_text())
        if previous.get("fingerprint") == fingerprint:
            return {**previous, "reused": True}
    result = {**measure_training(), "fingerprint": fingerprint,
              "measured_at": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(result, indent=2) + "\n")
    return {**result, "reused": False}


def summary_lines(result: Dict[str, Any]) -> List[str]:
    """Human-readable lines for the report."""
    scratch, change = result["from_scratch"], result["one_line_change"]
    return [
        f"from scratch: {scratch['seconds']} s",
        f"after one new NLU example: {change['seconds']} s "
        f"({len(change['restored_from_cache'])} components from cache)",
    ]
