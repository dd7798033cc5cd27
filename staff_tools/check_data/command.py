"""The command line: print every problem with its file, line and fix, or the summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from clinic.paths import PROJECT_DIR
from staff_tools.check_data.layout import DOMAIN_FILE, GUIDE
from staff_tools.check_data.run import check_project


def main(argv: Optional[List[str]] = None) -> int:
    """Print every problem with its file, line and fix; exit 1 if there is any."""
    parser = argparse.ArgumentParser(
        prog="python -m staff_tools.check_data",
        description="Check training data, answers and FAQ topics; say what to fix and where.",
    )
    parser.add_argument("--project", type=Path, default=PROJECT_DIR,
                        help="the project folder (default: this project)")
    args = parser.parse_args(argv)
    root = args.project.resolve()
    if not (root / DOMAIN_FILE).is_file():
        print(f"error: {root} is not the assistant's project folder (no {DOMAIN_FILE})",
              file=sys.stderr)
        return 2
    report = check_project(root)
    if report.ok:
        print(report.summary())
        return 0
    for problem in report.problems:
        print(problem)
    count = len(report.problems)
    found = "1 problem found. Fix it" if count == 1 else f"{count} problems found. Fix them"
    print(f"\n{found}, then run `make validate` again. {GUIDE} explains each message.")
    return 1
