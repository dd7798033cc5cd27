"""Signing in and out."""

from __future__ import annotations

import math
import secrets

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from staff_console.sessions import tokens_match
from staff_console.throttle import keys
from staff_console.web import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    blocking,
    console_of,
    form_value,
    local_path,
    render,
    see_other,
    session_of,
)

blueprint = Blueprint("auth")


def _set_cookie(request: Request, response: HTTPResponse, name: str, value: str,
                max_age: int) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["max-age"] = max_age
    if console_of(request).config.secure_cookies:
        cookie["secure"] = True


def _sign_in_page(request: Request, *, status: int = 200, error: str = "",
                  name: str = "") -> HTTPResponse:
    token = secrets.token_urlsafe(24)
    response = render(request, "sign_in.html", status=status, title="Sign in",
                      sign_in_token=token, error=error, name=name,
                      next=local_path(request.args.get("next") or form_value(request, "next")))
    _set_cookie(request, response, SIGN_IN_COOKIE, token, 3600)
    return response


def _wait_words(seconds: float) -> str:
    if seconds < 90:
        return f"{math.ceil(seconds)} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


@blueprint.get("/sign-in")
async def sign_in_page(request: Request) -> HTTPResponse:
    """The sign-in form (or, when signed in already, the home page)."""
    console = console_of(request)
    if await blocking(console.sessions.get, request.cookies.get(SESSION_COOKIE)):
        return see_other("/")
    return _sign_in_page(request)


@blueprint.post("/sign-in")
async def sign_in(request: Request) -> HTTPResponse:
    """Check the name and password; start a session, or say what went wrong."""
    console = console_of(request)
    name = form_value(request, "name").strip()[:80]
    password = form_value(request, "password")[:1000]
    if not tokens_match(request.cookies.get(SIGN_IN_COOKIE) or "-",
                        form_value(request, "sign_in_token")):
        return _sign_in_page(request, status=403, name=name,
                             error="The sign-in form had expired. Please try again.")
    address = request.remote_addr or request.ip or "unknown"
    counters = keys(name, address)
    wait = await blocking(console.throttle.wait_seconds, counters)
    if wait > 0:
        response = _sign_in_page(
            request, status=429, name=name,
            error=f"Too many wrong tries. Wait {_wait_words(wait)}, then try again.")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    account = await blocking(console.accounts.verify, name, password) if name else None
    if account is None:
        await blocking(console.throttle.failed, counters)
        return _sign_in_page(request, status=401, name=name,
                             error="The name or the password is wrong.")
    await blocking(console.throttle.succeeded, account.name)
    value = await blocking(console.sessions.create, account.name)
    await blocking(console.record, account.name, "signed in")
    response = see_other(local_path(form_value(request, "next")))
    _set_cookie(request, response, SESSION_COOKIE, value,
                int(console.config.max_seconds))
    del response.cookies[SIGN_IN_COOKIE]
    return response


@blueprint.post("/sign-out")
async def sign_out(request: Request) -> HTTPResponse:
    """End the session."""
    console = console_of(request)
    await blocking(console.sessions.delete, request.cookies.get(SESSION_COOKIE))
    session = session_of(request)
    if session:
        await blocking(console.record, session.account, "signed out")
    response = see_other("/sign-in", done="signed-out")
    del response.cookies[SESSION_COOKIE]
    return response
