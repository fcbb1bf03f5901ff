"""Fingerprint enrolments and punches (指纹考勤)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class FingerprintEnrollment(SQLModel, table=True):
    """Which officer a template page on one reader belongs to."""

    __tablename__ = "fingerprint_enrollment"
    __table_args__ = (UniqueConstraint("device_id", "page"),)

    id: int | None = Field(default=None, primary_key=True)
    device_id: str = Field(max_length=64, index=True)
    page: int
    officer_id: int = Field(foreign_key="officer.id", index=True)


class Punch(SQLModel, table=True):
    """One clock-in/out punch at a window."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    window_id: int = Field(foreign_key="window.id", index=True)
    device_id: str = Field(max_length=64)
    page: int
    score: int = 0
    punched_at: datetime = Field(index=True)
