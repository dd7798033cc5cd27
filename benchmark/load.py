"""Asyncio load generator: concurrent virtual visitors holding multi-turn REST conversations."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import aiohttp

from benchmark.messages import Conversations

# Scripts played in turn by the visitors (visitor i's n-th conversation is script i+n), or
# conversations drawn from a message pool.
Scripts = Union[Sequence[Sequence[str]], Conversations]


@dataclass
class LoadResult:
    """What one load level measured."""

    visitors: int
    seconds: float
    turns: int
    errors: int
    empty_replies: int
    turns_per_second: float
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    mean_ms: Optional[float]
    max_ms: Optional[float]

    def as_dict(self) -> Dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)


def percentile(sorted_values: Sequence[float], fraction: float) -> Optional[float]:
    """Nearest-rank percentile of already sorted values (None when there are none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(visitors: int, seconds: float, latencies_s: List[float], errors: int,
              empty_replies: int) -> LoadResult:
    """Turn raw latencies into throughput and percentiles (milliseconds, 1 decimal)."""
    ordered = sorted(latencies_s)

    def ms(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value * 1000, 1)

    return LoadResult(
        visitors=visitors,
        seconds=round(seconds, 2),
        turns=len(ordered),
        errors=errors,
        empty_replies=empty_replies,
        turns_per_second=round(len(ordered) / seconds, 2) if seconds > 0 else 0.0,
        p50_ms=ms(percentile(ordered, 0.50)),
        p95_ms=ms(percentile(ordered, 0.95)),
        p99_ms=ms(percentile(ordered, 0.99)),
        mean_ms=ms(sum(ordered) / len(ordered)) if ordered else None,
        max_ms=ms(ordered[-1]) if ordered else None,
    )


def script_picker(conversations: Scripts) -> Callable[[int, int], Sequence[str]]:
    """script(visitor, number): the messages of that visitor's number-th conversation."""
    if isinstance(conversations, Conversations):
        return conversations.conversation
    scripts = list(conversations)
    return lambda index, number: scripts[(index + number) % len(scripts)]


async def _turn(session: aiohttp.ClientSession, url: str, sender: str,
                text: str) -> tuple:
    """One message and its answer: (ok, replies, seconds)."""
    started = time.monotonic()
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as reply:
            body = await reply.json(content_type=None) if reply.status == 200 else None
            ok = reply.status == 200 and isinstance(body, list)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        ok, body = False, None
    return ok, body, time.monotonic() - started


async def _visitor(session: aiohttp.ClientSession, url: str, index: int,
                   script: Callable[[int, int], Sequence[str]], deadline: float, tag: str,
                   latencies: List[float], counters: Dict[str, int]) -> None:
    """One visitor: conversations one after another, each with a new sender id."""
    number = 0
    while time.monotonic() < deadline:
        messages = script(index, number)
        sender = f"{tag}-{index}-{number}-{uuid.uuid4().hex[:8]}"
        number += 1
        for text in messages:
            if time.monotonic() >= deadline:
                return
            ok, body, elapsed = await _turn(session, url, sender, text)
            if not ok:
                counters["errors"] += 1
                break  # the conversation cannot go on sensibly; start a new one
            latencies.append(elapsed)
            if not body:
                counters["empty_replies"] += 1


async def drive(base_url: str, conversations: Scripts, visitors: int,
                seconds: float, tag: str = "bench", timeout: float = 30) -> LoadResult:
    """`visitors` concurrent visitors talk to base_url's REST channel for `seconds`.

    Every visitor waits for each answer before sending its next message (a closed loop, as
    people do), so throughput is what the server manages at that concurrency. Turns that
    failed (transport error, non-200, not a JSON list) count as errors, not as latencies.
    """
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    latencies: List[float] = []
    counters = {"errors": 0, "empty_replies": 0}
    connector = aiohttp.TCPConnector(limit=visitors)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(
            _visitor(session, url, index, script_picker(conversations), deadline, tag,
                     latencies, counters)
            for index in range(visitors)
        ))
        elapsed = time.monotonic() - started
    return summarise(visitors, elapsed, latencies, counters["errors"], counters["empty_replies"])


def run_load(base_url: str, conversations: Scripts, visitors: int,
             seconds: float, tag: str = "bench") -> LoadResult:
    """Blocking wrapper around `drive`."""
    return asyncio.run(drive(base_url, conversations, visitors, seconds, tag))


async def _one_long_conversation(base_url: str, messages: Sequence[str], sender: str,
                                 timeout: float) -> List[Optional[float]]:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    seconds: List[Optional[float]] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for text in messages:
            ok, _, elapsed = await _turn(session, url, sender, text)
            seconds.append(elapsed if ok else None)
    return seconds


def long_conversations(base_url: str, messages: Sequence[str], repeats: int = 3,
                       tag: str = "long", timeout: float = 30) -> Dict[str, Any]:
    """One visitor holds `repeats` conversations of `messages`, one after another.

    Each turn's latency is the median over the repeats of that turn (a failed turn counts as
    missing). Reported: every turn's median (ms); "turn 5", the median of turns 2-10, and "turn
    100", the median of the last nine turns (the same messages: see
    `Conversations.long_conversation`; the first turn also starts the session), and their ratio.
    """
    # Each distinct message said once first, in a conversation not measured: the first time a
    # server meets a message of a new length, TensorFlow may trace a graph for it, and that
    # would make the early turns look slow.
    asyncio.run(_one_long_conversation(base_url, list(dict.fromkeys(messages)),
                                       f"{tag}-warmup-{uuid.uuid4().hex[:8]}", timeout))
    runs = [asyncio.run(_one_long_conversation(base_url, messages,
                                               f"{tag}-{n}-{uuid.uuid4().hex[:8]}", timeout))
            for n in range(repeats)]
    per_turn: List[Optional[float]] = []
    for turn in range(len(messages)):
        values = sorted(value for run in runs if (value := run[turn]) is not None)
        per_turn.append(round(values[len(values) // 2] * 1000, 1) if values else None)

    def around(first: int, last: int) -> Optional[float]:
        values = sorted(v for v in per_turn[first - 1:last] if v is not None)
        return values[len(values) // 2] if values else None

    turns = len(messages)
    early = around(2, min(10, turns))
    late = around(max(1, turns - 8), turns)
    return {
        "turns": turns, "repeats": repeats,
        "errors": sum(1 for run in runs for value in run if value is None),
        "early_turn": 5, "early_ms": early, "late_turn": turns, "late_ms": late,
        "growth": round(late / early, 2) if early and late else None,
        "per_turn_ms": per_turn,
    }
