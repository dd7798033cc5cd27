"""Test and publish: a new version of the assistant goes live only after it passed the safety gate.

    publish(project, on_progress, server_url=..., token=..., published_by="Ana")
    restore_previous(project, on_progress, server_url=..., token=..., restored_by="Ana")
    model_versions(project)      # the current and the previous version: when, by whom

`publish` runs five steps and stops at the first that fails, saying in staff words which step
failed and what to do; a model that failed is never loaded:

1. `check`: the assistant's server answers; the data checks (`staff_tools.check_data`, then
   `scripts/validate.sh`, as `make validate`: settings, crisis patterns, Rasa's own check);
2. `train`: the same steps as `scripts/train.sh`, but into a candidate file
   (var/publish/candidate.tar.gz); models/clinic.tar.gz is not touched;
3. `gate`: the safety gate on the candidate, in its own processes (never the live server):
   `python -m evaluation.gate` (the crisis regression cases at 100%, the topic buttons, the
   evaluation floors of evaluation/floors.py, which tests/test_heldout_evaluation.py checks
   too), then the test stories (`rasa test core --stories tests/test_stories.yml
   --fail-on-prediction-errors`, as `make test`);
4. `keep`: the live model becomes the previous one (models/previous/clinic.tar.gz, with
   clinic.json: when it was trained and published, by whom), the candidate becomes
   models/clinic.tar.gz (with models/clinic.json);
5. `load`: the running server loads it (`PUT /model`, staff_tools.reload): conversations are
   kept. If the server does not take it, the files are put back as they were.

`restore_previous` swaps the current and the previous version and loads the one restored (a
second restore swaps back). One publish or restore at a time (a lock file in var/publish/);
every run writes its whole output to var/publish/logs/. The steps that train and test are
`Steps`: tests replace them with fakes. Each function blocks until done (minutes): the console
runs it in a thread and shows the `Progress` it reports.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import (
    IO,
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
)

from clinic.launcher import environment
from staff_tools import reload
from staff_tools.check_data import check_project
from staff_tools.history import head_commit

# The steps, in order, with their names as the console shows them.
PUBLISH_STEPS: Dict[str, str] = {
    "check": "Check the data",
    "train": "Train the new version",
    "gate": "Safety tests",
    "keep": "Keep the current version",
    "load": "Put the new version live",
}
RESTORE_STEPS: Dict[str, str] = {
    "restore": "Put the previous version back",
    "load": "Load it into the assistant",
}
BUSY = "busy"  # PublishResult.failed_step when another publish or restore is running

MODEL_NAME = "clinic"
CANDIDATE_NAME = "candidate"
RECORD_SUFFIX = ".json"
PIPELINE_STAMP = Path("build/spacy/clinic_en/clinic_fingerprint.txt")
MODEL_STAMP = Path("models/.pipeline_fingerprint")  # as scripts/train.sh writes it
TRAINING_RECORD = Path("models/training.json")  # as scripts/train.sh writes it
GATE_MARKER = "GATE "  # evaluation/gate.py's progress and result lines
TEST_STORIES = "tests/test_stories.yml"
TIMEOUTS = {"validate": 600, "pipeline": 900, "train": 3600, "gate": 3600, "stories": 1800}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# ---- what the console gets ---------------------------------------------------------------

@dataclass(frozen=True)
class Progress:
    """One line of progress: a step started (finished False), moved on, or ended (ok)."""

    step: str  # a key of PUBLISH_STEPS or RESTORE_STEPS
    message: str  # in staff words
    finished: bool
    ok: Optional[bool]  # None while the step runs


@dataclass(frozen=True)
class ModelVersion:
    """A trained model the assistant answers (or answered) with."""

    which: str  # "current" or "previous"
    path: Path
    trained_at: datetime
    published_at: Optional[datetime]  # None: trained in a terminal (make train, make run)
    published_by: Optional[str]
    data_commit: Optional[str]  # the history's last change when it was trained
    figures: Dict[str, float] = field(default_factory=dict)  # the safety gate's figures
    restored_at: Optional[datetime] = None
    restored_by: Optional[str] = None
    size_mb: float = 0.0


@dataclass(frozen=True)
class PublishResult:
    """How a publish or restore ended."""

    ok: bool
    message: str  # staff words: what happened and what to do next
    failed_step: Optional[str] = None  # the step that failed, BUSY, or None when ok
    details: List[str] = field(default_factory=list)  # the problems found, one per line
    log: Optional[Path] = None
    version: Optional[ModelVersion] = None  # the version live now, when ok
    seconds: float = 0.0


class StepFailed(Exception):
    """A step did not pass: the message and details are in staff words."""

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


# ---- the steps -----------------------------------------------------------------------------

@dataclass
class Run:
    """What a step gets: the project, where the candidate goes, the log and a progress line."""

    project: Path
    candidate: Path
    work: Path  # var/publish
    log: IO[str]
    say: Callable[[str], None]


@dataclass(frozen=True)
class Steps:
    """The steps that check, train, test and load; each raises `StepFailed` to stop."""

    check_server: Callable[[str, str], None]  # (server_url, token)
    check_data: Callable[[Run], str]  # returns a one-line summary
    train: Callable[[Run], Dict[str, Any]]  # trains run.candidate; returns the training record
    safety_gate: Callable[[Run], Dict[str, float]]  # returns the gate's figures
    load_model: Callable[[str, str, Path], None]  # (server_url, token, model file)


def _paths(project: Path) -> Dict[str, Path]:
    models = project / "models"
    work = project / "var" / "publish"
    return {
        "models": models,
        "current": models / f"{MODEL_NAME}.tar.gz",
        "previous_dir": models / "previous",
        "backup": models / ".previous-before-publish",
        "work": work,
        "candidate": work / f"{CANDIDATE_NAME}.tar.gz",
        "logs": work / "logs",
        "lock": work / "lock",
    }


def _record_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + RECORD_SUFFIX)


def _python(project: Path) -> str:
    return str(project / ".venv" / "bin" / "python")


def _rasa(project: Path) -> str:
    return os.environ.get("RASA") or str(project / ".venv" / "bin" / "rasa")


# The commands running now (training, the gate), so that a console that stops stops them too.
_RUNNING: Set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()


def stop_running_commands() -> int:
    """Stop every training or gate command still running (the console is stopping)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        process.kill()
    return len(running)


