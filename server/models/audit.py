"""The audit log: every change a person makes through the supervisor pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    """Who did what to which target, when, from where, with the details."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64, index=True)  # the user name (or the name tried at a failed log-in)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    role: str = Field(default="", max_length=32)
    action: str = Field(max_length=48, index=True)
    target: str = Field(default="", max_length=120)
    client: str = Field(default="", max_length=64)  # the client address the request came from
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
