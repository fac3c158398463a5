"""Command line: ``python -m llm_chat.cli admin EMAIL`` and friends.

The only ways to become admin: this command, run by whoever runs the server.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from llm_chat.config import SettingsError, ensure_secrets
from llm_chat.db import session_scope
from llm_chat.errors import AppError
from llm_chat.i18n import translate
from llm_chat.models import Role
from llm_chat.services import catalog, users
from llm_chat.services.access import SYSTEM
from llm_chat.services.startup import schema_is_current


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise SystemExit(translate("en", "auth.password_mismatch"))
    return first


def _admin(args: argparse.Namespace) -> str:
    with session_scope() as session:
        try:
            user = users.set_role.within(session, email=args.email, role=Role.ADMIN)
            return f"{user.email} is now an admin."
        except AppError:
            pass
    password = _read_password(args.password_stdin)
    with session_scope() as session:
        user = users.register_user.within(
            session,
            email=args.email,
            password=password,
            display_name=args.name,
            role=Role.ADMIN,
        )
    return f"Created admin {user.email}."


def _demote(args: argparse.Namespace) -> str:
    with session_scope() as session:
        user = users.set_role.within(session, email=args.email, role=Role.USER)
    return f"{user.email} is no longer an admin."


def _add_provider(args: argparse.Namespace) -> str:
    api_key = sys.stdin.readline().strip() if args.api_key_stdin else ""
    with session_scope() as session:
        provider = catalog.create_provider.within(
            session,
            actor=SYSTEM,
            name=args.name,
            kind=args.kind,
            base_url=args.base_url,
            api_key=api_key,
        )
        for model_name in args.model:
            catalog.create_model.within(
                session,
                actor=SYSTEM,
                provider_id=provider.id,
                display_name=model_name,
                model_name=model_name,
            )
    return f"Added provider {provider.name} with {len(args.model)} model(s)."


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m llm_chat.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("admin", help="make a user admin (creates it if needed)")
    admin.add_argument("email")
    admin.add_argument("--name", default="", help="display name of a new account")
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.set_defaults(run=_admin)
    demote = commands.add_parser("demote", help="take the admin role away")
    demote.add_argument("email")
    demote.set_defaults(run=_demote)
    provider = commands.add_parser("add-provider", help="add an OpenAI-compatible provider")
    provider.add_argument("name")
    provider.add_argument("base_url")
    provider.add_argument("--kind", default="custom")
    provider.add_argument("--model", action="append", default=[], help="a model id (repeatable)")
    provider.add_argument("--api-key-stdin", action="store_true", help="read the key from stdin")
    provider.set_defaults(run=_add_provider)
    args = parser.parse_args(argv)
    try:
        ensure_secrets()  # a first start may be this command: add-provider encrypts a key
    except SettingsError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if not schema_is_current():
        sys.stderr.write("The database is not migrated: run `make migrate` first.\n")
        return 1
    try:
        sys.stdout.write(args.run(args) + "\n")
    except AppError as exc:
        sys.stderr.write(translate("en", exc.code) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
