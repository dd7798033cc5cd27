"""The two bots under test: ours as scripts/run.sh starts it, and the stock `rasa init` bot."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Optional

from benchmark.messages import Conversations
from benchmark.reference import REFERENCE_DIR
from benchmark.servers import PROJECT_DIR, BotSpec
from clinic import launcher

OUR_MODEL = PROJECT_DIR / "models" / "clinic.tar.gz"


def widget_origins() -> list:
    """The CORS origins scripts/run.sh passes (from settings/clinic.yml)."""
    return launcher.widget_origins()


def ours(workers: int = 1, conversations: Optional[Conversations] = None) -> BotSpec:
    """Our assistant, started the way scripts/run.sh starts it (SQLite tracker store in tmp).

    `workers`: how many Rasa server processes (SANIC_WORKERS).
    """
    if not OUR_MODEL.exists():
        raise FileNotFoundError(f"no trained model at {OUR_MODEL}: run `make train` first")
    origins = widget_origins()
    # Every virtual visitor comes from 127.0.0.1: a per-IP limit would measure the limit; and
    # the long-conversation run sends 100 messages from one sender in a few seconds.
    env = {"CHAT_RATE_LIMIT_PER_IP": "0", "CHAT_RATE_LIMIT_PER_SENDER": "0",
           "SANIC_WORKERS": str(workers)}
    return BotSpec(
        name="ours",
        cwd=PROJECT_DIR,
        model=OUR_MODEL,
        conversations=conversations if conversations is not None else [],
        first_message="I'd like to book",  # answered by action_handoff: needs the action server
        endpoints="endpoints.yml",
        credentials="credentials.yml",
        rasa_args=["--enable-api", "--auth-token", secrets.token_urlsafe(16),
                   *(["--cors", *origins] if origins else [])],
        uses_tracker_db=True,
        env=env,
        server_command=launcher.SPEEDUPS_SERVER,
    )


def reference(model: Path, conversations: Conversations) -> BotSpec:
    """The stock bot: its own (empty) action server, default in-memory tracker store."""
    return BotSpec(
        name="reference",
        cwd=REFERENCE_DIR,
        model=model,
        conversations=conversations,
        first_message="hi",
        endpoints="endpoints.yml",
        credentials="credentials.yml",
    )
