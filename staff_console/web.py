"""What every page shares: the console's services, templates, redirects and blocking work."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Request
from sanic.response import HTTPResponse, html, redirect

from staff_console.accounts import Account, Accounts
from staff_console.config import ConsoleConfig
from staff_console.db import Database
from staff_console.sessions import Session, Sessions
from staff_console.throttle import SignInThrottle

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
SESSION_COOKIE = "console_session"
SIGN_IN_COOKIE = "console_sign_in"  # the sign-in form's CSRF token, before any session
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOG = logging.getLogger("staff_console")
T = TypeVar("T")

# The main sections, in the navigation's order: (path, name).
SECTIONS = (("/inbox", "Inbox"), ("/topics", "Topics and answers"), ("/dashboard", "Dashboard"),
            ("/publish", "Test and publish"), ("/history", "History"))
# What a redirect after a change tells: `?done=<key>` (no visitor or staff text in URLs).
NOTICES = {
    "saved": "Saved. The change is in the history; publish to put it live.",
    "examples-added": "Examples added. Publish to teach them to the assistant.",
    "examples-removed": "Examples removed. Publish to put the change live.",
    "created": "The new topic is saved. Publish to put it live.",
    "assigned": "The question was added as a training example. Publish to teach it.",
    "off-topic": "Marked off-topic: added as an off-topic example. Publish to teach it.",
    "dismissed": "Dismissed: it will not be listed again.",
    "undone": "The change was undone (a new change in the history). Publish to put it live.",
    "signed-out": "You are signed out.",
    "expired": "Your session ended. Please sign in again.",
    "nothing": "Nothing to save: that was already so.",
}


@dataclass
class Console:
    """The services one console process holds."""

    config: ConsoleConfig
    database: Database
    accounts: Accounts
    sessions: Sessions
    throttle: SignInThrottle
    # One edit of the project's files at a time (build, check, write, commit).
    edit_lock: threading.Lock = field(default_factory=threading.Lock)
    extras: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, config: ConsoleConfig) -> Console:
        """The services for `config` (creates the database if it is new)."""
        database = Database(config.db_path)
        return cls(config, database, Accounts(database),
                   Sessions(database, config.idle_seconds, config.max_seconds),
                   SignInThrottle(database))

    def record(self, account: str, what: str) -> None:
        """Note in the activity log what a staff member did (no visitor text)."""
        with self.database.connect() as connection:
            connection.execute("INSERT INTO activity (at, account, what) VALUES (?, ?, ?)",
                               (time.time(), account, what))

    def activity(self, prefix: str = "", limit: int = 20) -> List[Dict[str, Any]]:
        """The latest activity whose text starts with `prefix`."""
        with self.database.connect() as connection:
            rows = connection.execute(
                "SELECT at, account, what FROM activity WHERE what LIKE ? "
                "ORDER BY at DESC LIMIT ?", (prefix + "%", limit)).fetchall()
        return [{"at": at, "account": account, "what": what} for at, account, what in rows]


def console_of(request: Request) -> Console:
    """The services of the app serving `request`."""
    return request.app.ctx.console


def account_of(request: Request) -> Account:
    """The signed-in staff member (the middleware let the request through)."""
    return request.ctx.account


def session_of(request: Request) -> Optional[Session]:
    """The request's session, if signed in."""
    return getattr(request.ctx, "session", None)


_ENVIRONMENT = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)),
                           autoescape=select_autoescape(["html"]),
                           trim_blocks=True, lstrip_blocks=True)


def _local_time(timestamp: float, zone: Optional[dt.tzinfo] = None) -> str:
    """A Unix time as `2026-12-06 14:05`, in `zone` (the clinic's) or the server's."""
    return dt.datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M")


_ENVIRONMENT.filters["local_time"] = _local_time


def render(request: Request, template: str, *, status: int = 200, **context: Any
           ) -> HTTPResponse:
    """A page from `template`, with what every page shows (who, navigation, notice)."""
    session = session_of(request)
    notice = NOTICES.get(str(request.args.get("done") or ""))
    values = {
        "user": getattr(request.ctx, "account", None),
        "csrf_token": session.csrf_token if session else "",
        "sections": SECTIONS,
        "path": request.path,
        "notice": notice,
        **context,
    }
    return html(_ENVIRONMENT.get_template(template).render(values), status=status)


def see_other(path: str, **query: str) -> HTTPResponse:
    """A 303 redirect to a page of the console, with an optional query."""
    return redirect(path + (f"?{urlencode(query)}" if query else ""), status=303)


def local_path(value: Optional[str], default: str = "/") -> str:
    """`value` if it is a path of this site (never another site: no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


async def blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run file, git or database work in a thread, so that the server keeps answering."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, functools.partial(function, *args, **kwargs))


def form_value(request: Request, name: str) -> str:
    """One form field's value ('' if absent)."""
    return str((request.form or {}).get(name) or "")


def form_values(request: Request, name: str) -> List[str]:
    """Every value of a repeated form field (checkboxes)."""
    values = request.form.getlist(name) if request.form else None
    return [str(value) for value in values or []]
