"""The console's web application: sign-in guard, CSRF check, security headers, the pages.

Every request but the sign-in page and the static files needs a session: a page redirects to
the sign-in page, a JSON address (`/api/...`) answers 401. Every POST needs the session's CSRF
token (the form's `csrf_token` field or the `X-CSRF-Token` header) and, when the browser sends
one, an Origin of this site; otherwise it is refused with 403. Requests naming another host
than the console's own are refused (no DNS rebinding). Pages are never cached, and the
Content-Security-Policy allows only this site's own files.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional
from urllib.parse import urlsplit

from sanic import Request, Sanic
from sanic.exceptions import NotFound, SanicException
from sanic.response import BaseHTTPResponse, HTTPResponse, json, text

from staff_console.config import ConsoleConfig
from staff_console.pages import auth, dashboard, history, home, inbox, publish, topics
from staff_console.sessions import Session, tokens_match
from staff_console.web import (
    CSRF_FIELD,
    CSRF_HEADER,
    LOG,
    SESSION_COOKIE,
    STATIC_DIR,
    Console,
    blocking,
    console_of,
    render,
    see_other,
)
from staff_tools.publish import stop_running_commands

PUBLIC_PATHS = ("/sign-in",)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # and so a POST carries its Origin
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith("/static/")


def _wants_json(request: Request) -> bool:
    return request.path.startswith("/api/")


def _origin_ok(request: Request) -> bool:
    """A POST from this site: its Origin (or Referer) names this host, or none is sent."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if source is None:
        return True  # not a browser, or an old one: the CSRF token alone decides
    return (urlsplit(source).netloc or "").lower() == (request.host or "").lower()


def _refuse(request: Request, status: int, message: str) -> HTTPResponse:
    if _wants_json(request):
        return json({"error": message}, status=status)
    return render(request, "error.html", status=status, title="Not done", message=message)


async def guard(request: Request) -> Optional[HTTPResponse]:
    """Before every request: the host, the session, and the CSRF token of a POST."""
    console = console_of(request)
    request.ctx.started = time.monotonic()
    if (request.host or "").lower() not in console.config.host_names():
        return text("Unknown host name.", status=400)
    if _is_public(request.path):
        return None
    session = await _session(request, console)
    if session is None:
        if _wants_json(request):
            return json({"error": "not signed in"}, status=401)
        if request.method == "GET":
            return see_other("/sign-in", next=request.path)
        return see_other("/sign-in", done="expired")
    if request.method not in ("GET", "HEAD"):
        given = request.headers.get(CSRF_HEADER) or (
            (request.form or {}).get(CSRF_FIELD) if request.form is not None else None)
        if not _origin_ok(request) or not tokens_match(session.csrf_token, given):
            LOG.warning("refused a %s to %s without a valid CSRF token", request.method,
                        request.path)
            return _refuse(request, 403, "This form has expired or did not come from the "
                           "console. Go back, reload the page and try again.")
    return None


async def _session(request: Request, console: Console) -> Optional[Session]:
    """The request's valid session (its account put on `request.ctx`), or None."""
    session = await blocking(console.sessions.get, request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    account = await blocking(console.accounts.get, session.account)
    if account is None:
        return None
    request.ctx.session = session
    request.ctx.account = account
    return session


async def headers(request: Request, response: BaseHTTPResponse) -> None:
    """After every request: security headers, no caching of pages, a log line (no text)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    started = getattr(request.ctx, "started", None)
    took = f" {1000 * (time.monotonic() - started):.0f} ms" if started else ""
    LOG.info("%s %s %s%s", request.method, request.path, response.status, took)


def create_app(config: ConsoleConfig, name: str = "staff_console") -> Sanic:
    """The console's Sanic application for `config`."""
    app = Sanic(name)
    app.config.REAL_IP_HEADER = None
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.ctx.console = Console.create(config)
    app.register_middleware(guard, "request")
    app.register_middleware(headers, "response")
    app.static("/static", str(STATIC_DIR), name="static")
    for page in (auth, home, topics, inbox, dashboard, publish, history):
        app.blueprint(page.blueprint)

    async def stop_publishing(app: Sanic, loop: Any) -> None:
        # A publish still training or testing must not outlive the console that started it;
        # the live model is untouched until the very last step, so nothing is half done.
        stopped = stop_running_commands()
        if stopped:
            LOG.warning("stopped %d publish command(s) still running", stopped)

    app.register_listener(stop_publishing, "before_server_stop")

    @app.exception(NotFound)
    async def not_found(request: Request, exception: Exception) -> HTTPResponse:
        if _wants_json(request):
            return json({"error": "not found"}, status=404)
        return render(request, "error.html", status=404, title="Page not found",
                      message="There is no such page. Use the menu above.")

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        status = exception.status_code if isinstance(exception, SanicException) else 500
        if status >= 500:
            LOG.exception("error on %s %s", request.method, request.path)
        message = ("Something went wrong on the console's side. Try again; if it keeps "
                   "happening, tell a developer the time it happened.") if status >= 500 \
            else "The console could not read this request."
        if _wants_json(request):
            return json({"error": message}, status=status)
        return render(request, "error.html", status=status, title="Something went wrong",
                      message=message)

    return app


def configure_logging() -> None:
    """Time, level and message: request lines and errors, never a visitor's or staff's text."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
