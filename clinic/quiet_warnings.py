"""Third-party packages' warnings filtered where they are raised, in every project process.

`make test` and `make run` start Rasa's command line several times, and the packages under it
(pyparsing through packaging and matplotlib, click through typer, pkg_resources, SQLAlchemy
1.4's 2.0 notices) print dozens of deprecation warnings about their own code that nobody here
can act on; Rasa also re-enables UserWarnings after start-up. So the warnings a file inside
site-packages raises are not shown, except Rasa's notes about the project's data and config
(raised in rasa/shared/utils/io.py). Warnings raised in the project's own code are shown as
Python shows them.

`scripts/setup.sh` installs this into the virtual environment as a .pth line that calls
`install()` whenever the project is on the path; pytest filters the same way by module
(pyproject.toml).
"""

from __future__ import annotations

import warnings
from typing import Any, Optional, TextIO, Type

RASA_NOTES = "rasa/shared/utils/io.py"
_show = warnings.showwarning


def third_party(filename: str) -> bool:
    """The warning was raised in an installed package, not about the project's data."""
    path = filename.replace("\\", "/")
    return "site-packages/" in path and not path.endswith(RASA_NOTES)


def _showwarning(
    message: Any, category: Type[Warning], filename: str, lineno: int,
    file: Optional[TextIO] = None, line: Optional[str] = None,
) -> None:
    if not third_party(filename):
        _show(message, category, filename, lineno, file, line)


def install() -> None:
    """Show warnings raised in the project, and Rasa's notes on its data; drop the rest."""
    warnings.showwarning = _showwarning
