"""Queries of the hall's entered working-day calendar."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlmodel import Session, col, delete, select

from server.models.calendar import CalendarDay, CalendarYear


def all_days(session: Session) -> list[tuple[date, bool]]:
    """Every entered day with whether the hall works on it."""
    rows = session.exec(select(col(CalendarDay.day), col(CalendarDay.working)))
    return [(day, bool(working)) for day, working in rows]


def entered_years(session: Session) -> list[int]:
    """The years whose whole arrangement the hall has entered."""
    return [int(y) for y in session.exec(select(col(CalendarYear.year)))]


def days_of_year(session: Session, year: int) -> Sequence[CalendarDay]:
    """The entered days of one year, in date order."""
    stmt = (
        select(CalendarDay)
        .where(col(CalendarDay.day) >= date(year, 1, 1), col(CalendarDay.day) <= date(year, 12, 31))
        .order_by(col(CalendarDay.day))
    )
    return session.exec(stmt).all()


def year_row(session: Session, year: int) -> CalendarYear | None:
    """The mark that the year was entered, if any."""
    return session.get(CalendarYear, year)


def replace_year(
    session: Session, year: int, days: Iterable[CalendarDay], entered_by: str | None, at: datetime
) -> None:
    """Replace the year's days, and mark it entered by ``entered_by`` at ``at`` (None: not entered)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    session.exec(delete(CalendarDay).where(col(CalendarDay.day) >= first, col(CalendarDay.day) <= last))
    session.add_all(list(days))
    mark = session.get(CalendarYear, year)
    if entered_by is None:
        if mark is not None:
            session.delete(mark)
    else:
        mark = mark or CalendarYear(year=year, entered_at=at)
        mark.entered_at, mark.entered_by = at, entered_by
        session.add(mark)
    session.flush()
