"""Fingerprint enrolments started from the server and carried out at a window's reader."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class EnrollmentStatus(StrEnum):
    """Life of an enrolment request."""

    PENDING = "pending"  # waiting for the agent to pick it up
    SENT = "sent"  # the agent has it and asks the officer to press twice
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # handed out, but no outcome came in time; a late outcome is still recorded


class EnrollmentRequest(SQLModel, table=True):
    """A supervisor's request to enrol an officer's finger on one window's reader."""

    __tablename__ = "enrollment_request"

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64, index=True)
    officer_id: int = Field(foreign_key="officer.id")
    status: str = Field(default=EnrollmentStatus.PENDING.value, max_length=16)
    page: int | None = None
    message: str = Field(default="", max_length=300)
    requested_by: str = Field(default="", max_length=64)
    created_at: datetime
    updated_at: datetime
