"""Cases (办件) accepted at windows and their history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class CaseStatus(StrEnum):
    """Where a case stands."""

    ACCEPTED = "accepted"  # 已受理, the clock runs
    SUPPLEMENT = "supplement"  # 补正, the clock is paused until the materials arrive
    COMPLETED = "completed"  # 办结
    REFUSED = "refused"  # 不予受理
    APPROVED = "approved"  # 准予许可
    REJECTED = "rejected"  # 不予批准


OPEN_STATUSES = frozenset({CaseStatus.ACCEPTED, CaseStatus.SUPPLEMENT})


class CaseAction(StrEnum):
    """What happened to a case."""

    ACCEPTED = "accepted"
    SUPPLEMENT = "supplement"
    SUPPLIED = "supplied"
    COMPLETED = "completed"
    REFUSED = "refused"
    APPROVED = "approved"
    REJECTED = "rejected"


class Case(SQLModel, table=True):
    """One case; the first officer (首问负责) is set at acceptance and never changes."""

    __tablename__ = "case_record"  # "case" is an SQL keyword

    id: int | None = Field(default=None, primary_key=True)
    case_no: str = Field(unique=True, max_length=40)
    client_ref: str = Field(unique=True, max_length=36)
    item_id: int = Field(foreign_key="service_item.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    window_id: int = Field(foreign_key="window.id", index=True)
    first_officer_id: int = Field(foreign_key="officer.id", index=True)
    # The ID number is kept only as a keyed hash (to find a person's cases) and a masked form.
    applicant_hash: str = Field(max_length=64, index=True)
    applicant_masked: str = Field(max_length=32)
    applicant_name_masked: str = Field(max_length=50)
    ticket_no: str | None = Field(default=None, max_length=16)
    status: str = Field(max_length=16, index=True)
    accepted_at: datetime = Field(index=True)
    accepted_on: date  # hall-local day of acceptance: numbering and deadlines
    seq: int
    committed_days: int = Field(ge=0)
    due_date: date = Field(index=True)
    completed_at: datetime | None = None
    reason: str = Field(default="", max_length=1000)
    finished_on_spot: bool = False


class CaseEvent(SQLModel, table=True):
    """One step in a case's history."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case_record.id", index=True)
    action: str = Field(max_length=16)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    actor: str = Field(max_length=64)  # the device id or user name that made the request
    at: datetime
    on_day: date  # hall-local day, for the clock pauses
    note: str = Field(default="", max_length=1000)
    missing: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
