"""Test and publish: one button runs staff_tools.publish in the background.

The page shows its progress (polling `/api/publish/status`), the live and the previous
version, and a button that restores the previous one.
"""

from __future__ import annotations

from typing import Any, Dict

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json

from staff_console.jobs import Job, Jobs
from staff_console.web import Console, account_of, blocking, console_of, render, see_other
from staff_tools.history import list_changes
from staff_tools.publish import (
    PUBLISH_STEPS,
    RESTORE_STEPS,
    model_versions,
    publish,
    restore_previous,
)

blueprint = Blueprint("publish")


def jobs_of(console: Console) -> Jobs:
    """The console's publish jobs (created on first use)."""
    return console.extras.setdefault("jobs", Jobs())


def _unpublished(console: Console, versions: list) -> int:
    """How many saved changes the live version does not have yet (0 if unknown)."""
    current = next((v for v in versions if v.which == "current"), None)
    if current is None or not current.data_commit:
        return 0
    try:
        changes = list_changes(console.config.project, limit=100)
    except Exception:
        return 0
    shas = [change.sha for change in changes]
    return shas.index(current.data_commit) if current.data_commit in shas else 0


def _view(console: Console) -> Dict[str, Any]:
    versions = model_versions(console.config.project)
    return {"versions": {v.which: v for v in versions},
            "unpublished": _unpublished(console, versions),
            "job": jobs_of(console).current,
            "activity": console.activity("publish", 10) + console.activity("restore", 10)}


@blueprint.get("/publish")
async def publish_page(request: Request) -> HTTPResponse:
    """The publish button, its progress, and the versions."""
    view = await blocking(_view, console_of(request))
    view["activity"] = sorted(view["activity"], key=lambda a: -a["at"])[:10]
    return render(request, "publish.html", title="Test and publish", **view)


def _record(console: Console) -> Any:
    def done(job: Job) -> None:
        outcome = "done" if job.ok else "failed"
        console.record(job.started_by, f"{job.kind}: {outcome}")
    return done


@blueprint.post("/publish/start")
async def publish_start(request: Request) -> HTTPResponse:
    """Start a publish (if none is running)."""
    console = console_of(request)
    account = account_of(request)
    config = console.config
    token = await blocking(config.token)

    def work(on_progress: Any) -> Any:
        return publish(config.project, on_progress, server_url=config.rasa_url, token=token,
                       published_by=account.name)

    jobs_of(console).start("publish", account.name, PUBLISH_STEPS, work, _record(console))
    return see_other("/publish")


@blueprint.post("/publish/restore")
async def publish_restore(request: Request) -> HTTPResponse:
    """Put the previous version back (if nothing is running)."""
    console = console_of(request)
    account = account_of(request)
    config = console.config
    token = await blocking(config.token)

    def work(on_progress: Any) -> Any:
        return restore_previous(config.project, on_progress, server_url=config.rasa_url,
                                token=token, restored_by=account.name)

    jobs_of(console).start("restore", account.name, RESTORE_STEPS, work, _record(console))
    return see_other("/publish")


@blueprint.get("/api/publish/status")
async def publish_status(request: Request) -> HTTPResponse:
    """The running (or last) publish or restore, for the page's progress."""
    job = jobs_of(console_of(request)).current
    return json({"job": job.as_json() if job else None})
