"""Queries over edge devices, their keys and reported states."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from server.models import Device, DeviceState, DeviceStatusChange
from server.repo import driver


def device_by_id(session: Session, device_id: str) -> Device | None:
    """The device with this id."""
    return session.exec(select(Device).where(Device.device_id == device_id)).first()


_DEVICE_TABLE = Device.__table__  # type: ignore[attr-defined]
_DEVICE_BY_ID = core_select(*_DEVICE_TABLE.c).where(_DEVICE_TABLE.c.device_id == bindparam("device_id"))


def device_snapshot(session: Session, device_id: str) -> Device | None:
    """The device with this id as a detached copy, for checking the key a request presents.

    One Core read (no ORM query, no identity map): it runs on every device request. The copy is
    not in the session; change a device through ``device_by_id``.
    """
    row = session.connection().execute(_DEVICE_BY_ID, {"device_id": device_id}).first()
    return None if row is None else Device(**row._mapping)


def all_devices(session: Session) -> Sequence[Device]:
    """Every registered edge device."""
    return session.exec(select(Device).order_by(col(Device.device_id))).all()


def touch(session: Session, device: Device, seen_at: datetime, clock_offset_s: float | None) -> None:
    """Record that the device was heard from, and its clock offset when known.

    One UPDATE by key (not the ORM's, which would look for the row in the session), so ``device``
    may come from another (read-only, closed) session; the object is kept in step without being
    marked changed.
    """
    values: dict[str, Any] = {"last_seen_at": seen_at}
    if clock_offset_s is not None:
        values["clock_offset_s"] = clock_offset_s
    # Plain SQL through the driver: this runs for every batch, inside SQLite's write lock.
    dialect = session.get_bind().dialect
    columns = tuple(values)
    params = driver.bound(tuple(values.values()), driver.bind_processors(_DEVICE_TABLE, columns, dialect))
    driver.execute(session, _touch_sql(dialect, columns), (*params, device.id))
    for name, value in values.items():
        set_committed_value(device, name, value)


@lru_cache(maxsize=8)
def _touch_sql(dialect: Dialect, columns: tuple[str, ...]) -> str:
    """``UPDATE device SET <columns> = ... WHERE id = ...``."""
    quote = dialect.identifier_preparer.quote
    mark = driver.marks(dialect, 1)
    sets = ", ".join(f"{quote(name)} = {mark}" for name in columns)
    return f"UPDATE {quote(_DEVICE_TABLE.name)} SET {sets} WHERE {quote('id')} = {mark}"


def record_state(session: Session, change: DeviceStatusChange) -> None:
    """Append a state change and update the latest state of that device, if newer."""
    session.add(change)
    current = session.exec(
        select(DeviceState).where(
            DeviceState.device_id == change.device_id, DeviceState.device == change.device
        )
    ).first()
    if current is None:
        current = DeviceState(
            device_id=change.device_id,
            device=change.device,
            device_kind=change.device_kind,
            state=change.state,
            reason=change.reason,
            since=change.device_time,
        )
    elif change.device_time >= current.since:
        current.state, current.reason, current.since = change.state, change.reason, change.device_time
        current.device_kind = change.device_kind
    session.add(current)


def device_states(session: Session) -> Sequence[DeviceState]:
    """Latest state of every physical device."""
    return session.exec(
        select(DeviceState).order_by(col(DeviceState.device_id), col(DeviceState.device))
    ).all()


def state_history(session: Session, device_id: str, limit: int = 200) -> Sequence[DeviceStatusChange]:
    """Recent state changes reported by one edge process, newest first."""
    stmt = (
        select(DeviceStatusChange)
        .where(DeviceStatusChange.device_id == device_id)
        .order_by(col(DeviceStatusChange.device_time).desc())
        .limit(limit)
    )
    return session.exec(stmt).all()
