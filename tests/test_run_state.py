"""What the Rasa server processes of one machine share (clinic/run_state.py and
clinic_server/lock_store.py): the conversations' ticket locks, the rate limits, and the model
they serve."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import List

import pytest

from clinic.run_state import (
    Generation,
    MachineState,
    ModelFollower,
    SharedWindowLimiter,
    current_generation,
    live_workers,
    wait_for_generation,
)
from clinic_server.lock_store import MachineLockStore


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "run-state.sqlite"


# ---- ticket locks: two processes, one conversation ----------------------------------------

def test_two_processes_take_one_conversations_messages_one_after_the_other(
    state_file: Path,
) -> None:
    first, second = MachineLockStore(path=state_file), MachineLockStore(path=state_file)
    order: List[str] = []

    async def turn(store: MachineLockStore, name: str, pause: float) -> None:
        async with store.lock("visitor-1", wait_time_in_seconds=0.05):
            order.append(f"{name} starts")
            await asyncio.sleep(pause)
            order.append(f"{name} ends")

    async def both() -> None:
        earlier = asyncio.create_task(turn(first, "A", 0.3))
        await asyncio.sleep(0.05)
        await asyncio.gather(earlier, turn(second, "B", 0.0))

    asyncio.run(both())
    assert order == ["A starts", "A ends", "B starts", "B ends"]
    assert first.get_lock("visitor-1") is None  # nobody waits: the lock is gone


def test_other_conversations_do_not_wait(state_file: Path) -> None:
    store = MachineLockStore(path=state_file)
    store.issue_ticket("visitor-1")
    assert not store.get_or_create_lock("visitor-2").is_locked(0)


def test_tickets_are_numbered_across_processes(state_file: Path) -> None:
    first, second = MachineLockStore(path=state_file), MachineLockStore(path=state_file)
    assert [first.issue_ticket("c"), second.issue_ticket("c"), first.issue_ticket("c")] == [
        0, 1, 2]
    second.cleanup("c", 0)
    lock = first.get_lock("c")
    assert lock is not None and lock.now_serving == 1


# ---- rate limits ----------------------------------------------------------------------------

def limiter(state_file: Path, limit: int, now: List[float], scope: str = "sender"
            ) -> SharedWindowLimiter:
    return SharedWindowLimiter(limit, 10, scope, MachineState(state_file), clock=lambda: now[0])


def test_the_sliding_window_lets_a_key_go_on_once_its_oldest_hit_leaves_the_window(
    state_file: Path,
) -> None:
    now = [100.0]
    limits = limiter(state_file, 3, now)
    for moment in (100.0, 104.0, 108.0):
        now[0] = moment
        assert limits.wait_seconds("a") == 0
        limits.record("a")
    now[0] = 109.0
    assert limits.wait_seconds("a") == pytest.approx(1.0)  # the hit at 100 s leaves at 110 s
    assert limits.wait_seconds("b") == 0  # other keys are not affected
    now[0] = 110.5
    assert limits.wait_seconds("a") == 0


def test_the_processes_count_together(state_file: Path) -> None:
    now = [0.0]
    one, other = limiter(state_file, 2, now), limiter(state_file, 2, now)
    one.record("visitor")
    other.record("visitor")
    assert one.wait_seconds("visitor") > 0 and other.wait_seconds("visitor") > 0
    assert limiter(state_file, 2, now, scope="ip").wait_seconds("visitor") == 0


def test_a_limit_of_zero_is_no_limit(state_file: Path) -> None:
    limits = limiter(state_file, 0, [0.0])
    for _ in range(100):
        limits.record("a")
    assert limits.wait_seconds("a") == 0
    assert MachineState(state_file).read("SELECT count(*) FROM rate_hits") == [(0,)]


def test_keys_are_stored_hashed_and_forgotten_after_the_window(state_file: Path) -> None:
    now = [0.0]
    limits = limiter(state_file, 5, now)
    for key in range(50):
        limits.record(f"203.0.113.{key}")
    assert b"203.0.113" not in state_file.read_bytes()
    now[0] = 25.0
    limits.record("new")
    assert MachineState(state_file).read("SELECT count(*) FROM rate_hits") == [(1,)]


# ---- the model every process serves ---------------------------------------------------------

def test_a_model_put_into_one_process_is_loaded_by_the_others(state_file: Path) -> None:
    one = ModelFollower(MachineState(state_file), pid=1)
    other = ModelFollower(MachineState(state_file), pid=2)
    started_with = object()
    assert one.check(started_with, "models/clinic.tar.gz") is None
    assert other.check(started_with, "models/clinic.tar.gz") is None
    assert live_workers(MachineState(state_file)) == {1: 0, 2: 0}

    put_into_one = object()  # Rasa's PUT /model replaced the first process's agent
    assert one.check(put_into_one, "models/new.tar.gz") is None
    assert current_generation(MachineState(state_file)) == Generation(1, "models/new.tar.gz")
    wanted = other.check(started_with, "models/clinic.tar.gz")
    assert wanted == Generation(1, "models/new.tar.gz")
    assert wait_for_generation(MachineState(state_file), 0, timeout=0.1) is None  # not yet

    other.loaded(wanted, object())
    assert wait_for_generation(MachineState(state_file), 0, timeout=0.1) == 1
    assert other.check(other._served, "models/new.tar.gz") is None  # loaded once, not again
    assert one.check(put_into_one, "models/new.tar.gz") is None


def test_a_process_that_starts_later_serves_what_it_was_started_with(state_file: Path) -> None:
    ModelFollower(MachineState(state_file), pid=1).check(object(), "a.tar.gz")
    first = ModelFollower(MachineState(state_file), pid=1)
    first.generation = 0
    first._served = object()
    first.check(object(), "b.tar.gz")  # generation 1
    late = ModelFollower(MachineState(state_file), pid=3)
    assert late.check(object(), "b.tar.gz") is None and late.generation == 1


def test_no_new_generation_means_a_server_elsewhere(state_file: Path) -> None:
    ModelFollower(MachineState(state_file), pid=1).check(object(), "a.tar.gz")
    assert wait_for_generation(MachineState(state_file), 0, timeout=0.2, poll=0.05) is None
