"""The served model is kept out of full garbage collections, and a replaced one is freed."""

from __future__ import annotations

import gc
import weakref
from typing import Any, Iterator

import pytest

from clinic_server.gc_freeze import ServedModelFreezer


class Cycle:
    def __init__(self) -> None:
        self.me = self


class FakeAgent:
    def __init__(self) -> None:
        self.processor = Cycle()  # a loaded model holds reference cycles


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_a_served_model_is_frozen_once() -> None:
    freezer = ServedModelFreezer()
    agent = FakeAgent()
    assert freezer.check(agent) and gc.get_freeze_count() > 0
    assert not freezer.check(agent)  # nothing to do until another model is served


def test_no_model_no_freeze() -> None:
    freezer = ServedModelFreezer()
    assert not freezer.check(None)
    assert not freezer.check(type("NoModel", (), {"processor": None})())


def test_a_replaced_models_cycles_are_freed_when_the_new_one_is_frozen() -> None:
    freezer = ServedModelFreezer()
    old: Any = FakeAgent()
    freezer.check(old)
    old_model = weakref.ref(old.processor)
    del old  # the process serves a new model now; the old one's cycle is frozen garbage
    assert old_model() is not None
    assert freezer.check(FakeAgent())
    assert old_model() is None
