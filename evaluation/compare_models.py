"""Check that two trained models answer alike: same labels, probabilities within a tolerance.

    python -m evaluation.compare_models dump models/clinic.tar.gz before.json
    python -m evaluation.compare_models dump models/clinic.tar.gz after.json
    python -m evaluation.compare_models compare before.json after.json [--tolerance 1e-3]

For changes to how the model is trained that must not change the model (a faster fit, a
cache): each model parses every message of tests/heldout/*/*.tsv (column 1) in its own process
(one model loaded at a time), and `compare` reports every message whose parse results differ
in a string (intent, FAQ topic, crisis tier, entity) or in a number by more than the
tolerance. Exit status 1 when any does.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List

from clinic.paths import PROJECT_DIR

MESSAGE_FILES = sorted((PROJECT_DIR / "tests" / "heldout").glob("*/*.tsv"))
# Fields that say how the message was handled, not what the model decided.
IGNORED = {"message_id", "metadata"}
# Rankings are compared label by label: two labels of nearly equal probability may swap
# places without any probability moving by more than the tolerance. The top label (`intent`,
# the selected FAQ answer) is compared as it is.
LABEL_KEYS = ("name", "intent_response_key")


def _by_label(value: Any) -> Any:
    """A ranking (a list of dictionaries each naming a label) as {label: entry}."""
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for key in LABEL_KEYS:
            if all(isinstance(item.get(key), str) for item in value):
                return {item[key]: item for item in value}
    return value


def messages() -> List[str]:
    """Every distinct message of the dev sets' TSV files (column 1), in file order."""
    seen: Dict[str, None] = {}
    for path in MESSAGE_FILES:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            next(rows, None)  # the header
            for row in rows:
                if row and row[0].strip():
                    seen.setdefault(row[0], None)
    return list(seen)


def dump(model: Path, out: Path) -> None:
    """Parse every message with `model` and write {message: parse result} as JSON."""
    from evaluation.heldout import Parser

    parser = Parser(model)
    results = {text: parser.parse(text) for text in messages()}
    out.write_text(json.dumps(results, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    print(f"{len(results)} messages parsed with {model} -> {out}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def differences(a: Any, b: Any, tolerance: float, path: str = "") -> Iterator[str]:
    """Where two parse results differ: a string, a structure, or a number beyond tolerance."""
    a, b = _by_label(a), _by_label(b)
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key in IGNORED:
                continue
            if key not in a or key not in b:
                yield f"{path}/{key}: only in {'after' if key in b else 'before'}"
            else:
                yield from differences(a[key], b[key], tolerance, f"{path}/{key}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} items before, {len(b)} after"
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from differences(x, y, tolerance, f"{path}[{index}]")
    elif _is_number(a) and _is_number(b):
        if abs(a - b) > tolerance + 1e-12:  # 0.308 - 0.307 is 0.0010000000000000009
            yield f"{path}: {a} before, {b} after"
    elif a != b:
        yield f"{path}: {a!r} before, {b!r} after"


def compare(before: Path, after: Path, tolerance: float) -> int:
    """Print the differences between two dumps; the number of messages that differ."""
    a = json.loads(before.read_text(encoding="utf-8"))
    b = json.loads(after.read_text(encoding="utf-8"))
    differing = 0
    largest = 0.0
    for text in sorted(set(a) | set(b)):
        if text not in a or text not in b:
            print(f"{text!r}: parsed by one model only")
            differing += 1
            continue
        found = list(differences(a[text], b[text], tolerance))
        if found:
            differing += 1
            print(f"{text!r}:\n  " + "\n  ".join(found[:10]))
        largest = max(largest, _largest_gap(a[text], b[text]))
    print(f"{len(a)} messages; {differing} differ beyond {tolerance:g}; "
          f"largest difference of a number: {largest:.2g}")
    return differing


def _largest_gap(a: Any, b: Any) -> float:
    """The largest difference between numbers at the same place of two parse results."""
    a, b = _by_label(a), _by_label(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return max((_largest_gap(a[k], b[k]) for k in a if k in b and k not in IGNORED),
                   default=0.0)
    if isinstance(a, list) and isinstance(b, list):
        return max((_largest_gap(x, y) for x, y in zip(a, b, strict=False)), default=0.0)
    if _is_number(a) and _is_number(b):
        return float(abs(a - b))
    return 0.0


def main(argv: List[str]) -> int:
    """`dump` or `compare`, as the module's docstring shows."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dumping = commands.add_parser("dump", help="parse every message with one model")
    dumping.add_argument("model", type=Path)
    dumping.add_argument("out", type=Path)
    comparing = commands.add_parser("compare", help="compare two dumps")
    comparing.add_argument("before", type=Path)
    comparing.add_argument("after", type=Path)
    comparing.add_argument("--tolerance", type=float, default=1e-3)
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.model, args.out)
        return 0
    return 1 if compare(args.before, args.after, args.tolerance) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
