"""Publishing and restoring in the background, with the progress a page can poll.

staff_tools.publish blocks for minutes: it runs in a thread of its own, never on the server's
event loop, and reports `Progress`, which is kept here for `/api/publish/status`. One job at
a time in this process (staff_tools.publish also refuses a second across processes).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional

from staff_tools.publish import Progress, PublishResult

LOG = logging.getLogger("staff_console")


@dataclass
class Step:
    """One step as the page shows it."""

    key: str
    name: str
    state: str = "waiting"  # waiting, running, done, failed
    message: str = ""


@dataclass
class Job:
    """A publish or a restore: who started it, its steps, how it ended."""

    kind: str  # "publish" or "restore"
    started_by: str
    steps: List[Step]
    started_at: float = field(default_factory=time.time)
    finished: bool = False
    ok: Optional[bool] = None
    message: str = ""
    details: List[str] = field(default_factory=list)

    def on_progress(self, progress: Progress) -> None:
        """Note a step's progress (called from the job's thread)."""
        step = next((s for s in self.steps if s.key == progress.step), None)
        if step is None:
            step = Step(progress.step, progress.step)
            self.steps.append(step)
        step.message = progress.message
        step.state = ("running" if not progress.finished
                      else "done" if progress.ok else "failed")

    def as_json(self) -> Dict[str, Any]:
        """What `/api/publish/status` answers."""
        return {"kind": self.kind, "started_by": self.started_by,
                "started_at": self.started_at, "finished": self.finished, "ok": self.ok,
                "message": self.message, "details": self.details,
                "steps": [vars(step) for step in self.steps]}


class Jobs:
    """The current (or last) job of this console process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: Optional[Job] = None

    def running(self) -> bool:
        """Whether a job is running now."""
        return self.current is not None and not self.current.finished

    def start(self, kind: str, who: str, steps: Mapping[str, str],
              work: Callable[[Callable[[Progress], None]], PublishResult],
              when_done: Optional[Callable[[Job], None]] = None) -> bool:
        """Start `work(on_progress)` in a thread; False if a job is running already."""
        with self._lock:
            if self.running():
                return False
            job = Job(kind, who, [Step(key, name) for key, name in steps.items()])
            self.current = job
        thread = threading.Thread(target=self._run, args=(job, work, when_done),
                                  name=f"console-{kind}", daemon=True)
        thread.start()
        return True

    @staticmethod
    def _run(job: Job, work: Callable[[Callable[[Progress], None]], PublishResult],
             when_done: Optional[Callable[[Job], None]]) -> None:
        try:
            result = work(job.on_progress)
            job.ok, job.message, job.details = result.ok, result.message, list(result.details)
        except Exception as error:  # the page must never wait for ever
            LOG.exception("the %s failed", job.kind)
            job.ok, job.message = False, (f"Something unexpected went wrong ({error}). The "
                                          "assistant keeps answering as before; tell a "
                                          "developer.")
        for step in job.steps:
            if step.state == "running":
                step.state = "failed" if not job.ok else "done"
        job.finished = True
        if when_done is not None:
            try:
                when_done(job)
            except Exception:
                LOG.exception("after the %s", job.kind)
