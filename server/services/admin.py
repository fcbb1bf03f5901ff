"""Administrative actions: device keys and log-in accounts."""

from __future__ import annotations

from sqlmodel import Session, select

from server.errors import ConflictError, NotFoundError
from server.models import Department, Device, User
from server.models.devices import DeviceKind
from server.models.users import Role
from server.passwords import hash_password
from server.repo import devices as device_repo
from server.repo import registry
from server.security import hash_key, new_device_key
from server.timeutil import utcnow


def add_device(session: Session, device_id: str, kind: DeviceKind, window_number: int | None) -> str:
    """Register a device (or give an existing one a new key); return the key, shown only this once."""
    window_id = None
    if kind is DeviceKind.AGENT:
        if window_number is None:
            raise ConflictError("a counter agent must be bound to a window (--window N)")
        window = registry.window_by_number(session, window_number)
        if window is None:
            raise NotFoundError(f"window {window_number} does not exist; load the hall configuration first")
        window_id = window.id
    key = new_device_key(device_id)
    device = device_repo.device_by_id(session, device_id)
    if device is None:
        device = Device(
            device_id=device_id,
            kind=kind.value,
            window_id=window_id,
            key_hash=hash_key(key),
            created_at=utcnow(),
        )
    else:
        device.kind, device.window_id, device.key_hash, device.revoked_at = (
            kind.value,
            window_id,
            hash_key(key),
            None,
        )
    session.add(device)
    session.flush()
    return key


def revoke_device(session: Session, device_id: str) -> None:
    """Lock a device's key out; effective for the very next request."""
    device = device_repo.device_by_id(session, device_id)
    if device is None:
        raise NotFoundError(f"no device {device_id!r}")
    device.revoked_at = utcnow()
    session.add(device)


def create_user(
    session: Session, username: str, password: str, role: Role, department_code: str | None = None
) -> User:
    """Create a log-in account; a department head needs a department."""
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise ConflictError(f"user {username!r} exists")
    if len(password) < 8:
        raise ConflictError("password must have at least 8 characters")
    department_id = None
    if department_code:
        dep = session.exec(select(Department).where(Department.code == department_code)).first()
        if dep is None:
            raise NotFoundError(f"no department {department_code!r}")
        department_id = dep.id
    if role is Role.DEPARTMENT_HEAD and department_id is None:
        raise ConflictError("a department head needs --department")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        department_id=department_id,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user
