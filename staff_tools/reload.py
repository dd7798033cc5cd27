"""Load the newly trained model into the running Rasa server, keeping every conversation.

    python -m staff_tools.reload [--url http://127.0.0.1:5005] [--model models/clinic.tar.gz]

`make reload` trains first if the data changed (`scripts/train.sh`), then runs this. It asks the
server to swap its model with Rasa's HTTP API (`PUT /model`, the token from
`$RASA_AUTH_TOKEN` or var/rasa_auth_token, as scripts/run.sh starts the server). Conversations
live in the tracker store, not in the model, so none is lost: a visitor who was mid-way
carries on with the new model. While the new model loads (some seconds), the server holds
new messages and answers them once it is ready.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import requests

from clinic.paths import PROJECT_DIR
from clinic.run_state import MachineState, current_generation, live_workers, wait_for_generation

DEFAULT_MODEL = PROJECT_DIR / "models" / "clinic.tar.gz"
TOKEN_FILE = PROJECT_DIR / "var" / "rasa_auth_token"
TOKEN_ENV_VAR = "RASA_AUTH_TOKEN"
# Loading a model takes a while on two cores; the server answers when it is done.
LOAD_TIMEOUT_SECONDS = 600
# How long after `PUT /model` the server's processes have to show the new model generation
# (clinic/run_state.py; they look every second) before the reload counts as one
# of a server that does not share this machine's run-state file.
GENERATION_SHOWS_SECONDS = 5.0

# Why a reload failed (ReloadError.reason).
NOT_RUNNING, REFUSED_TOKEN, TIMEOUT, NO_MODEL, SERVER_ERROR = (
    "not_running", "refused_token", "timeout", "no_model", "server_error")


class ReloadError(Exception):
    """A problem staff can fix (server not running, wrong token); shown as one line.

    `reason` says which, for callers that word it themselves (the staff console): one of
    NOT_RUNNING, REFUSED_TOKEN, TIMEOUT, NO_MODEL, SERVER_ERROR.
    """

    def __init__(self, message: str, reason: str = SERVER_ERROR) -> None:
        super().__init__(message)
        self.reason = reason


def default_url() -> str:
    """The Rasa server that `make run` starts (RASA_HOST, RASA_PORT from scripts/env.sh)."""
    host = os.environ.get("RASA_HOST") or "127.0.0.1"
    return f"http://{host}:{os.environ.get('RASA_PORT') or '5005'}"


def auth_token() -> str:
    """The HTTP API token: `$RASA_AUTH_TOKEN`, else the one `make run` keeps in var/."""
    token = os.environ.get(TOKEN_ENV_VAR, "").strip()
    if not token and TOKEN_FILE.is_file():
        token = TOKEN_FILE.read_text(encoding="utf-8").strip()
    if not token:
        raise ReloadError(
            f"no API token: set {TOKEN_ENV_VAR} to the server's --auth-token, or start the "
            f"server with `make run`, which keeps one in {TOKEN_FILE.relative_to(PROJECT_DIR)}"
        )
    return token


def _status(url: str, token: str) -> Dict[str, Any]:
    response = requests.get(f"{url}/status", params={"token": token}, timeout=30)
    _raise_for_answer(response, url)
    return dict(response.json())


def _raise_for_answer(response: requests.Response, url: str) -> None:
    if response.status_code in (401, 403):
        raise ReloadError(
            f"the Rasa server at {url} refused the token: set {TOKEN_ENV_VAR} to the "
            "--auth-token it was started with", REFUSED_TOKEN,
        )
    if not response.ok:
        try:
            detail = response.json().get("message") or response.text
        except ValueError:
            detail = response.text
        raise ReloadError(f"the Rasa server at {url} answered {response.status_code}: "
                          f"{str(detail).strip()[:300]}")


def _not_running(url: str) -> ReloadError:
    return ReloadError(
        f"no Rasa server is running at {url}: start it with `make run` (it loads the newest "
        "model by itself), or give its address with --url", NOT_RUNNING,
    )


def check_running(url: str) -> None:
    """Raise `ReloadError` if no Rasa server answers at `url` (its root needs no token)."""
    try:
        requests.get(url.rstrip("/") + "/", timeout=10)
    except requests.RequestException:
        raise _not_running(url) from None


def server_status(url: str, token: str) -> Dict[str, Any]:
    """The running server's `/status`; `ReloadError` if none runs or it refuses the token."""
    url = url.rstrip("/")
    try:
        return _status(url, token)
    except requests.ConnectionError:
        raise _not_running(url) from None
    except requests.Timeout:
        raise ReloadError(f"the Rasa server at {url} did not answer in time", TIMEOUT) from None


def _machine_generation(state: MachineState) -> Optional[int]:
    """The model generation of this machine's Rasa servers (None: no run-state file here)."""
    if not state.path.is_file():
        return None
    generation = current_generation(state)
    return generation.number if generation else 0


def _wait_for_every_process(state: MachineState, before: Optional[int], started: float) -> None:
    """With several Rasa server processes, wait until each serves the model just loaded.

    `PUT /model` reached one of them; it makes the model the machine's within a second and
    the others load it (clinic/run_state.py). If no new generation shows within a
    few seconds, the server is not this machine's (or follows none): nothing to wait for.
    """
    if before is None:
        return
    if wait_for_generation(state, before, timeout=GENERATION_SHOWS_SECONDS, poll=0.2,
                           every_process=False) is None:
        return
    left = LOAD_TIMEOUT_SECONDS - (time.monotonic() - started)
    if wait_for_generation(state, before, timeout=max(left, 1.0)) is None:
        generation = current_generation(state)
        behind = sorted(pid for pid, served in live_workers(state).items()
                        if generation is None or served < generation.number)
        raise ReloadError(f"the Rasa server processes {behind} did not load the new model in "
                          "time; see the server's log", TIMEOUT)


def reload_model(url: str, model: Path, token: str) -> Dict[str, Any]:
    """Make the server at `url` load `model`; return its status afterwards."""
    model = model.resolve()
    if not model.is_file():
        raise ReloadError(f"no trained model at {model}: run `make train` first", NO_MODEL)
    url = url.rstrip("/")
    state = MachineState()  # $RUN_STATE_DB
    generation_before = _machine_generation(state)
    try:
        before = _status(url, token)
        started = time.monotonic()
        response = requests.put(
            f"{url}/model", params={"token": token}, json={"model_file": str(model)},
            timeout=LOAD_TIMEOUT_SECONDS,
        )
        _raise_for_answer(response, url)
        _wait_for_every_process(state, generation_before, started)
        after = _status(url, token)
    except requests.ConnectionError:
        raise _not_running(url) from None
    except requests.Timeout:
        raise ReloadError(f"the Rasa server at {url} did not answer in time", TIMEOUT) from None
    after["seconds"] = round(time.monotonic() - started, 1)
    after["previous_model_id"] = before.get("model_id")
    return after


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m staff_tools.reload",
        description="Load a trained model into the running Rasa server; conversations are kept.",
    )
    parser.add_argument("--url", default=default_url(),
                        help="the Rasa server (default: %(default)s)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL,
                        help="the model file (default: models/clinic.tar.gz)")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point: 0 when the server runs the model, 1 with a one-line error otherwise."""
    args = parse_args(argv)
    try:
        check_running(args.url)
        status = reload_model(args.url, args.model, auth_token())
    except ReloadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"The Rasa server at {args.url} now answers with {args.model} "
          f"(model id {status.get('model_id')}, was {status.get('previous_model_id')}; "
          f"loaded in {status['seconds']} s). Conversations are kept.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
