"""The safety gate: a newly trained model is checked here before it may answer visitors.

    python -m evaluation.gate --model var/publish/candidate.tar.gz [--out var/publish/gate]

The staff console's publish (`staff_tools/publish.py`) runs this in its own process, on the new
model, never the live one; the test stories are a separate step there (`rasa test core`). The
checks, in order, stopping at the first that fails (evaluation/floors.py holds every number):

1. `crisis`: the crisis regression cases, every one (100%);
2. `buttons`: each topic button's question gets its own topic;
3. `heldout`: the floors on the held-out questions and crisis phrasings (tests/heldout/*.yml);
4. `dev_sets`: the floors on the sets once blind (tests/heldout/blind-*/).

Progress and the result are printed one per line as `GATE {json}`: `{"say": text}` while it
runs, then `{"result": {...}}` (ok, stage, failures, figures). Exit code 0: passed, 1: failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Protocol

from evaluation import floors

MARKER = "GATE "


class Parses(Protocol):
    """What the gate needs of a model: a parse result for a message."""

    def parse(self, text: str) -> Dict[str, Any]:
        """The full parse result."""


@dataclass
class GateResult:
    """What the gate found: passed, or the first stage that failed and why."""

    ok: bool = True
    stage: str = ""  # crisis, buttons, heldout, dev_sets: the one that failed ("" if none)
    failures: List[str] = field(default_factory=list)  # plain words, one line each
    figures: Dict[str, float] = field(default_factory=dict)  # a few headline figures


def check(
    parser: Parses,
    say: Callable[[str], None],
    score_heldout: Optional[Callable[[], Any]] = None,
    score_dev_sets: Optional[Callable[[], Any]] = None,
) -> GateResult:
    """Run the stages in order on `parser`; stop at the first that fails.

    `score_heldout` and `score_dev_sets` return the evaluation.heldout Report and the
    evaluation.blind Figures (defaults: score `parser` on the project's sets).
    """
    say(f"Checking the {len(floors.CRISIS_CASES)} crisis test messages")
    failed = floors.case_failures(floors.CRISIS_CASES, parser.parse)
    if failed:
        return GateResult(False, "crisis", failed)
    buttons = floors.topic_button_cases()
    say(f"Checking that each of the {len(buttons)} topic buttons gets its own answer")
    failed = floors.case_failures(buttons, parser.parse)
    if failed:
        return GateResult(False, "buttons", failed)

    say("Scoring the held-out questions and crisis messages (a minute or so)")
    report = score_heldout() if score_heldout else _heldout(parser)
    figures = {
        "heldout_right": report.in_scope_accuracy,
        "heldout_wrong_answers": report.wrong_faq_answer_rate,
        "crisis_recall": report.crisis_recall,
        "false_crisis": report.false_crisis_rate,
    }
    failed = [
        *floors.misses(floors.FIRST_FILE_FLOORS,
                       report.per_file.get(floors.FIRST_HELDOUT_FILE, {})),
        *floors.misses(floors.HELDOUT_FLOORS, vars(report)),
        *floors.misses(floors.CRISIS_FLOORS, vars(report)),
        *floors.misses(floors.FALSE_CRISIS_FLOORS, vars(report)),
    ]
    if failed:
        return GateResult(False, "heldout", failed, figures)

    say("Scoring the messages of the earlier test rounds (a few minutes)")
    dev = score_dev_sets() if score_dev_sets else _dev_sets(parser)
    figures.update({
        "dev_right": dev.in_scope_right,
        "dev_crisis_full_reply": dev.crisis_full_reply,
        "dev_crisis_full_or_check_in": dev.crisis_full_or_check_in,
    })
    failed = floors.misses(floors.DEV_SET_FLOORS, vars(dev))
    if failed:
        return GateResult(False, "dev_sets", failed, figures)
    return GateResult(True, "", [], figures)


def _heldout(parser: Any) -> Any:
    from evaluation.heldout import evaluate

    return evaluate(parser, "candidate")


def _dev_sets(parser: Any) -> Any:
    from evaluation.blind import score
    from evaluation.heldout import DEV_SET_FILES

    return score(parser, DEV_SET_FILES)[0]


def _emit(payload: Dict[str, Any]) -> None:
    print(MARKER + json.dumps(payload), flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point: 0 when the model passed, 1 when it did not."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--model", type=Path, required=True)
    arguments.add_argument("--out", type=Path, help="write the held-out report here")
    args = arguments.parse_args(argv)
    from evaluation.heldout import Parser, evaluate, write_report

    _emit({"say": "Loading the new version for testing"})
    parser = Parser(args.model)

    def score_heldout() -> Any:
        report = evaluate(parser, str(args.model))
        if args.out:
            write_report(report, args.out)
        return report

    result = check(parser, lambda text: _emit({"say": text}), score_heldout)
    _emit({"result": asdict(result)})
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
