"""Starting the servers, written once: one table of defaults, the command lines, start and stop.

`make run` (scripts/run.sh), `deploy/start.sh`, the benchmark (benchmark/servers.py) and the
tests' fixtures (tests/test_end_to_end.py:Servers) all start the action server and the Rasa
server through this module, and the chat webhook's limits (clinic_server/rest_channel.py,
`Limits`) take their defaults from the same table.

Every entry of `DEFAULTS` is an environment variable: a value already set (and not empty) in the
environment wins, as `${NAME:-default}` does in a shell script. From the shell:

    eval "$(python -m clinic.launcher env)"                   # scripts/env.sh
    eval "$(python -m clinic.launcher env --profile deploy)"  # deploy/start.sh, after the file
    python -m clinic.launcher run                             # scripts/run.sh: start, wait, serve
    python -m clinic.launcher command rasa --port 5005 ...    # one command line, NUL-separated

Standard library only at import (the settings are read only for the CORS origins), so
scripts/env.sh can use it before the packages are installed; never imports rasa.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Dict, List, Mapping, Optional, Sequence, Union

from clinic.paths import MODEL_PATH, PROJECT_DIR, VENV_BIN

LOOPBACK = "127.0.0.1"
VAR_DIR = PROJECT_DIR / "var"
# The Rasa HTTP API's token when RASA_AUTH_TOKEN is not set: generated once, kept out of git.
TOKEN_FILE = VAR_DIR / "rasa_auth_token"
ENDPOINTS = "endpoints.yml"  # relative to the project folder, the servers' working directory
DEPLOY_ENDPOINTS = "deploy/endpoints.yml"
CREDENTIALS = "credentials.yml"
# `rasa run` with the speed-ups of clinic_speedups (same behaviour; docs/performance.md).
SPEEDUPS_SERVER = (str(VENV_BIN / "python"), "-m", "clinic_speedups", "run")
PLAIN_SERVER = (str(VENV_BIN / "rasa"), "run")

# ---- the one table of defaults --------------------------------------------------------------
# Environment variable -> default. "{NAME}" in a default is the value of NAME (from this table or
# the environment); "{PROJECT_DIR}" is the project folder. The README's "Environment variables"
# table and docs/deployment.md describe them.
DEFAULTS: Dict[str, str] = {
    "RASA_HOST": LOOPBACK,
    "RASA_PORT": "5005",
    "ACTION_PORT": "5055",
    "WIDGET_PORT": "8080",  # the demo page with the chat widget (webchat/serve.py)
    # The staff console (staff_console/): on loopback only; its accounts, sessions and inbox
    # marks in CONSOLE_DB. A session ends after CONSOLE_SESSION_IDLE_MINUTES without a request
    # and CONSOLE_SESSION_MAX_HOURS after signing in. Behind an HTTPS proxy, name the host it
    # is reached by in CONSOLE_ALLOWED_HOSTS and set CONSOLE_SECURE_COOKIES=true.
    "CONSOLE_PORT": "8090",
    "CONSOLE_DB": "{PROJECT_DIR}/var/console.sqlite",
    "CONSOLE_SESSION_IDLE_MINUTES": "30",
    "CONSOLE_SESSION_MAX_HOURS": "12",
    "CONSOLE_ALLOWED_HOSTS": "",
    "CONSOLE_SECURE_COOKIES": "false",
    "ACTION_ENDPOINT_URL": "http://127.0.0.1:{ACTION_PORT}/webhook",
    "TRACKER_STORE_URL": "sqlite:///{PROJECT_DIR}/var/tracker.db",
    # What the Rasa server processes of this machine share (ticket locks, rate-limit counts,
    # the model they serve): clinic/run_state.py. One file per Rasa server.
    "RUN_STATE_DB": "{PROJECT_DIR}/var/run-state.sqlite",
    # Rasa server processes on the one port, one per core (Rasa reads it; each about 0.9 GB;
    # they share RUN_STATE_DB). 2 on this 2-core machine: docs/performance.md.
    "SANIC_WORKERS": "2",
    # The action server listens on loopback only (rasa-sdk reads SANIC_HOST).
    "SANIC_HOST": LOOPBACK,
    # Limits of the chat webhook (clinic_server/rest_channel.py); 0 switches one off. The rates
    # are per machine (all its Rasa server processes), over a sliding window. Behind a proxy, set
    # SANIC_PROXIES_COUNT=1 (or SANIC_REAL_IP_HEADER) so that the per-IP limit sees visitors.
    "CHAT_MAX_BODY_BYTES": "65536",
    "CHAT_MAX_MESSAGE_CHARS": "2000",
    "CHAT_RATE_WINDOW_SECONDS": "10",
    "CHAT_RATE_LIMIT_PER_SENDER": "20",
    "CHAT_RATE_LIMIT_PER_IP": "60",
    # Any request body to either server (Sanic reads SANIC_*): refused with 413 before it is
    # read. The action server gets the session's whole tracker, about 4.5 KB a turn: 2 MiB is
    # ~450 turns. In production also nginx's limit for action calls.
    "SANIC_REQUEST_MAX_SIZE": "2097152",
    # Quiet.
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "PYTHONWARNINGS": "default",
}
# Production on one machine (deploy/start.sh, docs/deployment.md): on top of DEFAULTS.
DEPLOY_DEFAULTS: Dict[str, str] = {
    "RASA_PORTS": "5005 5006",
    "ACTION_PORTS": "5055 5056",
    "NGINX_LISTEN": "127.0.0.1:8000",
    "NGINX_ACTIONS_LISTEN": "127.0.0.1:5054",
    "NGINX_RATE_LIMIT": "5r/s",
    "NGINX_RATE_BURST": "20",
    "NGINX_MAX_BODY": "16k",
    "NGINX_READ_TIMEOUT": "60s",
    "NGINX_BALANCE": "sender",
    "DB_PORT": "5432",
    "DB_DATABASE": "rasa",
    "DB_USER": "rasa",
    "REDIS_PORT": "6379",
    "REDIS_DB": "1",
    "REDIS_PASSWORD": "",
    "TICKET_LOCK_LIFETIME": "3",
    "SQL_POOL_SIZE": "10",
    "SQL_MAX_OVERFLOW": "10",
    "SANIC_WORKERS": "1",
    # nginx adds the visitor's address to X-Forwarded-For: the chat webhook's per-IP limit must
    # count visitors, not nginx's one address (Sanic reads SANIC_PROXIES_COUNT).
    "SANIC_PROXIES_COUNT": "1",
    "RASA_MODEL": "models/clinic.tar.gz",
}
# Set whatever the environment says. Private and offline, every process:
FORCED: Dict[str, str] = {
    "RASA_TELEMETRY_ENABLED": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
# In production the action servers listen on loopback and every Rasa server calls them through
# nginx's private listener.
DEPLOY_FORCED: Dict[str, str] = {
    "SANIC_HOST": LOOPBACK,
    "ACTION_ENDPOINT_URL": "http://{NGINX_ACTIONS_LISTEN}/webhook",
}
PROFILES = ("dev", "deploy")

READY_SECONDS = 180  # how long `run` waits for the Rasa server (make run)
STOP_SECONDS = 20  # SIGTERM, then SIGKILL after this long


def default_int(name: str) -> int:
    """A whole-number default of the table, e.g. a chat limit."""
    return int(DEFAULTS[name])


def _expand(value: str, env: Mapping[str, str]) -> str:
    return value.format_map({"PROJECT_DIR": str(PROJECT_DIR), **env})


def defaults(profile: str = "dev") -> Dict[str, str]:
    """The table for `profile` ("dev": make run, tests, benchmark; "deploy": deploy/start.sh)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: one of {', '.join(PROFILES)}")
    return {**DEFAULTS, **(DEPLOY_DEFAULTS if profile == "deploy" else {})}


