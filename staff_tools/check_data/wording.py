"""How examples are compared, texts quoted and close names suggested in the messages."""

from __future__ import annotations

import difflib
import re
from typing import Iterable

_ENTITY_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def comparable(text: str) -> str:
    """An example as the model sees it: no entity marks, case, spacing or end punctuation."""
    plain = _ENTITY_ANNOTATION.sub(r"\1", text)
    folded = " ".join(plain.lower().replace("\u2019", "'").split())
    return folded.rstrip("?!. ") or folded


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of the known names, or nothing."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def quote(text: str, limit: int = 70) -> str:
    """A text in double quotes, shortened with ... if it is long."""
    return f'"{text}"' if len(text) <= limit else f'"{text[:limit - 3]}..."'
