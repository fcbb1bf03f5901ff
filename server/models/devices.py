"""Edge devices (agents and kiosks), their keys and reported states."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class DeviceKind(StrEnum):
    """What kind of edge process holds a key."""

    AGENT = "agent"
    KIOSK = "kiosk"


class Device(SQLModel, table=True):
    """An edge process (a window's counter agent or a kiosk) and its hashed key."""

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(unique=True, max_length=64)
    kind: str = Field(max_length=16)
    window_id: int | None = Field(default=None, foreign_key="window.id", index=True)
    key_hash: str = Field(max_length=128)
    created_at: datetime
    revoked_at: datetime | None = None
    last_seen_at: datetime | None = None
    clock_offset_s: float | None = None


class DeviceState(SQLModel, table=True):
    """Latest state of one physical device behind an edge process."""

    __tablename__ = "device_state"

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64, index=True)
    device: str = Field(max_length=64)
    device_kind: str = Field(max_length=32)
    state: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    since: datetime


class DeviceStatusChange(SQLModel, table=True):
    """History of device state changes."""

    __tablename__ = "device_status_change"

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64, index=True)
    device: str = Field(max_length=64)
    device_kind: str = Field(max_length=32)
    state: str = Field(max_length=16)
    reason: str = Field(default="", max_length=500)
    device_time: datetime
    received_at: datetime
