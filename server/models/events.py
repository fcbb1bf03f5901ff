"""Every edge event the server has seen, keyed by its edge-made UUID (the idempotency record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class EdgeEventRecord(SQLModel, table=True):
    """One edge event, applied at most once; rejected events are kept with their reason."""

    __tablename__ = "edge_event"

    id: str = Field(primary_key=True, max_length=36)
    kind: str = Field(max_length=32, index=True)
    device_id: str = Field(max_length=64, index=True)
    window_number: int | None = None
    device_time: datetime
    received_at: datetime = Field(index=True)
    outcome: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
