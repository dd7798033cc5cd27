"""Does every reply leave the visitor somewhere to go? A sample of messages, sent to the assistant.

    python -m evaluation.dead_ends [FILE...] [--sample 200]   (make dead-ends)

The files are sets in the blind-set format; by default every dev set (tests/heldout/blind-*/,
each round's blind sets once scored), so the sample is varied. Starts the assistant as
`make run` does (action server and Rasa server, on free loopback
ports), sends each sampled message as the first message of a new conversation, and sorts
what came back:

- an answer: an FAQ answer or the medical-advice reply (in English or Spanish);
- a way to the clinic: a button or link for booking, a person or the clinic's phone;
- crisis lines: the crisis reply's buttons (988, 741741, 911);
- a dead end: none of these (small talk such as "thanks" counts here too: it is listed, so a
  reader can judge it).

Writes reports/dead-ends/report.md with every dead end, and prints the figures.
"""

from __future__ import annotations

import argparse
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import yaml

from benchmark import bots
from benchmark.servers import RunningBot, stop_servers
from clinic.buttons import BOOK_INTENT, CONTACT_INTENT, intent_payload
from clinic.paths import DOMAIN_FILE, REPORTS_DIR
from evaluation.blind import read_set
from evaluation.heldout import DEV_SET_FILES

REPORT_DIR = REPORTS_DIR / "dead-ends"
ANSWER_RESPONSES = ("utter_faq/", "utter_medical_advice")
TO_THE_CLINIC = {intent_payload(BOOK_INTENT), intent_payload(CONTACT_INTENT)}
CRISIS_LINES = ("tel:988", "sms:988", "sms:741741", "tel:911")


def _flat(text: str) -> str:
    return " ".join(text.split())


def answer_texts(domain_file: Path = DOMAIN_FILE) -> Set[str]:
    """Every variant's text of the FAQ answers and the medical-advice reply."""
    responses: Dict[str, List[Dict[str, Any]]] = yaml.safe_load(
        domain_file.read_text(encoding="utf-8"))["responses"]
    return {_flat(str(variant["text"])) for name, variants in responses.items()
            if name.startswith(ANSWER_RESPONSES) for variant in variants}


def sort_replies(replies: List[Dict[str, Any]], answers: Set[str]) -> str:
    """What a visitor got: "answer", "way to the clinic", "crisis lines" or "dead end"."""
    buttons = [button for reply in replies for button in reply.get("buttons") or []]
    urls = [str(button.get("url") or "") for button in buttons]
    if any(url.startswith(CRISIS_LINES) for url in urls):
        return "crisis lines"
    if any(_flat(str(reply.get("text") or "")) in answers for reply in replies):
        return "answer"
    if any(button.get("payload") in TO_THE_CLINIC for button in buttons) or any(
            url.startswith(("tel:", "http")) for url in urls):
        return "way to the clinic"
    return "dead end"


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="sets in the blind-set format")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    paths = args.paths or DEV_SET_FILES
    messages = [item.text for path in paths for item in read_set(path)]
    sample = random.Random(args.seed).sample(messages, min(args.sample, len(messages)))
    answers = answer_texts()
    bot = RunningBot(bots.ours(), REPORT_DIR / "logs")
    results: List[tuple] = []
    try:
        bot.wait_until_answering()
        for text in sample:
            replies = bot.say(text, "dead-ends-" + uuid.uuid4().hex)
            results.append((text, sort_replies(replies, answers), replies))
    finally:
        stop_servers((bot.rasa, bot.actions), bot.logs)
    counts = Counter(kind for _, kind, _ in results)
    where = ", ".join(map(str, args.paths)) if args.paths else "every dev set"
    lines = [f"# Dead ends: {len(results)} messages from {where} (seed {args.seed})", ""]
    for kind in ("answer", "way to the clinic", "crisis lines", "dead end"):
        lines.append(f"- {kind}: {counts[kind]} ({100 * counts[kind] / len(results):.1f}%)")
    lines += ["", "## Every dead end", ""]
    for text, kind, replies in results:
        if kind == "dead end":
            said = " / ".join(_flat(str(r.get("text") or "")) for r in replies) or "(nothing)"
            lines.append(f"- \"{text}\" -> {said}")
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:7]))
    print(f"Report: {REPORT_DIR / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