def settings(base: Optional[Mapping[str, str]] = None, profile: str = "dev") -> Dict[str, str]:
    """The table's variables as the servers get them: `base` (the environment) wins if set."""
    base = os.environ if base is None else base
    values: Dict[str, str] = {}
    for name, default in defaults(profile).items():
        values[name] = base.get(name) or _expand(default, {**base, **values})
    forced = {**FORCED, **(DEPLOY_FORCED if profile == "deploy" else {})}
    for name, value in forced.items():
        values[name] = _expand(value, {**base, **values})
    return values


def environment(
    overrides: Optional[Mapping[str, str]] = None,
    base: Optional[Mapping[str, str]] = None,
    profile: str = "dev",
) -> Dict[str, str]:
    """A server's whole environment: `base` (os.environ), the table, then `overrides`.

    PYTHONPATH starts with the project folder (the project is not installed).
    """
    base = dict(os.environ if base is None else base)
    env = {**base, **settings(base, profile)}
    paths = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path]
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_DIR), *(path for path in paths if path != str(PROJECT_DIR))]
    )
    env.update(overrides or {})
    return env


def action_endpoint_url(port: int, host: str = LOOPBACK) -> str:
    """The action server's webhook, as the Rasa server calls it (ACTION_ENDPOINT_URL)."""
    return f"http://{host}:{port}/webhook"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


