"""The dashboard: how the assistant was used over a chosen period, as charts (staff_tools)."""

from __future__ import annotations

from typing import Any, Dict, List

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from staff_console.periods import period_from, time_zone, today, tracker_engine
from staff_console.web import Console, blocking, console_of, render
from staff_tools.charts import Chart
from staff_tools.dashboard import dashboard, dashboard_charts, topic_names
from staff_tools.tracker_db import TrackerStoreError

blueprint = Blueprint("dashboard")


def _view(console: Console, query: Dict[str, str]) -> Dict[str, Any]:
    day = today(console)
    period = period_from(query, day)
    charts: List[Chart] = []
    engine, message = tracker_engine(console)
    board = None
    if engine is not None:
        try:
            board = dashboard(engine, period.since, period.until, time_zone(console))
            charts = dashboard_charts(board, topic_names(console.config.project))
        except TrackerStoreError as error:
            message = f"The conversations could not be read: {error}"
    return {"period": period, "today": day, "charts": charts, "board": board,
            "message": message}


@blueprint.get("/dashboard")
async def dashboard_page(request: Request) -> HTTPResponse:
    """Conversations per day, topics asked most, outcomes, ways to the clinic, ratings."""
    query = {name: str(request.args.get(name) or "") for name in ("from", "to")}
    view = await blocking(_view, console_of(request), query)
    return render(request, "dashboard.html", title="Dashboard", **view)
