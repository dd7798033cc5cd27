"""History: every saved change (a git commit), who made it, in plain words; undo any of them."""

from __future__ import annotations

from typing import Any, Dict, List

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from staff_console.accounts import Account
from staff_console.web import Console, account_of, blocking, console_of, render, see_other
from staff_tools.history import Change, HistoryError, list_changes, undo_change

blueprint = Blueprint("history")
SHOWN = 50


def _changes(console: Console) -> Dict[str, Any]:
    try:
        changes: List[Change] = list_changes(console.config.project, limit=SHOWN)
    except HistoryError as error:
        return {"changes": [], "message": str(error)}
    return {"changes": changes, "message": ""}


@blueprint.get("/history")
async def history_page(request: Request) -> HTTPResponse:
    """The latest changes, newest first."""
    view = await blocking(_changes, console_of(request))
    return render(request, "history.html", title="History", error="", **view)


def _undo(console: Console, sha: str, account: Account) -> str:
    with console.edit_lock:
        undo_change(console.config.project, sha, account.name, account.email)
    console.record(account.name, f"undid change {sha[:12]}")
    return ""


@blueprint.post("/history/<sha>/undo")
async def history_undo(request: Request, sha: str) -> HTTPResponse:
    """Undo one change (a new change that takes it back)."""
    console = console_of(request)
    if not sha.isalnum() or len(sha) > 64:
        return see_other("/history")
    try:
        await blocking(_undo, console, sha, account_of(request))
    except HistoryError as error:
        view = await blocking(_changes, console)
        return render(request, "history.html", status=409, title="History",
                      error=str(error), **view)
    return see_other("/history", done="undone")
