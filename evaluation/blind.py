"""Score evaluation sets written as `question<TAB>acceptable<TAB>kind` (the blind-set format).

    python -m evaluation.blind --first-pass DIR   # a fresh blind set: score it once, record it
    python -m evaluation.blind FILE...            # score sets (dev sets) without recording

`acceptable` lists every right answer (`faq/<key>`, an intent, `crisis`, `FALLBACK` for a
request to rephrase), `kind` is inscope, oos, crisis or negative. A first pass appends its
figures, with the date and the sets' sizes, to evaluation/first_pass.json: those are the
project's headline figures. After that the set is a dev set (tests/heldout/blind-<date>/):
looked at, fixed from, never a headline again.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from clinic.wording import OTHER_LANGUAGE_ENTITY
from evaluation.heldout import DEFAULT_MODEL, PROJECT_DIR, Parser

FIRST_PASS_RECORD = PROJECT_DIR / "evaluation" / "first_pass.json"
FALLBACKS = {"nlu_fallback", "FALLBACK"}
# The off-topic reply opens "Sorry, I can't help with that" and says what the assistant can
# help with (domain.yml, utter_out_of_scope): it says it can't help, which the sets' FALLBACK
# means, so it is right wherever FALLBACK or out_of_scope is listed. (Until round 24, the
# tenth session of 2026-12-07, it was right only where out_of_scope was listed: a fragment
# such as "my friend" labelled FALLBACK counted as a miss.)
SAYS_IT_CANNOT_HELP = {"out_of_scope"}
# A message in a language the assistant does not answer in (Russian, Vietnamese...) gets, in
# that language, "I answer in English and Spanish" with the clinic's phone: it says it cannot
# help, which is what FALLBACK means in the sets ("asks to rephrase or says it can't help"),
# so it is scored as a fallback, not as the English off-topic reply. (Until 2026-12-07 it was
# scored as out_of_scope: right only where out_of_scope was listed.)
IN_THEIR_LANGUAGE = "out_of_scope/in_their_language"


@dataclass
class Item:
    """One message of a set, what may answer it, and what the assistant did."""

    text: str
    acceptable: List[str]
    kind: str
    predicted: str = ""
    tier: str = ""  # crisis, check_in or "" (from the crisis detector)

    @property
    def right(self) -> bool:
        """The assistant gave one of the acceptable answers (a fallback counts for off-topic)."""
        if self.predicted == "crisis":
            return "crisis" in self.acceptable
        if self.predicted in ("nlu_fallback", IN_THEIR_LANGUAGE, *SAYS_IT_CANNOT_HELP):
            return bool(FALLBACKS & set(self.acceptable)) or "out_of_scope" in self.acceptable
        return self.predicted in self.acceptable

    @property
    def wrong_faq(self) -> bool:
        """An FAQ answer that is not among the acceptable ones."""
        return self.predicted.startswith("faq/") and self.predicted not in self.acceptable


def read_set(path: Path) -> List[Item]:
    """The messages of one TSV set."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Item(row["question"].strip(), [a.strip() for a in row["acceptable"].split("|")],
                 row["kind"].strip())
            for row in rows if (row.get("question") or "").strip()
        ]


@dataclass
class Figures:
    """The figures the issues' targets name."""

    messages: int = 0
    in_scope: int = 0
    in_scope_right: float = 0.0
    wrong_faq_answers: float = 0.0  # share of all non-crisis messages
    off_topic: int = 0
    off_topic_handled: float = 0.0
    negatives: int = 0
    negatives_right: float = 0.0
    negatives_full_crisis: float = 0.0
    crisis: int = 0
    crisis_full_reply: float = 0.0
    crisis_full_or_check_in: float = 0.0
    ordinary_full_crisis: float = 0.0
    by_file: Dict[str, Dict[str, float]] = field(default_factory=dict)


def _rate(items: Sequence[Item], test: Callable[[Item], bool]) -> float:
    return round(sum(1 for item in items if test(item)) / len(items), 4) if items else 0.0


