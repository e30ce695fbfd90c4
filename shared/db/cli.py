"""``alchm db`` and ``alchm user`` command groups (registered into ``shared.cli.COMMAND_GROUPS``).

    alchm db upgrade [REV]          migrate to REV (default: head)
    alchm db downgrade REV          migrate down to REV (``base`` empties the schema)
    alchm db current                print the database's revision
    alchm db revision -m MSG [--autogenerate]
                                    new migration file (autogenerate compares the models with the database)
    alchm user create-admin --email E [--password P | --password-stdin] [--display-name N]
                                    the password may also come from ALCHM_ADMIN_PASSWORD

Every command takes ``--database-url`` (default: ``ALCHM_DATABASE_URL`` / the settings). Exit codes: 0 ok,
1 refused (e.g. the email exists, the password breaks the policy), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TextIO

from shared.cli import COMMAND_GROUPS


def _say(message: str, *, file: TextIO | None = None) -> None:
    (file or sys.stdout).write(message + "\n")


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    from shared.settings import Settings

    return Settings().database_url


def _redacted(url: str) -> str:
    from shared.db.engine import normalise_database_url

    return normalise_database_url(url).render_as_string(hide_password=True)


# -- alchm db ----------------------------------------------------------------------------------------------


def _configure_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None, help="default: ALCHM_DATABASE_URL")
    sub = parser.add_subparsers(dest="db_command", required=True)
    p = sub.add_parser("upgrade", help="apply migrations up to REV (default head)")
    p.add_argument("revision", nargs="?", default="head")
    p = sub.add_parser("downgrade", help="revert migrations down to REV (e.g. base, -1)")
    p.add_argument("revision")
    sub.add_parser("current", help="print the current revision")
    p = sub.add_parser("revision", help="create a new migration file")
    p.add_argument("-m", "--message", required=True)
    p.add_argument("--autogenerate", action="store_true")


def _run_db(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.util.exc import CommandError

    from shared.db import migrate

    url = _database_url(args)
    try:
        if args.db_command == "upgrade":
            migrate.upgrade(url, args.revision)
            _say(f"{_redacted(url)}: at {migrate.current(url) or 'base'}")
        elif args.db_command == "downgrade":
            migrate.downgrade(url, args.revision)
            _say(f"{_redacted(url)}: at {migrate.current(url) or 'base'}")
        elif args.db_command == "current":
            rev = migrate.current(url)
            head = migrate.head_revision()
            state = "head" if rev == head else f"behind head {head}"
            _say(f"{rev or 'base'} ({state})")
        elif args.db_command == "revision":
            command.revision(
                migrate.alembic_config(url), message=args.message, autogenerate=args.autogenerate
            )
    except CommandError as exc:
        _say(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, ConnectionError) as exc:
        _say(f"error: cannot reach the database {_redacted(url)}: {exc}", file=sys.stderr)
        return 1
    return 0


# -- alchm user --------------------------------------------------------------------------------------------


def _configure_user(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None, help="default: ALCHM_DATABASE_URL")
    sub = parser.add_subparsers(dest="user_command", required=True)
    p = sub.add_parser("create-admin", help="create an administrator account")
    p.add_argument("--email", required=True)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--password", default=None, help="prefer ALCHM_ADMIN_PASSWORD or --password-stdin")
    group.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.add_argument("--display-name", default=None)


def _admin_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password:
        return str(args.password)
    return os.environ.get("ALCHM_ADMIN_PASSWORD") or None


async def _create_admin(url: str, email: str, password: str, display_name: str | None) -> str:
    from shared.auth.authenticator import Authenticator
    from shared.auth.service import create_user
    from shared.db.engine import Database
    from shared.settings import Settings

    db = Database(url, application_name="alchm-cli")
    try:
        auth = Authenticator(Settings(database_url=url), db, service="alchm-cli")
        async with db.session() as session:
            user = await create_user(
                session,
                auth,
                email=email,
                password=password,
                display_name=display_name,
                roles=["admin"],
                tier="admin",
            )
            await session.commit()
            return str(user.id)
    finally:
        await db.dispose()


def _run_user(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from shared.errors import AppError

    if args.user_command != "create-admin":  # pragma: no cover - argparse enforces the choices
        return 2
    password = _admin_password(args)
    if not password:
        _say(
            "error: no password given (use --password-stdin, ALCHM_ADMIN_PASSWORD or --password)",
            file=sys.stderr,
        )
        return 2
    try:
        from email_validator import EmailNotValidError, validate_email

        validate_email(args.email, check_deliverability=False)
    except EmailNotValidError as exc:
        _say(f"error: email: {exc}", file=sys.stderr)
        return 1
    url = _database_url(args)
    try:
        user_id = asyncio.run(_create_admin(url, args.email, password, args.display_name))
    except AppError as exc:
        detail = exc.details[0] if exc.details else {}
        field = detail.get("field")
        _say(f"error: {field + ': ' if field else ''}{exc.message}", file=sys.stderr)
        return 1
    except DBAPIError as exc:
        hint = " (run `alchm db upgrade` first?)" if "users" in str(exc.orig) else ""
        _say(f"error: database refused: {str(exc.orig).splitlines()[0]}{hint}", file=sys.stderr)
        return 1
    except OSError as exc:
        _say(f"error: cannot reach the database {_redacted(url)}: {exc}", file=sys.stderr)
        return 1
    _say(f"created admin {args.email.strip().lower()} ({user_id})")
    return 0


COMMAND_GROUPS["db"] = (_configure_db, _run_db)
COMMAND_GROUPS["user"] = (_configure_user, _run_user)
