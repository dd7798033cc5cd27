"""What the check found: each problem with its place and fix, and a clean run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

from staff_tools.check_data.layout import FAQ_INTENT


@dataclass(frozen=True, order=True)
class Problem:
    """One thing staff must fix, where it is and how."""

    path: str
    line: int
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}. How to fix: {self.fix}"


@dataclass(frozen=True)
class Example:
    """One training example and where it is written."""

    text: str
    label: str  # an intent, or faq/<key> for an FAQ topic
    path: str
    line: int


@dataclass
class Report:
    """Everything the check found, and what it looked at."""

    problems: List[Problem] = field(default_factory=list)
    examples: List[Example] = field(default_factory=list)
    answers_checked: int = 0
    steps_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing needs fixing."""
        return not self.problems

    def summary(self) -> str:
        """One line for a clean run."""
        labels = {example.label for example in self.examples}
        topics = {label for label in labels if label.startswith(FAQ_INTENT + "/")}
        return (
            f"Data OK: {len(self.examples)} examples for {len(labels) - len(topics)} intents "
            f"and {len(topics)} FAQ topics, {self.answers_checked} answers and "
            f"{self.steps_checked} rule and story steps checked."
        )
