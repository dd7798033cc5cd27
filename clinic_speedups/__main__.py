"""`python -m clinic_speedups run ...`: `rasa run ...` with the speed-ups (see __init__.py)."""

from __future__ import annotations

import sys

from clinic_speedups import install


def main() -> None:
    """Install the speed-ups, then hand the command line to Rasa's own entry point."""
    install()
    from clinic_server.rasa_internals import run_rasa_command_line

    run_rasa_command_line(sys.argv[1:])


if __name__ == "__main__":
    main()
