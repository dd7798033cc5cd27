"""Asyncio load generator: concurrent virtual visitors holding multi-turn REST conversations."""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional, Sequence

import aiohttp


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


async def _visitor(session: aiohttp.ClientSession, url: str, index: int,
                   conversations: Sequence[Sequence[str]], deadline: float, tag: str,
                   latencies: List[float], counters: Dict[str, int]) -> None:
    """One visitor: conversations one after another, each with a new sender id."""
    number = 0
    while time.monotonic() < deadline:
        script = conversations[(index + number) % len(conversations)]
        sender = f"{tag}-{index}-{number}-{uuid.uuid4().hex[:8]}"
        number += 1
        for text in script:
            if time.monotonic() >= deadline:
                return
            started = time.monotonic()
            try:
                async with session.post(url, json={"sender": sender, "message": text}) as reply:
                    body = await reply.json(content_type=None) if reply.status == 200 else None
                    ok = reply.status == 200 and isinstance(body, list)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                ok, body = False, None
            elapsed = time.monotonic() - started
            if not ok:
                counters["errors"] += 1
                break  # the conversation cannot go on sensibly; start a new one
            latencies.append(elapsed)
            if not body:
                counters["empty_replies"] += 1


async def drive(base_url: str, conversations: Sequence[Sequence[str]], visitors: int,
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
            _visitor(session, url, index, conversations, deadline, tag, latencies, counters)
            for index in range(visitors)
        ))
        elapsed = time.monotonic() - started
    return summarise(visitors, elapsed, latencies, counters["errors"], counters["empty_replies"])


def run_load(base_url: str, conversations: Sequence[Sequence[str]], visitors: int,
             seconds: float, tag: str = "bench") -> LoadResult:
    """Blocking wrapper around `drive`."""
    return asyncio.run(drive(base_url, conversations, visitors, seconds, tag))
