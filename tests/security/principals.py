"""Who can knock on the server: anonymous, each user role, each device kind and a revoked key."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from server.db import session_scope
from server.models.devices import DeviceKind
from server.models.users import Role
from server.services.admin import add_device, create_user, revoke_device

PASSWORD = "matrix-pass-1"
USERS = {
    "admin": (Role.ADMIN, None),
    "supervisor": (Role.SUPERVISOR, None),
    "department_head": (Role.DEPARTMENT_HEAD, "GA"),
    "officer": (Role.OFFICER, None),
}
DEVICES = ("agent", "kiosk", "revoked")
PRINCIPALS = ("anonymous", *USERS, *DEVICES)


def add_principals(engine: Engine, keys: dict[str, str]) -> dict[str, str]:
    """Create one user per role and a revoked agent key; return each principal's bearer secret."""
    secrets = {"agent": keys["agent-w1"], "kiosk": keys["kiosk-1"]}
    with session_scope(engine) as session:
        for name, (role, department) in USERS.items():
            create_user(session, f"m-{name}", PASSWORD, role, department)
        secrets["revoked"] = add_device(session, "agent-revoked", DeviceKind.AGENT, 2)
        revoke_device(session, "agent-revoked")
    return secrets