# ---- command lines --------------------------------------------------------------------------

def action_server_command(port: int, env: Optional[Mapping[str, str]] = None) -> List[str]:
    """`rasa run actions` on `port` (RASA in the environment may name another rasa)."""
    rasa = (os.environ if env is None else env).get("RASA") or str(VENV_BIN / "rasa")
    return [rasa, "run", "actions", "--actions", "actions", "--port", str(port)]


def rasa_server_command(
    port: int,
    *,
    host: str = LOOPBACK,
    model: Union[str, Path] = MODEL_PATH,
    endpoints: Optional[str] = ENDPOINTS,
    credentials: Optional[str] = CREDENTIALS,
    auth_token: Optional[str] = None,
    cors: Sequence[str] = (),
    server: Sequence[str] = SPEEDUPS_SERVER,
    extra: Sequence[str] = (),
) -> List[str]:
    """The Rasa server on `host`:`port`; the HTTP API is on only with an `auth_token`."""
    command = [*server, "--model", str(model), "--interface", host, "--port", str(port)]
    if endpoints:
        command += ["--endpoints", endpoints]
    if credentials:
        command += ["--credentials", credentials]
    if auth_token:
        command += ["--enable-api", "--auth-token", auth_token]
    if cors:
        command += ["--cors", *cors]
    return [*command, *extra]


def widget_server_command(port: int, rasa_url: str) -> List[str]:
    """webchat/serve.py: the demo page with the chat widget, pointed at `rasa_url`."""
    return [str(VENV_BIN / "python"), "-m", "webchat.serve", "--port", str(port),
            "--rasa-url", rasa_url]


def console_server_command(port: int, host: str = LOOPBACK) -> List[str]:
    """staff_console: the staff's web pages, on `host` (loopback) and `port`."""
    return [str(VENV_BIN / "python"), "-m", "staff_console", "--host", host, "--port", str(port)]


def widget_origins() -> List[str]:
    """The pages that may call the Rasa server (CORS): widget_origins in settings/clinic.yml."""
    from clinic.settings import load_settings  # PyYAML: only when a command line needs it

    return list(load_settings().widget_origins)


def auth_token(env: Optional[Mapping[str, str]] = None, token_file: Path = TOKEN_FILE) -> str:
    """RASA_AUTH_TOKEN, or the one generated once into `token_file` (readable by us only)."""
    token = (os.environ if env is None else env).get("RASA_AUTH_TOKEN", "")
    if token:
        return token
    if not token_file.exists() or not token_file.read_text().strip():
        token_file.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
    return token_file.read_text().strip()


# ---- start, wait, stop ----------------------------------------------------------------------

def start(
    command: Sequence[str],
    env: Mapping[str, str],
    log: Optional[IO[str]] = None,
    cwd: Union[str, Path] = PROJECT_DIR,
) -> subprocess.Popen:
    """Start one server in the background; its output to `log` (None: this terminal)."""
    return subprocess.Popen(
        list(command), cwd=cwd, env=dict(env), stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )


def answers(url: str, timeout: float = 2) -> bool:
    """`url` answers a GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def wait_until_up(
    url: str, processes: Sequence[subprocess.Popen], seconds: float, interval: float = 1.0
) -> None:
    """Until `url` answers; RuntimeError if one of `processes` exits first, else TimeoutError."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"a server exited while starting ({url}), see its log")
        if answers(url):
            return
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer in {seconds:.0f} s")


