"""The hall's registry: departments, service items, windows, officers and A/B posts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Department(SQLModel, table=True):
    """A department with windows in the hall."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=100)


class ServiceItem(SQLModel, table=True):
    """A service item (事项) citizens take tickets for."""

    __tablename__ = "service_item"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=200)
    ticket_prefix: str = Field(max_length=4)
    department_id: int = Field(foreign_key="department.id", index=True)
    committed_days: int = Field(default=0, ge=0)
    materials: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Window(SQLModel, table=True):
    """A counter window."""

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    name: str = Field(default="", max_length=100)
    department_id: int = Field(foreign_key="department.id", index=True)
    commitments: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class WindowItem(SQLModel, table=True):
    """Which service items a window serves."""

    __tablename__ = "window_item"

    window_id: int = Field(foreign_key="window.id", primary_key=True)
    item_id: int = Field(foreign_key="service_item.id", primary_key=True)


class Officer(SQLModel, table=True):
    """A member of window staff."""

    id: int | None = Field(default=None, primary_key=True)
    staff_no: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=50)
    post: str = Field(default="", max_length=50)
    department_id: int = Field(foreign_key="department.id", index=True)
    photo_url: str = Field(default="", max_length=300)
    supervision_phone: str = Field(default="", max_length=30)
    active: bool = True


class PostAssignment(SQLModel, table=True):
    """An officer's A-post (主岗) or B-post (备岗) at a window (AB岗)."""

    __tablename__ = "post_assignment"
    __table_args__ = (UniqueConstraint("window_id", "officer_id"),)

    id: int | None = Field(default=None, primary_key=True)
    window_id: int = Field(foreign_key="window.id", index=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    role: str = Field(max_length=1)  # "A" or "B"
