"""Rating exclusions, bad-review follow-ups (差评整改), appeals (申诉) and complaints (投诉)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel


class ExclusionSource(StrEnum):
    """Why a rating was left out of the statistics."""

    SUPERVISOR = "supervisor"  # a supervisor's decision on a flagged rating
    APPEAL = "appeal"  # an upheld appeal of a bad review


class RatingExclusion(SQLModel, table=True):
    """Audit record of a rating left out of the statistics; the rating itself is kept."""

    __tablename__ = "rating_exclusion"

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    source: str = Field(max_length=16)
    reason: str = Field(max_length=1000)
    decided_by: str = Field(max_length=64)
    decided_at: datetime


class FollowupStatus(StrEnum):
    """Stages of a bad-review follow-up."""

    OPEN = "open"
    VERIFIED = "verified"
    RECTIFIED = "rectified"
    CLOSED = "closed"


class AppealStatus(StrEnum):
    """State of a unit's appeal against a bad review."""

    NONE = "none"
    PENDING = "pending"
    UPHELD = "upheld"
    REJECTED = "rejected"


class Followup(SQLModel, table=True):
    """The follow-up of one bad review: verify, rectify, call back, close; or appeal."""

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    window_id: int = Field(foreign_key="window.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id", index=True)
    level: int
    status: str = Field(default=FollowupStatus.OPEN.value, max_length=16, index=True)
    opened_at: datetime
    verify_due: date
    rectify_due: date
    verified_at: datetime | None = None
    rectified_at: datetime | None = None
    closed_at: datetime | None = None
    callback_result: str | None = Field(default=None, max_length=8)
    appeal_status: str = Field(default=AppealStatus.NONE.value, max_length=16)
    appeal_evidence: str | None = Field(default=None, max_length=4000)
    appeal_decided_by: str | None = Field(default=None, max_length=64)
    appeal_decided_at: datetime | None = None


class FollowupNote(SQLModel, table=True):
    """One entry of a follow-up's history: a step taken or a note written."""

    __tablename__ = "followup_note"

    id: int | None = Field(default=None, primary_key=True)
    followup_id: int = Field(foreign_key="followup.id", index=True)
    action: str = Field(max_length=24)
    text: str = Field(default="", max_length=4000)
    author: str = Field(max_length=64)
    created_at: datetime


class Complaint(SQLModel, table=True):
    """A complaint (投诉) about a window or officer, to be answered by the next working day."""

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    content: str = Field(max_length=4000)
    window_id: int | None = Field(default=None, foreign_key="window.id")
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    department_id: int = Field(foreign_key="department.id", index=True)
    assignee: str = Field(default="", max_length=64)
    contact_hash: str | None = Field(default=None, max_length=64)  # HMAC of the phone, never clear
    contact_masked: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(index=True)
    answer_due: date
    answered_at: datetime | None = None
    answer: str | None = Field(default=None, max_length=4000)
    answered_by: str | None = Field(default=None, max_length=64)
