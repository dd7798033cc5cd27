"""`python -m clinic_speedups run ...`: `rasa run ...` with the speed-ups (see __init__.py).

`python -m clinic_speedups train ...`: `rasa train ...`, ending the process as soon as the
model is written (see `train`).
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
from typing import List

from clinic_speedups import install, leave_out_jax


def main() -> None:
    """Install the speed-ups, then hand the command line to Rasa's own entry point."""
    leave_out_jax()
    if sys.argv[1:2] == ["train"]:
        train(sys.argv[1:])  # ends the process
        return
    install()
    from clinic_server.rasa_internals import run_rasa_command_line

    run_rasa_command_line(sys.argv[1:])


def train(arguments: List[str]) -> None:
    """`rasa <arguments>` (a training), then exit without freeing memory object by object.

    When Python exits it frees every object one by one: after a training, the examples and
    their copies, the feature matrices and the models, 1.2 s of a 24 s retraining after one
    new example (docs/performance.md). Here the process ends once Rasa has returned (the model
    file written and closed), the exit handlers have run and the output is flushed, with
    Rasa's exit status. The speed-ups are not installed: they are for the server.
    """
    from clinic_server.rasa_internals import run_rasa_command_line

    status = 0
    try:
        run_rasa_command_line(arguments)
    except SystemExit as stop:
        if isinstance(stop.code, int):
            status = stop.code
        elif stop.code is not None:
            print(stop.code, file=sys.stderr)
            status = 1
    end_process(status)


def end_process(status: int) -> None:
    """Run the exit handlers, flush the logs and output, and end with `status` at once."""
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
