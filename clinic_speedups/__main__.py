"""`python -m clinic_speedups run ...`: `rasa run ...` with the speed-ups (see __init__.py)."""

from __future__ import annotations

import sys

from clinic_speedups import install


def main() -> None:
    """Install the speed-ups, then hand the command line to Rasa's own entry point."""
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
