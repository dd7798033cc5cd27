"""The start page: the sections, in the order of the work."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from staff_console.web import blocking, console_of, render
from staff_tools.training_data import read_topics

blueprint = Blueprint("home")


@blueprint.get("/")
async def home(request: Request) -> HTTPResponse:
    """What each section is for."""
    topics = await blocking(read_topics, console_of(request).config.project)
    return render(request, "home.html", title="Start", topic_count=len(topics))
