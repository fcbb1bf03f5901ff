"""``hall admin``: migrate, load a hall, manage device keys and users."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    from server.settings import get_settings

    if args.config:
        os.environ["HALL_CONFIG"] = str(Path(args.config).resolve())
    return get_settings().database_url


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the schema to the newest revision."""
    from server.migrate import upgrade

    upgrade(_database_url(args))
    print("schema is up to date")
    return 0


def _with_session(args: argparse.Namespace, action: Callable[[Session], None]) -> int:
    from server.db import make_engine, session_scope
    from server.errors import HallError

    engine = make_engine(_database_url(args))
    try:
        with session_scope(engine) as session:
            action(session)
    except HallError as err:
        print(f"hall admin: {err}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def cmd_load_hall(args: argparse.Namespace) -> int:
    """Load a hall configuration file."""
    from server.services.hall_config import load_hall, read_hall_file

    config = read_hall_file(Path(args.file))

    def act(session: Session) -> None:
        counts = load_hall(session, config)
        print("loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))

    return _with_session(args, act)


def cmd_device_add(args: argparse.Namespace) -> int:
    """Create (or re-key) a device and print its key once."""
    from server.models.devices import DeviceKind
    from server.services.admin import add_device

    def act(session: Session) -> None:
        key = add_device(session, args.device_id, DeviceKind(args.kind), args.window)
        print(key)

    return _with_session(args, act)


def cmd_device_revoke(args: argparse.Namespace) -> int:
    """Revoke a device key."""
    from server.services.admin import revoke_device

    def act(session: Session) -> None:
        revoke_device(session, args.device_id)
        print(f"revoked {args.device_id}")

    return _with_session(args, act)


def cmd_user_create(args: argparse.Namespace) -> int:
    """Create a log-in account (password from --password or $HALL_NEW_PASSWORD)."""
    from server.models.users import Role
    from server.services.admin import create_user

    password = args.password or os.environ.get("HALL_NEW_PASSWORD", "")

    def act(session: Session) -> None:
        create_user(session, args.username, password, Role(args.role), args.department)
        print(f"created {args.role} {args.username}")

    return _with_session(args, act)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``hall admin`` and its sub-commands."""
    admin = sub.add_parser("admin", help="administration")
    admin.add_argument("--config", help="server TOML file (else $HALL_CONFIG)")
    admin.add_argument("--database-url", help="override the database URL")
    cmds = admin.add_subparsers(dest="admin_command", required=True)
    p = cmds.add_parser("migrate", help="create or upgrade the schema")
    p.set_defaults(func=cmd_migrate)
    p = cmds.add_parser("load-hall", help="load a hall configuration (TOML)")
    p.add_argument("file")
    p.set_defaults(func=cmd_load_hall)
    dev = cmds.add_parser("device", help="device keys").add_subparsers(dest="device_command", required=True)
    p = dev.add_parser("add", help="create a device key (printed once)")
    p.add_argument("device_id")
    p.add_argument("--kind", choices=["agent", "kiosk"], required=True)
    p.add_argument("--window", type=int)
    p.set_defaults(func=cmd_device_add)
    p = dev.add_parser("revoke", help="lock a device key out")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_device_revoke)
    user = cmds.add_parser("user", help="log-in accounts").add_subparsers(dest="user_command", required=True)
    p = user.add_parser("create")
    p.add_argument("username")
    p.add_argument("--role", choices=["admin", "supervisor", "department_head", "officer"], required=True)
    p.add_argument("--department", help="department code (department heads)")
    p.add_argument("--password", help="password (else $HALL_NEW_PASSWORD)")
    p.set_defaults(func=cmd_user_create)