def run_command(
    run: Run, command: Sequence[str], timeout: float,
    on_line: Optional[Callable[[str], None]] = None,
) -> Tuple[int, List[str]]:
    """Run `command` in the project folder, its output to the log; (exit code, last lines)."""
    run.log.write(f"$ {' '.join(command)}\n")
    run.log.flush()
    # The servers' environment (private and offline: no telemetry, no model downloads).
    env = environment({"PYTHONPATH": str(run.project), "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen(
        list(command), cwd=run.project, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, errors="replace",
    )
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    watchdog = threading.Timer(timeout, process.kill)
    watchdog.start()
    tail: Deque[str] = deque(maxlen=40)
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = ANSI.sub("", raw.rstrip("\n"))
            run.log.write(line + "\n")
            tail.append(line)
            if on_line is not None:
                on_line(line)
        code = process.wait()
    finally:
        watchdog.cancel()
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
        run.log.flush()
    if code < 0:
        tail.append(f"(stopped after {timeout:.0f} s)")
    return code, list(tail)


def _shown_tail(tail: Sequence[str], lines: int = 8) -> List[str]:
    meaningful = [line.strip() for line in tail if line.strip() and not line.startswith("$ ")]
    return meaningful[-lines:]


def check_server(server_url: str, token: str) -> None:
    """The assistant's server answers and takes the token."""
    try:
        reload.server_status(server_url, token)
    except reload.ReloadError as error:
        raise StepFailed(_server_words(error)) from None


def check_data(run: Run) -> str:
    """The staff data checks, then `scripts/validate.sh` (as `make validate`)."""
    report = check_project(run.project)
    if not report.ok:
        count = len(report.problems)
        raise StepFailed(
            f"The data has {count} problem{'s' if count > 1 else ''} to fix first (listed "
            "below, each with how to fix it). Nothing was changed; publish again once fixed.",
            [str(problem) for problem in report.problems],
        )
    run.say(report.summary())
    run.say("Running the full check (settings, crisis phrases, Rasa's own check of the data)")
    code, tail = run_command(run, [str(run.project / "scripts" / "validate.sh")],
                             TIMEOUTS["validate"])
    if code != 0:
        raise StepFailed(
            "The full check (settings, crisis phrases, Rasa's own check of the data) found a "
            "problem the console's check did not (see below). Nothing was changed. If the "
            "lines below do not say what to fix, ask a developer to look at the log, "
            f"{run.log.name}.", _shown_tail(tail),
        )
    return "The data passed every check"


def train_candidate(run: Run) -> Dict[str, Any]:
    """The steps of scripts/train.sh, into `run.candidate`; the live model is not touched.

    The pipeline stamp and training figures that train.sh writes into models/ are returned
    instead (they go into models/ when the model goes live).
    """
    project = run.project
    code, tail = run_command(run, [_python(project), "-m", "clinic_nlp.pipeline"],
                             TIMEOUTS["pipeline"])
    if code != 0:
        raise StepFailed(_developer_words("The language pipeline could not be built", run),
                         _shown_tail(tail))
    stamp = project / PIPELINE_STAMP
    fingerprint = stamp.read_text(encoding="utf-8") if stamp.is_file() else ""
    live_stamp = project / MODEL_STAMP
    from_scratch = not fingerprint or not live_stamp.is_file() or (
        live_stamp.read_text(encoding="utf-8") != fingerprint)
    if from_scratch:
        # Rasa's cache knows the pipeline by its path only: a changed pipeline or crisis
        # patterns retrain everything (scripts/train.sh does the same).
        run.say("The crisis phrases or word lists changed: training everything (a few minutes)")
        code, tail = run_command(run, [_python(project), "-m", "clinic_nlp.crisis_rules"],
                                 TIMEOUTS["pipeline"])
        if code != 0:
            raise StepFailed("The crisis phrases (patterns/crisis.yml) cannot be read: "
                             "fix the file as the lines below say, then publish again.",
                             _shown_tail(tail))
    run.candidate.unlink(missing_ok=True)
    counts = {"trained": 0}

    def on_line(line: str) -> None:
        if "Finished training component" in line:
            counts["trained"] += 1
            run.say(f"Training: {counts['trained']} part{'s' if counts['trained'] > 1 else ''}"
                    " of the model trained")

    started = time.monotonic()
    command = [
        _rasa(project), "train", "--skip-validation", "--fixed-model-name", CANDIDATE_NAME,
        "--out", str(run.candidate.parent), *(["--force"] if from_scratch else []),
    ]
    code, tail = run_command(run, command, TIMEOUTS["train"], on_line)
    if code != 0 or not run.candidate.is_file():
        raise StepFailed(_developer_words("Training did not finish", run), _shown_tail(tail))
    return {
        "seconds": round(time.monotonic() - started),
        "from_scratch": from_scratch,
        "components_trained": counts["trained"],
        "pipeline_fingerprint": fingerprint,
    }


GATE_FAILURES = {
    "crisis": (
        "The new version failed a crisis safety test, so it was not put live; the assistant "
        "keeps answering as before. A recent change to the examples is the likely cause (for "
        "example an example that reads like a crisis message, added to a topic): look at the "
        "latest changes in History, undo or fix the one that did it, then publish again."
    ),
    "buttons": (
        "With the new version a topic button no longer gets its own answer (below), so it was "
        "not put live. Check that topic's examples and the examples recently added to other "
        "topics (History), then publish again."
    ),
    "heldout": (
        "The new version answers the test questions less well than the minimum required "
        "(below), so it was not put live. A recent change to the examples is the likely cause "
        "(History). If you cannot find it, ask a developer: the full report is in "
        "var/publish/gate/report.md."
    ),
    "dev_sets": (
        "The new version answers the earlier test rounds less well than the minimum required "
        "(below), so it was not put live. A recent change to the examples is the likely cause "
        "(History); if you cannot find it, ask a developer."
    ),
}


def safety_gate(run: Run) -> Dict[str, float]:
    """`python -m evaluation.gate` on the candidate, then the test stories."""
    project = run.project
    results: List[Dict[str, Any]] = []

    def on_line(line: str) -> None:
        if line.startswith(GATE_MARKER):
            payload = json.loads(line[len(GATE_MARKER):])
            if "say" in payload:
                run.say(str(payload["say"]))
            if "result" in payload:
                results.append(payload["result"])

    code, tail = run_command(
        run, [_python(project), "-m", "evaluation.gate", "--model", str(run.candidate),
              "--out", str(run.work / "gate")], TIMEOUTS["gate"], on_line,
    )
    if not results:
        raise StepFailed(_developer_words("The safety tests could not run", run),
                         _shown_tail(tail))
    result = results[-1]
    if not result.get("ok"):
        stage = str(result.get("stage"))
        raise StepFailed(GATE_FAILURES.get(stage, GATE_FAILURES["heldout"]),
                         [str(line) for line in result.get("failures") or []])
    figures = {str(k): float(v) for k, v in (result.get("figures") or {}).items()}

    run.say("Playing the test conversations (tests/test_stories.yml)")
    out = run.work / "test_stories"
    shutil.rmtree(out, ignore_errors=True)
    code, tail = run_command(
        run, [_rasa(project), "test", "core", "--model", str(run.candidate), "--stories",
              TEST_STORIES, "--out", str(out), "--fail-on-prediction-errors", "--quiet"],
        TIMEOUTS["stories"],
    )
    if code != 0:
        names = failed_story_names(tail, out)
        if not names:
            raise StepFailed(_developer_words("The test conversations could not be played", run),
                             _shown_tail(tail))
        raise StepFailed(
            "The new version did not follow a test conversation (below), so it was not put "
            "live. A recent change to the examples is the likely cause (History); if you "
            "cannot find it, ask a developer.", [f"Test conversation “{name}”" for name in names],
        )
    return figures


def failed_story_names(output: Sequence[str], out_dir: Path) -> List[str]:
    """The names of the test stories that failed, from Rasa's output or its failed stories."""
    names = [match.group(1).strip() for line in output
             if (match := re.match(r"\s*- story:\s*(.+)$", line))]
    failed = out_dir / "failed_test_stories.yml"
    if failed.is_file():
        names += [match.group(1).strip() for line in failed.read_text("utf-8").splitlines()
                  if (match := re.match(r"\s*- story:\s*(.+)$", line))]
    return list(dict.fromkeys(names))


def load_model(server_url: str, token: str, model: Path) -> None:
    """The running server loads `model` (PUT /model); conversations are kept."""
    try:
        reload.reload_model(server_url, model, token)
    except reload.ReloadError as error:
        raise StepFailed(_server_words(error)) from None


def _server_words(error: reload.ReloadError) -> str:
    if error.reason == reload.NOT_RUNNING:
        return ("The assistant is not running, so no version can be put live. Start it (`make "
                "run`, or ask whoever looks after the server), then try again.")
    if error.reason == reload.REFUSED_TOKEN:
        return ("The assistant refused the console's access token, so the console cannot "
                "change its version. A developer must give the console the server's token.")
    if error.reason == reload.TIMEOUT:
        return "The assistant did not answer in time. Wait a minute, then try again."
    return f"The assistant could not load the model: {error}."


def _developer_words(what: str, run: Run) -> str:
    return (f"{what}. Nothing was changed: the assistant keeps answering as before. This is "
            f"not a problem with the data; ask a developer to look at the log, {run.log.name}.")


REAL_STEPS = Steps(
    check_server=check_server, check_data=check_data, train=train_candidate,
    safety_gate=safety_gate, load_model=load_model,
)


# ---- the model files -----------------------------------------------------------------------

def _now() -> datetime:
    return datetime.now(timezone.utc)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_record(model: Path) -> Dict[str, Any]:
    """The model's record (clinic.json beside it), or what the file itself tells.

    A model trained in a terminal (make train) has no record, or one of an earlier file.
    """
    record_file = _record_path(model)
    if record_file.is_file():
        try:
            record = dict(json.loads(record_file.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            record = {}
        if record.get("sha256") == _sha256(model):
            return record
    trained = datetime.fromtimestamp(model.stat().st_mtime, timezone.utc)
    record = {"trained_at": trained.isoformat(), "sha256": _sha256(model)}
    training = model.parent / TRAINING_RECORD.name
    stamp = model.parent / MODEL_STAMP.name
    if model.parent.name == "models" and training.is_file():
        try:
            record["training"] = json.loads(training.read_text(encoding="utf-8"))
        except ValueError:
            pass
    if model.parent.name == "models" and stamp.is_file():
        record["pipeline_fingerprint"] = stamp.read_text(encoding="utf-8")
    return record


def _write_record(model: Path, record: Dict[str, Any]) -> None:
    _atomic_write(_record_path(model), json.dumps(record, indent=2) + "\n")


def _atomic_write(path: Path, text: str) -> None:
    incoming = path.with_name(f".{path.name}.incoming")
    incoming.write_text(text, encoding="utf-8")
    os.replace(incoming, path)


def _install_stamps(project: Path, record: Dict[str, Any]) -> None:
    """models/.pipeline_fingerprint and models/training.json for the model now current."""
    stamp = project / MODEL_STAMP
    if record.get("pipeline_fingerprint"):
        _atomic_write(stamp, str(record["pipeline_fingerprint"]))
    else:
        stamp.unlink(missing_ok=True)  # unknown: scripts/train.sh will retrain from scratch
    if record.get("training"):
        _atomic_write(project / TRAINING_RECORD, json.dumps(record["training"]) + "\n")


def _move_model(source: Path, target: Path) -> None:
    """Move a model and its record (same file system: a rename)."""
    os.replace(source, target)
    if _record_path(source).is_file():
        os.replace(_record_path(source), _record_path(target))
    else:
        _record_path(target).unlink(missing_ok=True)


def _keep_current_and_install(project: Path, candidate: Path, record: Dict[str, Any]) -> None:
    """The live model becomes the previous one; the candidate becomes models/clinic.tar.gz."""
    paths = _paths(project)
    current, previous_dir, backup = paths["current"], paths["previous_dir"], paths["backup"]
    current.parent.mkdir(parents=True, exist_ok=True)
    # The slow copy first, so that from here on only renames happen.
    incoming = current.with_name(f".{current.name}.incoming")
    shutil.copy2(candidate, incoming)
    if current.is_file():
        _write_record(current, _read_record(current))
    shutil.rmtree(backup, ignore_errors=True)
    if previous_dir.exists():
        os.replace(previous_dir, backup)
    previous_dir.mkdir()
    if current.is_file():
        _move_model(current, previous_dir / current.name)
    os.replace(incoming, current)
    candidate.unlink()
    _write_record(current, {**record, "sha256": _sha256(current)})
    _install_stamps(project, record)


def _put_back_after_failed_load(project: Path) -> None:
    """Undo `_keep_current_and_install`: the previous model is current again."""
    paths = _paths(project)
    current, previous_dir, backup = paths["current"], paths["previous_dir"], paths["backup"]
    kept = previous_dir / current.name
    if kept.is_file():
        _move_model(current, paths["candidate"])
        _move_model(kept, current)
        _install_stamps(project, _read_record(current))
    shutil.rmtree(previous_dir, ignore_errors=True)
    if backup.exists():
        os.replace(backup, previous_dir)


def _swap_current_and_previous(project: Path) -> None:
    paths = _paths(project)
    current, previous = paths["current"], paths["previous_dir"] / paths["current"].name
    _write_record(current, _read_record(current))
    _write_record(previous, _read_record(previous))
    parked = current.with_name(f".{current.name}.swap")
    _move_model(current, parked)
    _move_model(previous, current)
    _move_model(parked, previous)
    _install_stamps(project, _read_record(current))


def _version(which: str, model: Path) -> ModelVersion:
    record = _read_record(model)

    def when(key: str) -> Optional[datetime]:
        return datetime.fromisoformat(record[key]) if record.get(key) else None

    trained = when("trained_at") or datetime.fromtimestamp(model.stat().st_mtime, timezone.utc)
    return ModelVersion(
        which=which, path=model, trained_at=trained, published_at=when("published_at"),
        published_by=record.get("published_by"), data_commit=record.get("data_commit"),
        figures=dict(record.get("figures") or {}), restored_at=when("restored_at"),
        restored_by=record.get("restored_by"),
        size_mb=round(model.stat().st_size / 1e6, 1),
    )


def model_versions(project: Path) -> List[ModelVersion]:
    """The current version and the previous one (if kept), when trained, published, by whom."""
    paths = _paths(project)
    versions = []
    previous = paths["previous_dir"] / paths["current"].name
    for which, model in (("current", paths["current"]), ("previous", previous)):
        try:
            versions.append(_version(which, model))
        except FileNotFoundError:  # none kept, or a restore is swapping the two right now
            continue
    return versions


# ---- running it ----------------------------------------------------------------------------

class _Busy(Exception):
    pass


@contextmanager
def _locked(project: Path, what: str, who: str) -> Iterator[None]:
    """One publish or restore at a time, across threads and processes."""
    lock = _paths(project)["lock"]
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise _Busy(handle.read().strip()) from None
        try:
            handle.truncate(0)
            handle.write(f"{what} started by {who or 'someone'} at "
                         f"{datetime.now().strftime('%H:%M')}")
            handle.flush()
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Reporter:
    """Sends Progress to the console and writes it to the log."""

    def __init__(self, on_progress: Callable[[Progress], None], log: IO[str]) -> None:
        self.on_progress, self.log, self.step = on_progress, log, ""

    def _send(self, message: str, finished: bool, ok: Optional[bool]) -> None:
        self.log.write(f"[{datetime.now().strftime('%H:%M:%S')}] {self.step}: {message}\n")
        self.log.flush()
        self.on_progress(Progress(self.step, message, finished, ok))

    def start(self, step: str, message: str) -> None:
        self.step = step
        self._send(message, False, None)

    def say(self, message: str) -> None:
        self._send(message, False, None)

    def done(self, message: str) -> None:
        self._send(message, True, True)

    def failed(self, message: str) -> None:
        self._send(message, True, False)


def _log_file(project: Path, what: str) -> Path:
    logs = _paths(project)["logs"]
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"{what}-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.log"


def _busy_result(holder: str, started: float) -> PublishResult:
    return PublishResult(
        False, f"Another publish or restore is running ({holder or 'started just now'}). "
        "Wait for it to finish, then try again.", BUSY, seconds=time.monotonic() - started,
    )


def _run_job(
    project: Path,
    kind: str,
    who: str,
    on_progress: Callable[[Progress], None],
    body: Callable[[_Reporter, IO[str]], ModelVersion],
    *,
    succeeded: str,
    unexpected: str,
) -> PublishResult:
    """Run `body` (a publish or a restore: `kind`) under the lock, with its own log file.

    `body` reports its steps and returns the version live at the end; a `StepFailed` it raises
    is said to staff as it is, any other error as `unexpected` (formatted with `error` and
    `log`, the log file, which gets the traceback). Another job running: a `BUSY` result.
    """
    started = time.monotonic()
    try:
        with _locked(project, f"A {kind}", who):
            log_path = _log_file(project, kind)
            with log_path.open("w", encoding="utf-8") as log:
                reporter = _Reporter(on_progress, log)
                try:
                    version = body(reporter, log)
                except StepFailed as failure:
                    reporter.failed(failure.message)
                    return PublishResult(False, failure.message, reporter.step,
                                         failure.details, log_path,
                                         seconds=time.monotonic() - started)
                except Exception as error:  # said to staff; the traceback goes to the log
                    log.write(traceback.format_exc())
                    message = unexpected.format(error=error, log=log_path)
                    reporter.failed(message)
                    return PublishResult(False, message, reporter.step, [], log_path,
                                         seconds=time.monotonic() - started)
    except _Busy as busy:
        return _busy_result(str(busy), started)
    return PublishResult(True, succeeded, None, [], log_path, version,
                         time.monotonic() - started)


def publish(
    project: Path,
    on_progress: Callable[[Progress], None],
    *,
    server_url: str,
    token: str,
    published_by: str = "",
    steps: Optional[Steps] = None,
) -> PublishResult:
    """Check, train, test and, only if every test passed, put the new version live."""
    chosen = steps or REAL_STEPS
    paths = _paths(project)

    def body(reporter: _Reporter, log: IO[str]) -> ModelVersion:
        run = Run(project, paths["candidate"], paths["work"], log, reporter.say)
        return _publish_steps(project, run, reporter, chosen, server_url, token, published_by)

    return _run_job(
        project, "publish", published_by, on_progress, body,
        succeeded="Published: the assistant now answers with the new version, and no "
        "conversation was interrupted. The previous version is kept: “Restore previous” puts "
        "it back.",
        unexpected="Something unexpected went wrong ({error}). The assistant keeps answering "
        "as before; ask a developer to look at the log, {log}.",
    )


def _publish_steps(
    project: Path, run: Run, reporter: _Reporter, steps: Steps, server_url: str, token: str,
    published_by: str,
) -> ModelVersion:
    reporter.start("check", "Checking the training data, answers and settings")
    steps.check_server(server_url, token)
    data_commit = head_commit(project)
    summary = steps.check_data(run)
    reporter.done(summary or "The data is ready")

    reporter.start("train", "Training the new version (usually a minute or two)")
    trained_at = _now()
    training = steps.train(run)
    if not run.candidate.is_file():
        raise StepFailed(_developer_words("Training left no model", run))
    reporter.done(f"Trained in {training.get('seconds', '?')} s")

    reporter.start("gate", "Testing the new version before anyone talks to it (a few minutes)")
    figures = steps.safety_gate(run)
    reporter.done("Passed every safety test")

    reporter.start("keep", "Keeping the current version, so it can be put back")
    record = {
        "trained_at": trained_at.isoformat(), "published_at": _now().isoformat(),
        "published_by": published_by or None, "data_commit": data_commit,
        "figures": figures, "pipeline_fingerprint": training.get("pipeline_fingerprint", ""),
        "training": {k: training[k] for k in ("seconds", "from_scratch", "components_trained")
                     if k in training},
    }
    _keep_current_and_install(project, run.candidate, record)
    reporter.done("The version that was live is kept as the previous one")

    reporter.start("load", "Putting the new version live (conversations carry on)")
    current = _paths(project)["current"]
    try:
        steps.load_model(server_url, token, current)
    except BaseException as error:
        _put_back_after_failed_load(project)
        if isinstance(error, StepFailed):
            raise StepFailed(
                f"The new version passed every test, but the assistant did not load it: "
                f"{error.message} The assistant keeps answering with the version it had.",
                error.details,
            ) from None
        raise
    shutil.rmtree(_paths(project)["backup"], ignore_errors=True)
    reporter.done("The assistant now answers with the new version")
    return _version("current", current)


def restore_previous(
    project: Path,
    on_progress: Callable[[Progress], None],
    *,
    server_url: str,
    token: str,
    restored_by: str = "",
    steps: Optional[Steps] = None,
) -> PublishResult:
    """Put the previous version back (it swaps with the current one) and load it."""
    chosen = steps or REAL_STEPS
    paths = _paths(project)

    def body(reporter: _Reporter, log: IO[str]) -> ModelVersion:
        reporter.start("restore", "Putting the previous version back")
        previous = paths["previous_dir"] / paths["current"].name
        if not previous.is_file() or not paths["current"].is_file():
            raise StepFailed("There is no previous version to put back.")
        chosen.check_server(server_url, token)
        _swap_current_and_previous(project)
        reporter.done("The previous version is the current one again")
        reporter.start("load", "Loading it into the assistant (conversations carry on)")
        try:
            chosen.load_model(server_url, token, paths["current"])
        except BaseException as error:
            _swap_current_and_previous(project)
            if isinstance(error, StepFailed):
                raise StepFailed(
                    f"{error.message} Nothing was changed: the assistant keeps its version.",
                    error.details,
                ) from None
            raise
        record = _read_record(paths["current"])
        record.update(restored_at=_now().isoformat(), restored_by=restored_by or None)
        _write_record(paths["current"], record)
        reporter.done("The assistant now answers with the previous version")
        return _version("current", paths["current"])

    return _run_job(
        project, "restore", restored_by, on_progress, body,
        succeeded="Restored: the assistant answers with the previous version again. “Restore "
        "previous” once more goes back to the version you just replaced.",
        unexpected="Something unexpected went wrong ({error}); ask a developer to look at the "
        "log, {log}.",
    )
