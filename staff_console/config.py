"""The console's settings: the project folder, its database, the servers it talks to.

Every value comes from the environment, with the defaults of clinic/launcher.py's one table
(CONSOLE_PORT, CONSOLE_DB, CONSOLE_SESSION_IDLE_MINUTES, CONSOLE_SESSION_MAX_HOURS,
CONSOLE_ALLOWED_HOSTS, CONSOLE_SECURE_COOKIES; RASA_HOST, RASA_PORT, TRACKER_STORE_URL), so
`make run`, the tests and a hand-started console agree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional, Tuple

from clinic import launcher
from clinic.paths import PROJECT_DIR


@dataclass(frozen=True)
class ConsoleConfig:
    """How one console process runs."""

    project: Path = PROJECT_DIR  # the folder whose data it edits (a git repository)
    db_path: Path = PROJECT_DIR / "var" / "console.sqlite"  # accounts, sessions, inbox marks
    host: str = launcher.LOOPBACK
    port: int = 8090
    idle_seconds: float = 30 * 60  # a session ends after this long without a request
    max_seconds: float = 12 * 3600  # and this long after signing in, whatever happens
    allowed_hosts: Tuple[str, ...] = ()  # Host names besides loopback (behind a proxy)
    secure_cookies: bool = False  # true behind HTTPS: cookies are then never sent over HTTP
    rasa_url: str = "http://127.0.0.1:5005"
    tracker_store_url: str = ""
    rasa_token: Optional[str] = field(default=None, repr=False)  # None: launcher.auth_token()

    @classmethod
    def from_environment(cls, env: Optional[Mapping[str, str]] = None, **overrides: object
                         ) -> ConsoleConfig:
        """The settings from the environment (the launcher's table fills what is not set)."""
        values = launcher.settings(os.environ if env is None else env)
        config = cls(
            db_path=Path(values["CONSOLE_DB"]),
            port=int(values["CONSOLE_PORT"]),
            idle_seconds=float(values["CONSOLE_SESSION_IDLE_MINUTES"]) * 60,
            max_seconds=float(values["CONSOLE_SESSION_MAX_HOURS"]) * 3600,
            allowed_hosts=tuple(host.strip().lower() for host in
                                values["CONSOLE_ALLOWED_HOSTS"].split(",") if host.strip()),
            secure_cookies=values["CONSOLE_SECURE_COOKIES"].lower() in ("1", "true", "yes"),
            rasa_url=f"http://{values['RASA_HOST']}:{values['RASA_PORT']}",
            tracker_store_url=values["TRACKER_STORE_URL"],
            rasa_token=(os.environ if env is None else env).get("RASA_AUTH_TOKEN") or None,
        )
        return replace(config, **overrides)  # type: ignore[arg-type]

    def token(self) -> str:
        """The Rasa HTTP API's token (for loading a model): the environment's or var/'s."""
        return self.rasa_token or launcher.auth_token()

    def host_names(self) -> Tuple[str, ...]:
        """The Host headers the console answers (anything else: DNS rebinding, refused)."""
        port = str(self.port)
        names = {"127.0.0.1", "localhost", "[::1]", self.host}
        return tuple(sorted({f"{name}:{port}" for name in names} | set(self.allowed_hosts)))
