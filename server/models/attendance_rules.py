"""Attendance rules, schedules, leave (请销假), make-up punches (补签) and their audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class LeaveType(StrEnum):
    """Kinds of leave."""

    PUBLIC = "公假"
    PERSONAL = "事假"
    SICK = "病假"
    OUTING = "临时外出"
    VACATION = "休假"


class RequestStatus(StrEnum):
    """Where a leave or make-up request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class AttendanceConfig(SQLModel, table=True):
    """The hall's attendance rules (one row), stored as the ``AttendanceRules`` model dump."""

    __tablename__ = "attendance_config"

    id: int | None = Field(default=None, primary_key=True)
    rules: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")


class OfficerSchedule(SQLModel, table=True):
    """An officer's own working periods, overriding the hall's."""

    __tablename__ = "officer_schedule"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", unique=True)
    periods: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime


class LeaveRequest(SQLModel, table=True):
    """A leave over a time range, approved or rejected by a supervisor."""

    __tablename__ = "leave_request"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    leave_type: str = Field(max_length=16)
    start_at: datetime = Field(index=True)
    end_at: datetime = Field(index=True)
    reason: str = Field(default="", max_length=500)
    status: str = Field(default=RequestStatus.PENDING.value, max_length=16)
    requested_by: int = Field(foreign_key="app_user.id")
    created_at: datetime
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None


class MakeupRequest(SQLModel, table=True):
    """A make-up punch request; once approved it has become a punch (``punch_id``)."""

    __tablename__ = "makeup_request"

    id: int | None = Field(default=None, primary_key=True)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    window_id: int = Field(foreign_key="window.id")
    punch_at: datetime = Field(index=True)
    reason: str = Field(max_length=500)
    status: str = Field(default=RequestStatus.PENDING.value, max_length=16)
    requested_by: int = Field(foreign_key="app_user.id")
    created_at: datetime
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = None
    punch_id: int | None = Field(default=None, foreign_key="punch.id", unique=True)


class AttendanceAudit(SQLModel, table=True):
    """Who changed what in attendance, and when."""

    __tablename__ = "attendance_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=32)
    target: str = Field(max_length=32)
    target_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
