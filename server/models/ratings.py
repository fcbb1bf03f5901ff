"""Ratings (好差评) and keypad misuse signals."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Rating(SQLModel, table=True):
    """One service's rating, linked to window, officer on duty, ticket and case; level None = not rated."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    service_id: str = Field(unique=True, max_length=36)  # one service, one rating (一次一评)
    window_id: int = Field(foreign_key="window.id", index=True)
    department_id: int = Field(foreign_key="department.id", index=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="service_item.id", index=True)
    level: int | None = None
    ticket_no: str | None = Field(default=None, max_length=16)
    case_no: str | None = Field(default=None, max_length=40)
    channel: str = Field(default="keypad", max_length=16)
    reaction_ms: int | None = None
    rated_at: datetime = Field(index=True)
    excluded: bool = False


class MisuseSignal(SQLModel, table=True):
    """A press outside a service or another sign of interference with the keypad."""

    __tablename__ = "misuse_signal"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    window_id: int = Field(foreign_key="window.id", index=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    signal: str = Field(max_length=32)
    key: str = Field(default="", max_length=16)
    happened_at: datetime
