"""Start a bot (action server + Rasa server) on free loopback ports, time it, measure memory."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Optional, Sequence, Union

from clinic import launcher
from clinic.paths import PROJECT_DIR as PROJECT_DIR  # re-exported for the other modules
from clinic.paths import VENV_BIN as VENV_BIN  # re-exported for the other modules

free_port = launcher.free_port


def rasa_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The servers' environment (clinic/launcher.py's table, as scripts/env.sh), plus `extra`."""
    return launcher.environment(extra)


def process_tree(pid: int) -> List[int]:
    """`pid` and all its descendants (Sanic workers, if any)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # The command name in field 2 may contain spaces: split after its closing ")".
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident memory (MB) of `pid` and its descendants; VmHWM gives the peak instead."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


def stop_servers(processes: Sequence[subprocess.Popen], logs: Sequence[IO[str]]) -> None:
    """Stop `processes` (SIGTERM, then SIGKILL after 20 s) and close their `logs`."""
    launcher.stop(processes, logs)


# A log line of level ERROR or CRITICAL, in Rasa's format ("... ERROR    rasa.core...") or
# Sanic's ("[...] [ERROR] ..."), and the first line of a Python traceback.
_ERROR_LINE = re.compile(r"(?:^|[\s\[])(?:ERROR|CRITICAL)(?:[\s\]:]|$)")
TRACEBACK = "Traceback (most recent call last)"


class LogWatch:
    """What servers write to their log files from now on: ERROR lines and tracebacks."""

    def __init__(self, paths: Iterable[Union[str, Path]]) -> None:
        self.paths = [Path(path) for path in paths]
        self.starts = [path.stat().st_size if path.exists() else 0 for path in self.paths]

    @classmethod
    def of(cls, logs: Iterable[IO[str]]) -> LogWatch:
        """A watch on open log files (a RunningBot's, the tests' Servers'), by their names."""
        return cls(log.name for log in logs)

    def written(self) -> List[str]:
        """The lines written since the watch started, each log's in turn."""
        lines: List[str] = []
        for path, start in zip(self.paths, self.starts, strict=True):
            with path.open("rb") as log:
                log.seek(start)
                lines += log.read().decode("utf-8", "replace").splitlines()
        return lines

    def problems(self) -> List[str]:
        """The ERROR (or CRITICAL) lines and the tracebacks' first lines written since."""
        return [line for line in self.written()
                if TRACEBACK in line or _ERROR_LINE.search(line)]


@dataclass
class BotSpec:
    """How to start one bot and talk to it."""

    name: str
    cwd: Path
    model: Path
    # What the visitors say: a benchmark.messages.Conversations, or a list of scripts.
    conversations: Any
    # A message whose answer needs the action server (for ours), to time the cold start.
    first_message: str
    endpoints: Optional[str] = None
    credentials: Optional[str] = None
    rasa_args: Sequence[str] = ()
    uses_tracker_db: bool = False
    env: Dict[str, str] = field(default_factory=dict)
    # How `rasa run` is started: plain, or through a wrapper such as clinic_speedups.
    server_command: Sequence[str] = launcher.PLAIN_SERVER


class RunningBot:
    """One bot's action server and Rasa server, started together."""

    def __init__(self, spec: BotSpec, log_dir: Path) -> None:
        self.spec = spec
        self.rasa_port, self.action_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{spec.name}-"))
        extra = {"ACTION_ENDPOINT_URL": launcher.action_endpoint_url(self.action_port), **spec.env}
        if spec.uses_tracker_db:
            extra["TRACKER_STORE_URL"] = f"sqlite:///{self.tmp / 'tracker.db'}"
            extra["RUN_STATE_DB"] = str(self.tmp / "run-state.sqlite")
        self.env = rasa_env(extra)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.logs = [open(log_dir / f"{spec.name}-{kind}.log", "w") for kind in ("actions", "rasa")]
        rasa_command = launcher.rasa_server_command(
            self.rasa_port, model=spec.model, endpoints=spec.endpoints,
            credentials=spec.credentials, server=spec.server_command, extra=spec.rasa_args,
        )
        self.started = time.monotonic()
        self.actions = launcher.start(
            launcher.action_server_command(self.action_port, self.env), self.env, self.logs[0],
            cwd=spec.cwd,
        )
        self.rasa = launcher.start(rasa_command, self.env, self.logs[1], cwd=spec.cwd)
        self.cold_start_seconds: Optional[float] = None

    def wait_until_answering(self, timeout: float = 300) -> float:
        """Seconds from process start to the first turn answered with the action server up."""
        deadline = self.started + timeout
        actions_up = False
        while time.monotonic() < deadline:
            for process, what in ((self.rasa, "Rasa server"), (self.actions, "action server")):
                if process.poll() is not None:
                    raise RuntimeError(f"the {self.spec.name} {what} exited early, see its log")
            actions_up = actions_up or launcher.answers(
                f"http://127.0.0.1:{self.action_port}/health")
            if actions_up and self.say(self.spec.first_message, "coldstart-" + uuid.uuid4().hex):
                self.cold_start_seconds = round(time.monotonic() - self.started, 1)
                return self.cold_start_seconds
            time.sleep(0.25)
        raise TimeoutError(f"the {self.spec.name} bot did not answer within {timeout:.0f} s")

    def say(self, text: str, sender: str) -> list:
        """One REST turn; the bot's replies, or [] if it did not answer."""
        request = urllib.request.Request(
            self.url + "/webhooks/rest/webhook",
            data=json.dumps({"sender": sender, "message": text}).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                replies = json.loads(response.read())
                return replies if isinstance(replies, list) else []
        except (OSError, urllib.error.URLError, ValueError):
            return []

    def memory_mb(self) -> Dict[str, float]:
        """Current and peak RSS of the Rasa server and of the action server, in MB."""
        return {
            "rasa_rss_mb": rss_mb(self.rasa.pid),
            "rasa_peak_rss_mb": rss_mb(self.rasa.pid, "VmHWM"),
            "actions_rss_mb": rss_mb(self.actions.pid),
            "actions_peak_rss_mb": rss_mb(self.actions.pid, "VmHWM"),
        }

    def stop(self) -> None:
        """Stop both servers (SIGTERM, then SIGKILL after 20 s) and close the logs."""
        stop_servers((self.rasa, self.actions), self.logs)
