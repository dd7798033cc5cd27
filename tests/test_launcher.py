"""The launcher (clinic/launcher.py): one table of defaults, the environment wins, the command
lines every starter uses. Starts no server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinic import launcher
from clinic.paths import MODEL_PATH, PROJECT_DIR, VENV_BIN
from clinic_server.rest_channel import Limits


def test_the_table_has_the_values_the_scripts_had() -> None:
    assert launcher.settings({}) == {
        "RASA_HOST": "127.0.0.1", "RASA_PORT": "5005", "ACTION_PORT": "5055",
        "WIDGET_PORT": "8080", "CONSOLE_PORT": "8090",
        "CONSOLE_DB": f"{PROJECT_DIR}/var/console.sqlite", "CONSOLE_SESSION_IDLE_MINUTES": "30",
        "CONSOLE_SESSION_MAX_HOURS": "12", "CONSOLE_ALLOWED_HOSTS": "",
        "CONSOLE_SECURE_COOKIES": "false", "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{PROJECT_DIR}/var/tracker.db",
        "RUN_STATE_DB": f"{PROJECT_DIR}/var/run-state.sqlite", "SANIC_WORKERS": "2",
        "SANIC_HOST": "127.0.0.1",
        "CHAT_MAX_BODY_BYTES": "65536", "CHAT_MAX_MESSAGE_CHARS": "2000",
        "CHAT_RATE_WINDOW_SECONDS": "10", "CHAT_RATE_LIMIT_PER_SENDER": "20",
        "CHAT_RATE_LIMIT_PER_IP": "60", "SANIC_REQUEST_MAX_SIZE": "2097152",
        "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "default",
        "RASA_TELEMETRY_ENABLED": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    }


def test_the_chat_limits_default_to_the_table() -> None:
    limits = Limits.from_environment({})
    assert (limits.max_body_bytes, limits.max_message_chars, limits.rate_window_seconds,
            limits.rate_per_sender, limits.rate_per_ip) == tuple(
        int(launcher.DEFAULTS[Limits.ENVIRONMENT[name]]) for name in (
            "max_body_bytes", "max_message_chars", "rate_window_seconds", "rate_per_sender",
            "rate_per_ip"))


def test_the_environment_wins_and_an_empty_value_takes_the_default() -> None:
    values = launcher.settings({"ACTION_PORT": "6000", "CHAT_RATE_LIMIT_PER_IP": "0",
                                "SANIC_HOST": "", "RASA_TELEMETRY_ENABLED": "true"})
    assert values["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6000/webhook"
    assert values["CHAT_RATE_LIMIT_PER_IP"] == "0"  # 0 switches the limit off
    assert values["SANIC_HOST"] == "127.0.0.1"
    assert values["RASA_TELEMETRY_ENABLED"] == "false"  # private whatever the environment says
    url = "postgresql://rasa:secret@db:5432/rasa"
    assert launcher.settings({"TRACKER_STORE_URL": url})["TRACKER_STORE_URL"] == url


def test_the_deploy_profile_adds_production_defaults_and_calls_actions_through_nginx() -> None:
    values = launcher.settings({"NGINX_ACTIONS_LISTEN": "127.0.0.1:7054",
                                "ACTION_ENDPOINT_URL": "http://elsewhere/webhook",
                                "SANIC_HOST": "0.0.0.0", "SANIC_WORKERS": "2"}, "deploy")
    assert values["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:7054/webhook"
    assert values["SANIC_HOST"] == "127.0.0.1"
    assert values["SANIC_WORKERS"] == "2"
    assert (values["RASA_PORTS"], values["ACTION_PORTS"]) == ("5005 5006", "5055 5056")
    assert values["SANIC_PROXIES_COUNT"] == "1" and values["REDIS_PASSWORD"] == ""
    assert values["CHAT_RATE_LIMIT_PER_IP"] == "60"  # the same table underneath
    assert "RASA_PORTS" not in launcher.settings({})
    with pytest.raises(ValueError, match="profile"):
        launcher.settings({}, "staging")


def test_a_servers_environment_puts_the_project_first_and_overrides_last() -> None:
    env = launcher.environment({"TRACKER_STORE_URL": "sqlite:///x.db"},
                               base={"PYTHONPATH": f"/elsewhere{os.pathsep}{PROJECT_DIR}",
                                     "TRACKER_STORE_URL": "sqlite:///y.db", "HOME": "/home/x"})
    assert env["PYTHONPATH"] == f"{PROJECT_DIR}{os.pathsep}/elsewhere"
    assert env["TRACKER_STORE_URL"] == "sqlite:///x.db"
    assert env["HOME"] == "/home/x" and env["SANIC_HOST"] == "127.0.0.1"


def test_the_command_lines() -> None:
    assert launcher.action_server_command(5055, {}) == [
        str(VENV_BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", "5055"]
    assert launcher.action_server_command(5055, {"RASA": "/stand/in"})[0] == "/stand/in"
    assert launcher.rasa_server_command(5005, auth_token="t", cors=["https://a.test"]) == [
        str(VENV_BIN / "python"), "-m", "clinic_speedups", "run", "--model", str(MODEL_PATH),
        "--interface", "127.0.0.1", "--port", "5005", "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml", "--enable-api", "--auth-token", "t",
        "--cors", "https://a.test"]
    plain = launcher.rasa_server_command(6000, model="m.tar.gz", server=launcher.PLAIN_SERVER,
                                         endpoints=None, credentials=None)
    assert plain == [str(VENV_BIN / "rasa"), "run", "--model", "m.tar.gz",
                     "--interface", "127.0.0.1", "--port", "6000"]
    assert launcher.widget_server_command(8080, "http://127.0.0.1:5005")[1:] == [
        "-m", "webchat.serve", "--port", "8080", "--rasa-url", "http://127.0.0.1:5005"]
    assert launcher.console_server_command(8090)[1:] == [
        "-m", "staff_console", "--host", "127.0.0.1", "--port", "8090"]


def test_the_token_is_the_environments_or_generated_once(tmp_path: Path) -> None:
    token_file = tmp_path / "var" / "token"
    assert launcher.auth_token({"RASA_AUTH_TOKEN": "given"}, token_file) == "given"
    assert not token_file.exists()
    generated = launcher.auth_token({}, token_file)
    assert len(generated) >= 32 and launcher.auth_token({}, token_file) == generated
    assert token_file.stat().st_mode & 0o777 == 0o600


def test_start_wait_and_stop_a_server(tmp_path: Path) -> None:
    port = launcher.free_port()
    with open(tmp_path / "log", "w") as log:
        server = launcher.start([sys.executable, "-m", "http.server", str(port),
                                 "--bind", "127.0.0.1"], launcher.environment(), log, tmp_path)
        launcher.wait_until_up(f"http://127.0.0.1:{port}/", [server], 30, interval=0.1)
        launcher.stop([server])
    assert server.returncode is not None
    dead = launcher.start([sys.executable, "-c", "pass"], launcher.environment())
    dead.wait()
    with pytest.raises(RuntimeError, match="exited"):
        launcher.wait_until_up(f"http://127.0.0.1:{launcher.free_port()}/", [dead], 30)


def test_env_sh_exports_the_table_and_keeps_what_is_set() -> None:
    script = ("source scripts/env.sh && echo \"$CHAT_RATE_LIMIT_PER_IP $ACTION_ENDPOINT_URL "
              "$SANIC_REQUEST_MAX_SIZE\"")
    env = {key: value for key, value in os.environ.items()
           if key not in launcher.DEFAULTS and key != "ACTION_ENDPOINT_URL"}
    result = subprocess.run(["bash", "-c", script], cwd=PROJECT_DIR, capture_output=True,
                            text=True, check=True, env={**env, "ACTION_PORT": "6001",
                                                        "CHAT_RATE_LIMIT_PER_IP": "0"})
    assert result.stdout.split() == ["0", "http://127.0.0.1:6001/webhook", "2097152"]


def test_the_command_subcommand_prints_a_nul_separated_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clinic.launcher", "command", "actions", "--port", "5056"],
        cwd=PROJECT_DIR, capture_output=True, check=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.stdout.decode().split("\0")[:-1][1:] == [
        "run", "actions", "--actions", "actions", "--port", "5056"]
