"""People who log in to the supervisor pages."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class Role(StrEnum):
    """Roles of the supervisor UI."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    DEPARTMENT_HEAD = "department_head"
    OFFICER = "officer"


class User(SQLModel, table=True):
    """A log-in account."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=32)
    department_id: int | None = Field(default=None, foreign_key="department.id")
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    created_at: datetime
    disabled: bool = False
