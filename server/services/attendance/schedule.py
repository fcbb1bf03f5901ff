"""Who is due when: the hall's rules, officers' own periods, working days and local time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from server.repo import attendance_rules as repo
from server.services.attendance import AttendanceError
from server.services.attendance.rules import AttendanceRules, Interval, Period, check_periods
from server.services.hall_calendar import hall_calendar
from server.settings import ServerSettings
from server.timeutil import to_db

WorkingDay = Callable[[date], bool]
_PERIODS = TypeAdapter(list[Period])


def load_rules(session: Session) -> AttendanceRules:
    """The hall's stored rules, or the defaults when none were saved."""
    row = repo.config_row(session)
    return AttendanceRules.model_validate(row.rules) if row else AttendanceRules()


def parse_periods(data: Any) -> list[Period]:
    """Validate a list of periods given as {"start": "09:00", "end": "12:00"}."""
    try:
        periods = _PERIODS.validate_python(data)
        if not 1 <= len(periods) <= 4:
            raise ValueError("a schedule has 1 to 4 periods")
        return check_periods(periods)
    except (ValidationError, ValueError) as err:
        raise AttendanceError(f"invalid periods: {err}") from err


def periods_by_officer(session: Session) -> dict[int, list[Period]]:
    """Officers' own periods, overriding the hall's."""
    return {officer_id: parse_periods(data) for officer_id, data in repo.schedules(session).items()}


def working_day_rule(session: Session, settings: ServerSettings) -> WorkingDay:
    """The hall's working-day test: statutory holidays, make-up working days and the hall's own days."""
    return hall_calendar(session, settings).is_working_day


def day_spans(day: date, periods: list[Period], tz: ZoneInfo) -> list[Interval]:
    """A day's periods as hall-local aware datetimes."""
    return [Interval(datetime.combine(day, p.start, tz), datetime.combine(day, p.end, tz)) for p in periods]


def day_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC bounds of the local days first..last (inclusive)."""
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    return to_db(start), to_db(end)


def days(first: date, last: date) -> list[date]:
    """Every day from first to last, inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date."""
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise AttendanceError(f"not a date (YYYY-MM-DD): {text!r}") from err


def parse_week(text: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week such as ``2026-W47``."""
    year, sep, week = text.upper().partition("-W")
    try:
        if not sep:
            raise ValueError(text)
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError as err:
        raise AttendanceError(f"not an ISO week (YYYY-Www, e.g. 2026-W47): {text!r}") from err
    return monday, monday + timedelta(days=6)


def parse_month(text: str) -> tuple[date, date]:
    """First and last day of a month such as ``2026-11``."""
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError as err:
        raise AttendanceError(f"not a month (YYYY-MM, e.g. 2026-11): {text!r}") from err
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A stored (UTC) moment in hall-local time."""
    return to_db(moment).astimezone(tz)
