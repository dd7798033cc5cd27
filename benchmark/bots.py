"""The two bots under test: ours as scripts/run.sh starts it, and the stock `rasa init` bot."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Optional

from benchmark.reference import REFERENCE_CONVERSATIONS, REFERENCE_DIR
from benchmark.servers import PROJECT_DIR, BotSpec
from clinic import launcher

OUR_MODEL = PROJECT_DIR / "models" / "clinic.tar.gz"

# Multi-turn conversations as visitors hold them (from tests/test_stories.yml): FAQ questions
# (each answer runs action_faq_follow_up on the action server), bookings and requests for a
# person (action_handoff), greetings, thanks and goodbyes.
OUR_CONVERSATIONS = [
    ["hi there", "is it FDA approved?", "yes please"],
    ["what is it?", "does it help with PTSD?", "ok, how do I book?"],
    ["how fast does ketamine work", "no thanks", "thank you", "bye"],
    ["are you a bot?", "i want to talk to a real person"],
    ["how much does an infusion cost", "I'd like to book"],
]


def widget_origins() -> list:
    """The CORS origins scripts/run.sh passes (from settings/clinic.yml)."""
    return launcher.widget_origins()


def endpoints_with_redis_lock_store(directory: Path, redis_port: int) -> Path:
    """endpoints.yml plus a Redis lock store: what several Sanic workers need."""
    endpoints = directory / "endpoints.yml"
    endpoints.write_text(
        (PROJECT_DIR / "endpoints.yml").read_text()
        + f"\nlock_store:\n  type: redis\n  url: 127.0.0.1\n  port: {redis_port}\n"
    )
    return endpoints


def ours(workers: int = 1, redis_port: Optional[int] = None) -> BotSpec:
    """Our assistant, started the way scripts/run.sh starts it (SQLite tracker store in tmp).

    With workers > 1, Rasa runs that many Sanic worker processes, which it allows only with a
    lock store they share: a Redis server on redis_port.
    """
    if not OUR_MODEL.exists():
        raise FileNotFoundError(f"no trained model at {OUR_MODEL}: run `make train` first")
    origins = widget_origins()
    endpoints = "endpoints.yml"
    env = {"CHAT_RATE_LIMIT_PER_IP": "0"}
    if workers > 1:
        if redis_port is None:
            raise ValueError("several workers need a Redis lock store (redis_port)")
        tmp = Path(tempfile.mkdtemp(prefix="bench-endpoints-"))
        endpoints = str(endpoints_with_redis_lock_store(tmp, redis_port))
        env["SANIC_WORKERS"] = str(workers)
    return BotSpec(
        name="ours",
        cwd=PROJECT_DIR,
        model=OUR_MODEL,
        conversations=OUR_CONVERSATIONS,
        first_message="I'd like to book",  # answered by action_handoff: needs the action server
        endpoints=endpoints,
        credentials="credentials.yml",
        rasa_args=["--enable-api", "--auth-token", secrets.token_urlsafe(16),
                   *(["--cors", *origins] if origins else [])],
        uses_tracker_db=True,
        # Every virtual visitor comes from 127.0.0.1: a per-IP limit would measure the limit.
        # The per-sender limit stays on (each conversation has its own sender id).
        env=env,
        server_command=launcher.SPEEDUPS_SERVER,
    )


def reference(model: Path) -> BotSpec:
    """The stock bot: its own (empty) action server, default in-memory tracker store."""
    return BotSpec(
        name="reference",
        cwd=REFERENCE_DIR,
        model=model,
        conversations=REFERENCE_CONVERSATIONS,
        first_message="hi",
        endpoints="endpoints.yml",
        credentials="credentials.yml",
    )
