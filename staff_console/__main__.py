"""Run the staff console: `python -m staff_console [--port 8090] [--project DIR]`.

`make run` starts it beside the other servers (clinic/launcher.py), on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from staff_console.app import configure_logging, create_app
from staff_console.config import ConsoleConfig


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Serve the console until stopped."""
    defaults = ConsoleConfig.from_environment()
    parser = argparse.ArgumentParser(prog="python -m staff_console",
                                     description="The staff console (web pages for staff).")
    parser.add_argument("--host", default=defaults.host,
                        help="the address to listen on (default: %(default)s; keep loopback "
                             "and reach it through an SSH tunnel or an HTTPS proxy)")
    parser.add_argument("--port", type=int, default=defaults.port)
    parser.add_argument("--project", type=Path, default=defaults.project,
                        help="the project folder whose data it edits (a git repository)")
    parser.add_argument("--db", type=Path, default=defaults.db_path,
                        help="the console's database (accounts, sessions)")
    args = parser.parse_args(argv)
    config = ConsoleConfig.from_environment(host=args.host, port=args.port,
                                            project=args.project.resolve(), db_path=args.db)
    configure_logging()
    app = create_app(config)
    print(f"Staff console: http://{args.host}:{args.port}/", flush=True)
    app.run(host=args.host, port=args.port, access_log=False, debug=False,
            auto_reload=False, workers=1, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