def stop(
    processes: Sequence[subprocess.Popen], logs: Sequence[IO[str]] = (),
    seconds: float = STOP_SECONDS,
) -> None:
    """Stop `processes` (SIGTERM, then SIGKILL after `seconds`) and close their `logs`."""
    # Terminate all first so that they shut down side by side, then wait for each.
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for log in logs:
        log.close()


# ---- make run -------------------------------------------------------------------------------

READY_MESSAGE = """
The assistant is ready.
  Demo page with the chat widget:  http://127.0.0.1:{WIDGET_PORT}/
  Staff console:  http://127.0.0.1:{CONSOLE_PORT}/  (an account: make console-user NAME=...)
  Chat (REST):  curl -s -XPOST http://{RASA_HOST}:{RASA_PORT}/webhooks/rest/webhook \\
                  -d '{{"sender": "me", "message": "Is ketamine FDA approved?"}}'
  Parse (API):  curl -s -XPOST "http://{RASA_HOST}:{RASA_PORT}/model/parse?token=$(cat \
var/rasa_auth_token)" \\
                  -d '{{"text": "how much does it cost?"}}'
  Settings:     settings/clinic.yml   Conversations: {TRACKER_STORE_URL}
Press Ctrl-C to stop."""


def run() -> int:
    """For make run: the action and Rasa servers, demo page and staff console, until one stops."""
    env = environment()
    VAR_DIR.mkdir(exist_ok=True)
    rasa_url = f"http://{env['RASA_HOST']}:{env['RASA_PORT']}"
    commands = {
        "action server": action_server_command(int(env["ACTION_PORT"]), env),
        "Rasa server": rasa_server_command(
            int(env["RASA_PORT"]), host=env["RASA_HOST"], model="models/clinic.tar.gz",
            auth_token=auth_token(env), cors=widget_origins(),
        ),
        "demo page": widget_server_command(int(env["WIDGET_PORT"]), rasa_url),
        "staff console": console_server_command(int(env["CONSOLE_PORT"])),
    }
    # SIGTERM stops the servers as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    processes: Dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            processes[name] = start(command, env)
        print(f"Starting: action server on 127.0.0.1:{env['ACTION_PORT']}, Rasa server on "
              f"{env['RASA_HOST']}:{env['RASA_PORT']} ...", flush=True)
        try:
            wait_until_up(rasa_url + "/", [processes["Rasa server"]], READY_SECONDS)
        except RuntimeError:
            print("error: the Rasa server stopped, see above", file=sys.stderr)
            return 1
        except TimeoutError:
            pass  # as before: say how to reach it anyway; it may still be loading
        print(READY_MESSAGE.format_map(env), flush=True)
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.5)
        return next(p.returncode for p in processes.values() if p.returncode is not None)
    except KeyboardInterrupt:
        return 130
    finally:
        stop(list(processes.values()))


# ---- command line ---------------------------------------------------------------------------

def _export_lines(profile: str) -> str:
    return "\n".join(
        f"export {name}={shlex.quote(value)}" for name, value in settings(profile=profile).items()
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`env`, `run` or `command`: see the module's docstring."""
    parser = argparse.ArgumentParser(prog="python -m clinic.launcher", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="what", required=True)
    env_parser = commands.add_parser("env", help="`export` lines of the table, for eval")
    env_parser.add_argument("--profile", choices=PROFILES, default="dev")
    commands.add_parser("run", help="start the servers for make run")
    command_parser = commands.add_parser("command", help="one server's command line, NUL-separated")
    command_parser.add_argument("server", choices=("actions", "rasa"))
    command_parser.add_argument("--port", type=int, required=True)
    command_parser.add_argument("--model", default=str(MODEL_PATH))
    command_parser.add_argument("--endpoints", default=ENDPOINTS)
    args = parser.parse_args(argv)
    if args.what == "env":
        print(_export_lines(args.profile))
        return 0
    if args.what == "run":
        return run()
    if args.server == "actions":
        command = action_server_command(args.port)
    else:
        # The HTTP API listens on 127.0.0.1 only; its token is RASA_AUTH_TOKEN.
        command = rasa_server_command(args.port, model=args.model, endpoints=args.endpoints,
                                      auth_token=auth_token(), cors=widget_origins())
    sys.stdout.write("\0".join(command) + "\0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
