"""Staff accounts: names and argon2 password hashes in the console's database.

    python -m staff_console.accounts add NAME [--email ADDRESS]   # asks for the password twice
    python -m staff_console.accounts password NAME                # a new password
    python -m staff_console.accounts remove NAME
    python -m staff_console.accounts list

`make console-user NAME=anna` runs the first. The database is CONSOLE_DB (var/console.sqlite
by default); `--db` names another. Passwords are hashed with argon2id (argon2-cffi's
defaults), never stored or logged. The name and e-mail address are the author of every change
the person makes in the console (a git commit in the project).
"""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clinic import launcher
from staff_console.db import Database

NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._-]{1,39}")
EMAIL_PATTERN = re.compile(r"[^@\s<>]+@[^@\s<>]+")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_HASHER = PasswordHasher()
# Verified when the account does not exist, so that a wrong name takes as long as a wrong
# password and the answer's timing does not tell which names exist.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class AccountError(ValueError):
    """A name or password that cannot be used: the message says why."""


@dataclass(frozen=True)
class Account:
    """A staff member who may sign in."""

    name: str
    email: str
    created: float


def password_problem(password: str) -> Optional[str]:
    """Why a new password cannot be used, or None."""
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"the password may have at most {MAX_PASSWORD} characters"
    if not password.strip():
        return "the password cannot be only spaces"
    return None


class Accounts:
    """The accounts table of the console's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, name: str, password: str, email: str = "") -> Account:
        """Create an account; `AccountError` if the name is taken or a value is not allowed."""
        if not NAME_PATTERN.fullmatch(name):
            raise AccountError("the name must be 2 to 40 letters, digits, dots, dashes or "
                               "underscores, starting with a letter (e.g. anna or a.lopez)")
        email = email.strip() or f"{name.lower()}@staff-console.invalid"
        if not EMAIL_PATTERN.fullmatch(email):
            raise AccountError(f"{email!r} is not an e-mail address")
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        if self.get(name):
            raise AccountError(f"there is already an account named {name}")
        account = Account(name, email, time.time())
        with self.database.connect() as connection:
            connection.execute(
                "INSERT INTO accounts (name, email, password_hash, created) VALUES (?, ?, ?, ?)",
                (name, email, _HASHER.hash(password), account.created))
        return account

    def get(self, name: str) -> Optional[Account]:
        """The account of that name (any capitals), or None."""
        with self.database.connect() as connection:
            row = connection.execute("SELECT name, email, created FROM accounts WHERE name = ?",
                                     (name,)).fetchone()
        return Account(*row) if row else None

    def all(self) -> List[Account]:
        """Every account, by name."""
        with self.database.connect() as connection:
            rows = connection.execute(
                "SELECT name, email, created FROM accounts ORDER BY name").fetchall()
        return [Account(*row) for row in rows]

    def set_password(self, name: str, password: str) -> None:
        """Give an account a new password (and end its sessions)."""
        problem = password_problem(password)
        if problem:
            raise AccountError(problem)
        with self.database.connect() as connection:
            changed = connection.execute(
                "UPDATE accounts SET password_hash = ? WHERE name = ?",
                (_HASHER.hash(password), name)).rowcount
            connection.execute("DELETE FROM sessions WHERE account = ?", (name,))
        if not changed:
            raise AccountError(f"there is no account named {name}")

    def remove(self, name: str) -> None:
        """Delete an account and end its sessions."""
        with self.database.connect() as connection:
            removed = connection.execute("DELETE FROM accounts WHERE name = ?",
                                         (name,)).rowcount
            connection.execute("DELETE FROM sessions WHERE account = ?", (name,))
        if not removed:
            raise AccountError(f"there is no account named {name}")

    def verify(self, name: str, password: str) -> Optional[Account]:
        """The account if the password is right, else None (as slowly for unknown names)."""
        with self.database.connect() as connection:
            row = connection.execute(
                "SELECT name, email, created, password_hash FROM accounts WHERE name = ?",
                (name,)).fetchone()
        try:
            _HASHER.verify(row[3] if row else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row:
            return None
        if _HASHER.check_needs_rehash(row[3]):  # argon2's parameters were raised since
            with self.database.connect() as connection:
                connection.execute("UPDATE accounts SET password_hash = ? WHERE name = ?",
                                   (_HASHER.hash(password), row[0]))
        return Account(row[0], row[1], row[2])


# ---- command line ---------------------------------------------------------------------------

def default_db() -> Path:
    """CONSOLE_DB, or the launcher table's default (var/console.sqlite)."""
    return Path(launcher.settings()["CONSOLE_DB"])


def _ask_password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        first = getpass.getpass("Password (at least 10 characters): ")
        problem = password_problem(first)
        if problem:
            raise AccountError(problem)
        again = getpass.getpass("The same password again: ")
    except EOFError:  # no terminal to type it in (a script, a pipe that ended)
        raise AccountError("no password was typed; run it in a terminal, or give the password "
                           "on standard input with --password-stdin") from None
    if again != first:
        raise AccountError("the two passwords differ; nothing was changed")
    return first


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Add, list, remove an account or change its password; 1 with a one-line error."""
    parser = argparse.ArgumentParser(prog="python -m staff_console.accounts",
                                     description="Staff console accounts.")
    parser.add_argument("--db", type=Path, default=None,
                        help="the console's database (default: CONSOLE_DB or "
                             "var/console.sqlite)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account (asks for its password)")
    add.add_argument("name")
    add.add_argument("--email", default="", help="the author address of the person's changes")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input")
    password = commands.add_parser("password", help="set a new password (ends its sessions)")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true")
    remove = commands.add_parser("remove", help="delete an account")
    remove.add_argument("name")
    commands.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)
    db_path = args.db or default_db()
    accounts = Accounts(Database(db_path))
    try:
        if args.command == "add":
            account = accounts.add(args.name, _ask_password(args.password_stdin), args.email)
            print(f"Account {account.name} created ({account.email}) in {db_path}. "
                  f"Sign in at http://127.0.0.1:{os.environ.get('CONSOLE_PORT') or '8090'}/")
        elif args.command == "password":
            accounts.set_password(args.name, _ask_password(args.password_stdin))
            print(f"New password set for {args.name}; their open sessions were ended.")
        elif args.command == "remove":
            accounts.remove(args.name)
            print(f"Account {args.name} removed.")
        else:
            for account in accounts.all():
                print(f"{account.name}\t{account.email}\t"
                      f"{time.strftime('%Y-%m-%d', time.localtime(account.created))}")
    except AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
