"""Checks and renders the production configuration for deploy/start.sh.

    python deploy/configure.py check          # settings present, stores reachable
    python deploy/configure.py render-nginx TEMPLATE OUT

Every problem is one line naming the setting, never a stack trace.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Mapping

DEPLOY_DIR = Path(__file__).resolve().parent
REQUIRED = ("RASA_AUTH_TOKEN", "DB_HOST", "DB_PASSWORD", "REDIS_HOST")
PLACEHOLDER_VALUES = {"", "change-me"}
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


class ConfigError(Exception):
    """A setting is missing or wrong; the message names it."""


def ports(name: str, env: Mapping[str, str]) -> List[int]:
    """The ports listed (space-separated) in the variable `name`."""
    words = env.get(name, "").split()
    if not words or not all(word.isdigit() and 0 < int(word) < 65536 for word in words):
        raise ConfigError(f"{name} must list one or more ports, e.g. \"5005 5006\"")
    return [int(word) for word in words]


def check_settings(env: Mapping[str, str]) -> None:
    """Required variables are set to real values and the port lists are valid."""
    for name in REQUIRED:
        if env.get(name, "").strip() in PLACEHOLDER_VALUES:
            raise ConfigError(f"{name} is not set (see deploy/production.env.example)")
    if len(env["RASA_AUTH_TOKEN"]) < 16:
        raise ConfigError("RASA_AUTH_TOKEN is too short: use at least 16 random characters")
    ports("RASA_PORTS", env)
    ports("ACTION_PORTS", env)
    balance_directive(env.get("NGINX_BALANCE", "sender"))


def store_types(endpoints: Path) -> Dict[str, str]:
    """The tracker and lock store `type:` in the endpoints file (no environment needed)."""
    import yaml

    config = yaml.safe_load(endpoints.read_text(encoding="utf-8"))
    return {store: str(config[store]["type"]) for store in ("tracker_store", "lock_store")}


def check_store_class(store: str, type_name: str) -> None:
    """A custom store class can be imported.

    Rasa falls back to an in-memory tracker store, with only a warning, when it cannot import
    the class: every server would then keep its own conversations and lose them on restart.
    """
    if "." not in type_name:
        return  # one of Rasa's own types (SQL, redis, ...)
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")  # Rasa 3.6 pins SQLAlchemy 1.4
    module_name, _, class_name = type_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(f"{store} type {type_name}: cannot import ({error})") from None
    if not hasattr(module, class_name):
        raise ConfigError(f"{store} type {type_name}: no class {class_name}")


def check_postgresql(env: Mapping[str, str]) -> None:
    """The tracker store database accepts the configured user and password."""
    import psycopg2

    try:
        psycopg2.connect(
            host=env["DB_HOST"], port=int(env.get("DB_PORT", "5432")),
            dbname=env.get("DB_DATABASE", "rasa"), user=env.get("DB_USER", "rasa"),
            password=env["DB_PASSWORD"], connect_timeout=5,
        ).close()
    except psycopg2.Error as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise ConfigError(
            f"PostgreSQL at {env['DB_HOST']}:{env.get('DB_PORT', '5432')} "
            f"(DB_HOST, DB_PORT, DB_DATABASE, DB_USER, DB_PASSWORD): {first_line}"
        ) from None


def check_redis(env: Mapping[str, str]) -> None:
    """The lock store's Redis answers with the configured password."""
    import redis

    client = redis.Redis(
        host=env["REDIS_HOST"], port=int(env.get("REDIS_PORT", "6379")),
        db=int(env.get("REDIS_DB", "1")), password=env.get("REDIS_PASSWORD") or None,
        socket_timeout=5, socket_connect_timeout=5,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        raise ConfigError(
            f"Redis at {env['REDIS_HOST']}:{env.get('REDIS_PORT', '6379')} "
            f"(REDIS_HOST, REDIS_PORT, REDIS_DB, REDIS_PASSWORD): {error}"
        ) from None
    finally:
        client.close()


def upstream_servers(port_list: List[int]) -> str:
    """The nginx `server` lines for loopback servers on these ports."""
    return "\n".join(
        f"        server 127.0.0.1:{port} max_fails=3 fail_timeout=10s;" for port in port_list
    )


def balance_directive(balance: str) -> str:
    """The nginx directive for NGINX_BALANCE: `sender` (sticky) or `round_robin`."""
    if balance == "sender":
        return "        hash $chat_sender consistent;"
    if balance == "round_robin":
        return ""
    raise ConfigError(f"NGINX_BALANCE must be sender or round_robin, got {balance!r}")


def render(template: str, env: Mapping[str, str]) -> str:
    """The template with every ${NAME} replaced; the upstream lists are computed."""
    values: Dict[str, str] = dict(env)
    values["RASA_UPSTREAM_SERVERS"] = upstream_servers(ports("RASA_PORTS", env))
    values["ACTION_UPSTREAM_SERVERS"] = upstream_servers(ports("ACTION_PORTS", env))
    values["RASA_BALANCE"] = balance_directive(env.get("NGINX_BALANCE", "sender"))
    missing = sorted({name for name in PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise ConfigError(f"the nginx template needs {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def main(argv: List[str]) -> int:
    """Run one command; print one line and return 1 on a configuration problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="settings present, PostgreSQL and Redis reachable")
    check.add_argument("--endpoints", type=Path, default=DEPLOY_DIR / "endpoints.yml")
    nginx = commands.add_parser("render-nginx", help="write nginx.conf from the template")
    nginx.add_argument("template", type=Path)
    nginx.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    env = os.environ
    try:
        if args.command == "check":
            check_settings(env)
            for store, type_name in store_types(args.endpoints).items():
                check_store_class(store, type_name)
            check_postgresql(env)
            check_redis(env)
        else:
            args.out.write_text(render(args.template.read_text(encoding="utf-8"), env))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
