"""Working days (工作日): Chinese statutory holidays and make-up working days, plus per-hall overrides."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

import chinese_calendar

from server.errors import HallError

Pause = tuple[date, date | None]
_DAY = timedelta(days=1)


class CalendarError(HallError):
    """Root of working-day calendar errors."""


class CalendarRangeError(CalendarError):
    """A date in a year whose holiday arrangement nobody gave: not the library, not the hall."""

    def __init__(self, day: date, known: tuple[int, int]) -> None:
        super().__init__(
            f"工作日历不包含 {day.year} 年的法定节假日安排"
            f"（chinese-calendar 已知 {known[0]}–{known[1]} 年）；"
            f"请系统管理员在监督管理页面“工作日历”（/web/calendar?year={day.year}）"
            "按国务院办公厅的放假通知录入该年的放假日与调休上班日，并标记该年已录入"
        )
        self.day = day
        self.known = known


class CalendarConfigError(CalendarError):
    """The hall's working-day overrides contradict each other."""


@cache
def known_years() -> tuple[int, int]:
    """First and last year the holiday library has an arrangement for."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


@dataclass(frozen=True)
class WorkCalendar:
    """The hall's working days: the statutory calendar with the hall's own closed and extra working days.

    A year in ``entered_years`` (the hall entered its whole arrangement) is known even when the library
    lacks it: there, besides the closed and extra working days, Monday to Friday are working days.
    """

    closed_days: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    weekday_fallback: bool = False
    entered_years: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        both = self.closed_days & self.extra_working_days
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise CalendarConfigError(f"days both closed and working in the hall calendar: {days}")

    def is_working_day(self, day: date) -> bool:
        """True when the hall works on ``day``."""
        if day in self.closed_days:
            return False
        if day in self.extra_working_days:
            return True
        first, last = known_years()
        if not first <= day.year <= last:
            if not (self.weekday_fallback or day.year in self.entered_years):
                raise CalendarRangeError(day, (first, last))
            return day.weekday() < 5
        # Make-up working days (调休) fall on weekends; statutory holidays on weekdays.
        return day in chinese_calendar.workdays or (
            day.weekday() < 5 and day not in chinese_calendar.holidays
        )

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (counting starts the next working day); ``start`` for 0."""
        return self.deadline(start, n, [])

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += _DAY
            count += self.is_working_day(day)
        return count

    def deadline(self, accepted: date, n: int, pauses: Sequence[Pause], *, today: date | None = None) -> date:
        """The due date of n working days from ``accepted``, skipping working days paused for 补正.

        A pause (start, end) stops the clock on the working days in (start, end]: the day the
        supplement is requested still counts, the day the materials arrive does not. An open pause
        (end None) runs until ``today``, or has added nothing yet when ``today`` is not given.
        """
        if n < 0:
            raise ValueError(f"a deadline needs n >= 0 working days, got {n}")
        closed = [(start, end if end is not None else max(start, today or start)) for start, end in pauses]
        count, day = 0, accepted
        while count < n:
            day += _DAY
            if self.is_working_day(day) and not _paused(day, closed):
                count += 1
        return day


def _paused(day: date, pauses: Iterable[tuple[date, date]]) -> bool:
    return any(start < day <= end for start, end in pauses)