def figures(items: List[Item]) -> Figures:
    """Headline figures over scored items."""
    of = {
        kind: [i for i in items if i.kind == kind]
        for kind in ("inscope", "oos", "crisis", "negative")
    }
    not_crisis = [i for i in items if i.kind != "crisis"]
    ordinary = of["inscope"] + of["oos"]
    return Figures(
        messages=len(items),
        in_scope=len(of["inscope"]),
        in_scope_right=_rate(of["inscope"], lambda i: i.right),
        wrong_faq_answers=_rate(not_crisis, lambda i: i.wrong_faq),
        off_topic=len(of["oos"]),
        off_topic_handled=_rate(
            of["oos"], lambda i: i.right and not i.predicted.startswith("faq/")),
        negatives=len(of["negative"]),
        negatives_right=_rate(of["negative"], lambda i: i.right),
        negatives_full_crisis=_rate(of["negative"], lambda i: i.predicted == "crisis"),
        crisis=len(of["crisis"]),
        crisis_full_reply=_rate(of["crisis"], lambda i: i.predicted == "crisis"),
        crisis_full_or_check_in=_rate(
            of["crisis"], lambda i: i.predicted == "crisis" or i.tier == "check_in"),
        ordinary_full_crisis=_rate(ordinary, lambda i: i.predicted == "crisis"),
    )


def score(parser: Parser, paths: Sequence[Path]) -> tuple:
    """(figures over all sets, every scored item)."""
    from clinic.parse_result import answer_label

    all_items: List[Item] = []
    per_file: Dict[str, Dict[str, float]] = {}
    for path in paths:
        items = read_set(path)
        for item in items:
            parse = parser.parse(item.text)
            item.predicted = answer_label(parse)[0]
            if item.predicted == "out_of_scope" and any(
                entity.get("entity") == OTHER_LANGUAGE_ENTITY for entity in parse.get("entities")
                or []
            ):
                item.predicted = IN_THEIR_LANGUAGE
            item.tier = (parse.get("crisis_detector") or {}).get("tier") or ""
        per_file[path.name] = asdict(figures(items))
        all_items += items
    result = figures(all_items)
    result.by_file = per_file
    return result, all_items


def summary(result: Figures, title: str) -> str:
    """The figures as a few lines of text."""
    return "\n".join([
        f"{title}: {result.messages} messages",
        f"  in-scope answered right: {result.in_scope_right:.1%} of {result.in_scope}",
        f"  wrong FAQ answers: {result.wrong_faq_answers:.1%} of non-crisis messages",
        f"  off-topic handled: {result.off_topic_handled:.1%} of {result.off_topic}",
        f"  hard negatives right: {result.negatives_right:.1%} of {result.negatives};"
        f" given the full crisis reply: {result.negatives_full_crisis:.1%}",
        f"  crisis messages given the full crisis reply: {result.crisis_full_reply:.1%}"
        f" of {result.crisis}; full reply or check-in: {result.crisis_full_or_check_in:.1%}",
        f"  ordinary questions given the full crisis reply: {result.ordinary_full_crisis:.1%}",
    ])


def first_pass_lines() -> List[str]:
    """The recorded first passes, newest last: the project's headline figures."""
    record = json.loads(FIRST_PASS_RECORD.read_text()) if FIRST_PASS_RECORD.exists() else []
    lines = ["Headline: first-pass blind figures (each set scored once, by the model of its day)"]
    for entry in record:
        sets = ", ".join(f"{name} ({n})" for name, n in entry["sets"].items())
        title = f"{entry['date']}: {sets}"
        lines += summary(Figures(**{**entry["figures"], "by_file": {}}), title).splitlines()
    return lines if record else [*lines, "  none recorded"]


def record_first_pass(result: Figures, paths: Sequence[Path], model: str) -> None:
    """Append a first pass to the record; a set already recorded is refused."""
    record = json.loads(FIRST_PASS_RECORD.read_text()) if FIRST_PASS_RECORD.exists() else []
    names = {p.name for p in paths}
    seen = {name for entry in record for name in entry["sets"]}
    if names & seen:
        raise SystemExit(f"error: already scored once, not blind any more: {sorted(names & seen)}")
    record.append({
        "date": dt.date.today().isoformat(),
        "sets": {p.name: sum(1 for _ in read_set(p)) for p in paths},
        "model": model,
        "figures": asdict(result),
    })
    FIRST_PASS_RECORD.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--first-pass", type=Path, help="a folder of fresh blind sets")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, help="write every scored message here (JSON)")
    args = parser.parse_args(argv)
    paths = sorted(args.first_pass.glob("*.tsv")) if args.first_pass else args.paths
    if not paths:
        print("error: no sets given", file=sys.stderr)
        return 2
    result, items = score(Parser(args.model), paths)
    print(summary(result, "First pass (blind)" if args.first_pass else "Sets"))
    if args.first_pass:
        record_first_pass(result, paths, str(args.model))
        print(f"Recorded in {FIRST_PASS_RECORD}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps([asdict(i) for i in items], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
