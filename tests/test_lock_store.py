"""deploy.lock_store.RefreshingRedisLockStore without Redis (a dict stands in for it): the
tickets of a live server never expire, however long its turn; a dead server's expire within
a lifetime, and the conversation goes on on another server (issue 17, part 3). The same store
against a real Redis, under load with a server killed: tests/scale_out/."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest
import redis

from deploy.lock_store import RefreshingRedisLockStore

LIFETIME = 0.6


class FakeRedis:
    """The few Redis commands the lock store uses, with WATCH/MULTI/EXEC."""

    def __init__(self) -> None:
        self.data: Dict[str, Any] = {}
        self.versions: Dict[str, int] = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.versions[key] = self.versions.get(key, 0) + 1

    def delete(self, *keys: str) -> int:
        gone = 0
        for key in keys:
            if self.data.pop(key, None) is not None:
                self.versions[key] = self.versions.get(key, 0) + 1
                gone += 1
        return gone

    def pipeline(self) -> FakePipeline:
        return FakePipeline(self)


class FakePipeline:
    def __init__(self, red: FakeRedis) -> None:
        self.red = red
        self.watched: Dict[str, int] = {}
        self.queued: List[Tuple[str, Any]] = []

    def __enter__(self) -> FakePipeline:
        return self

    def __exit__(self, *_: Any) -> None:
        self.watched.clear()

    def watch(self, key: str) -> None:
        self.watched[key] = self.red.versions.get(key, 0)

    def get(self, key: str) -> Any:
        return self.red.get(key)

    def multi(self) -> None:
        self.queued = []

    def set(self, key: str, value: Any) -> None:
        self.queued.append((key, value))

    def execute(self) -> None:
        if any(self.red.versions.get(k, 0) != v for k, v in self.watched.items()):
            raise redis.WatchError("changed")
        for key, value in self.queued:
            self.red.set(key, value)


def server(red: FakeRedis) -> RefreshingRedisLockStore:
    """One Rasa server's lock store on the shared (fake) Redis."""
    store = RefreshingRedisLockStore(host="localhost")
    store.red = red
    store.lifetime, store.renew_every = LIFETIME, LIFETIME / 3
    return store


async def turn(store: RefreshingRedisLockStore, conversation: str, log: List[str], name: str,
               seconds: float, blocking: bool = False) -> None:
    async with store.lock(conversation, lock_lifetime=LIFETIME, wait_time_in_seconds=0.05):
        log.append(f"{name} starts")
        if blocking:
            time.sleep(seconds)  # the event loop itself is busy (a slow model, say)
        else:
            await asyncio.sleep(seconds)
        log.append(f"{name} ends")


def test_a_live_servers_turn_longer_than_the_lifetime_keeps_the_lock() -> None:
    red = FakeRedis()
    one, two = server(red), server(red)
    log: List[str] = []

    async def run() -> None:
        first = asyncio.create_task(turn(one, "c", log, "first", 4 * LIFETIME))
        await asyncio.sleep(0.05)
        await turn(two, "c", log, "second", 0.01)
        await first

    asyncio.run(run())
    assert log == ["first starts", "first ends", "second starts", "second ends"]


def test_a_turn_blocking_its_event_loop_keeps_the_lock_from_its_own_servers_messages() -> None:
    red = FakeRedis()
    one = server(red)
    log: List[str] = []

    async def run() -> None:
        first = asyncio.create_task(turn(one, "c", log, "first", 3 * LIFETIME, blocking=True))
        second = asyncio.create_task(turn(one, "c", log, "second", 0.01))
        await asyncio.gather(first, second)

    asyncio.run(run())
    assert log == ["first starts", "first ends", "second starts", "second ends"]


def test_a_dead_servers_ticket_expires_within_a_lifetime_and_the_conversation_goes_on() -> None:
    red = FakeRedis()
    dead, alive = server(red), server(red)
    served_after: List[float] = []

    async def run() -> None:
        dead.issue_ticket("c", LIFETIME)  # its turn began...
        died = time.monotonic()
        dead.mine.clear()  # ...and it was killed: nothing renews its ticket any more
        async with alive.lock("c", lock_lifetime=LIFETIME, wait_time_in_seconds=0.05):
            served_after.append(time.monotonic() - died)

    asyncio.run(run())
    assert LIFETIME * 0.8 < served_after[0] < LIFETIME + 0.5


def test_a_renewal_never_overwrites_another_servers_ticket() -> None:
    red = FakeRedis()
    one, two = server(red), server(red)
    number = one.issue_ticket("c", LIFETIME)
    original_get = red.get
    raced: List[Optional[int]] = []

    def get_then_race(key: str) -> Any:  # another server issues a ticket mid-renewal
        value = original_get(key)
        if not raced:
            raced.append(None)
            red.get = original_get  # type: ignore[method-assign]
            raced[0] = two.issue_ticket("c", LIFETIME)
        return value

    red.get = get_then_race  # type: ignore[method-assign]
    one.renew("c")
    red.get = original_get  # type: ignore[method-assign]
    lock = one.get_lock("c")
    assert lock is not None
    assert [t.number for t in lock.tickets] == [number, raced[0]]
    assert lock.tickets[0].expires > time.time() + LIFETIME * 0.9


@pytest.mark.parametrize("lifetime", [3.0, 20.0])
def test_renewals_come_three_times_per_lifetime(lifetime: float) -> None:
    store = RefreshingRedisLockStore(host="localhost")
    store.lifetime, store.renew_every = lifetime, max(0.2, lifetime / 3)
    assert store.renew_every * 3 == pytest.approx(lifetime)
