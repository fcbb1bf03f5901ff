"""Staff badges (工作证/门禁卡) registered for log-in at a window's contactless reader."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

# Punch.page is NOT NULL and page 0 is a real reader page: a badge punch stores this instead.
BADGE_PUNCH_PAGE = -1


class Badge(SQLModel, table=True):
    """One contactless card, by its UID (upper-case hex), issued to one officer."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True, max_length=20)
    officer_id: int = Field(foreign_key="officer.id", index=True)
    issued_at: datetime
    issued_by: str = Field(default="", max_length=64)
    revoked_at: datetime | None = None
    revoked_by: str = Field(default="", max_length=64)


class BadgePunch(SQLModel, table=True):
    """The source of a punch made with a badge: which badge the window's reader saw."""

    __tablename__ = "badge_punch"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    badge_id: int = Field(foreign_key="badge.id", index=True)
