"""What the virtual visitors say: a large, varied pool of real-looking messages.

A short fixed list would let a cache (or the processor's warm paths) serve the benchmark; real
visitors write anything, at any length. The pool is every distinct `question` of the blind sets
(tests/heldout/blind-*/*.tsv: written by authors who never saw the training data, every topic,
crisis, off-topic and Spanish messages, 2 to 400 characters) and every training example of
data/nlu/ (entity annotations removed). Both bots get the same pool: the reference bot answers
what it can of it, as it would on a real website.

Conversations are drawn from the pool with a seeded generator, so a run can be repeated:
conversation i of visitor v depends only on the seed, v and i.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import yaml

from clinic.paths import PROJECT_DIR

HELDOUT_DIR = PROJECT_DIR / "tests" / "heldout"
NLU_DIR = PROJECT_DIR / "data" / "nlu"
TURNS_PER_CONVERSATION = 8  # about what a visitor with a few questions sends
LONG_CONVERSATION_TURNS = 100
LONG_CYCLE = 10  # the long conversation repeats this many messages

# "[OCD](condition)" or '[OCD]{"entity": "condition"}' -> "OCD"
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _blind_questions(directory: Path) -> Iterable[str]:
    for path in sorted(directory.glob("blind-*/*.tsv")):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                yield row.get("question") or ""


def _training_examples(directory: Path) -> Iterable[str]:
    for path in sorted(directory.glob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in document.get("nlu") or []:
            examples = block.get("examples") if isinstance(block, dict) else None
            if not isinstance(examples, str):
                continue
            for line in examples.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield _ANNOTATION.sub(r"\1", line[2:].strip())


def message_pool(heldout_dir: Path = HELDOUT_DIR, nlu_dir: Path = NLU_DIR) -> List[str]:
    """Every distinct blind-set question and training example, in a stable order.

    Messages starting with "/" are left out: the chat channel reads only the assistant's own
    button payloads as commands, and the stock bot would read any as one.
    """
    seen = set()
    pool: List[str] = []
    for text in [*_blind_questions(heldout_dir), *_training_examples(nlu_dir)]:
        text = " ".join(text.split())
        if text and not text.startswith("/") and text not in seen:
            seen.add(text)
            pool.append(text)
    return pool


class Conversations:
    """Conversations of `turns` messages drawn from `pool` (seeded, repeatable)."""

    def __init__(self, pool: Sequence[str], turns: int = TURNS_PER_CONVERSATION,
                 seed: int = 16) -> None:
        if not pool:
            raise ValueError("the message pool is empty")
        self.pool = list(pool)
        self.turns = turns
        self.seed = seed

    def conversation(self, visitor: int, number: int, turns: Optional[int] = None) -> List[str]:
        """The messages of conversation `number` of `visitor`."""
        rng = random.Random(f"{self.seed}-{visitor}-{number}")
        return [rng.choice(self.pool) for _ in range(turns or self.turns)]

    def long_conversation(self, turns: int = LONG_CONVERSATION_TURNS) -> List[str]:
        """One long conversation (the long-conversation run's), the same for every bot.

        Ten messages drawn from the pool, said again and again: turns 2-10 and the last nine
        turns are the same messages (when `turns` is a multiple of ten), so comparing them
        measures the conversation's length, not which messages fell there (a long message
        costs the NLU several times a short one).
        """
        cycle = self.conversation(-1, 0, LONG_CYCLE)
        return [cycle[turn % LONG_CYCLE] for turn in range(turns)]
