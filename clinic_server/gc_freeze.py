"""Keep the served model out of Python's full garbage collections.

A Rasa server process holds about half a million Python objects once the model is loaded
(Rasa, TensorFlow, spaCy, the classifiers' vocabularies). Python's collector walks all of them
in every full collection: about 250 ms during which the process answers no one, whenever
enough new objects have survived since the last one (turns create many). Under load those
pauses were the slowest answers (docs/performance.md).

`gc.freeze()` (the standard library's documented way, made for servers) moves every object
alive at that moment into a permanent generation that collections skip; objects created later,
a conversation's, are collected as before. Done once the model is loaded, and again whenever
the process serves another model (`make reload`, the staff console's publish): first
`gc.unfreeze()` and one full collection, so that the old model's reference cycles are freed
rather than kept frozen.
"""

from __future__ import annotations

import gc
import logging
import time
import weakref
from typing import Any, Callable, Optional

logger = logging.getLogger(__name__)


class ServedModelFreezer:
    """Freeze the process's objects once for each agent (model) the process serves."""

    def __init__(self) -> None:
        self._frozen_for: Optional[Callable[[], Any]] = None

    def check(self, agent: Any) -> bool:
        """Freeze if `agent` has a model and was not frozen for yet; whether it froze now."""
        if agent is None or getattr(agent, "processor", None) is None:
            return False
        if self._frozen_for is not None and self._frozen_for() is agent:
            return False
        started = time.perf_counter()
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._frozen_for = weakref.ref(agent)
        logger.debug("gc: %d objects frozen in %.0f ms", gc.get_freeze_count(),
                     (time.perf_counter() - started) * 1000)
        return True
