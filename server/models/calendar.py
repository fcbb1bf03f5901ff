"""The hall's working-day calendar as its administrator entered it: days off (放假), make-up days."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

NOTE_MAX_CHARS = 32


class CalendarDay(SQLModel, table=True):
    """One day the hall is closed (``working`` False) or works although the statutory calendar rests."""

    __tablename__ = "calendar_day"

    day: date = Field(primary_key=True)
    working: bool
    note: str = Field(default="", max_length=NOTE_MAX_CHARS)  # e.g. 春节


class CalendarYear(SQLModel, table=True):
    """A year whose whole holiday arrangement the hall has entered: who marked it, and when."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    entered_at: datetime
    entered_by: str = Field(default="", max_length=64)
