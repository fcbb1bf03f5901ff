"""The hall's working-day calendar: the server settings' overrides and the days entered in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from server.services.workdays import WorkCalendar
from server.settings import ServerSettings


@dataclass(frozen=True)
class EnteredDays:
    """What the hall's administrator entered: closed days, make-up working days, fully entered years."""

    closed: frozenset[date] = field(default_factory=frozenset)
    working: frozenset[date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)


def calendar_from_settings(settings: ServerSettings, entered: EnteredDays | None = None) -> WorkCalendar:
    """The statutory calendar with the settings' overrides and fallback switch, plus the entered days.

    Entered days add to the settings' days; where both name the same day, the entered one wins (it is
    the administrator's newer word).
    """
    entered = entered or EnteredDays()
    closed = frozenset(settings.workday_closed_days) - entered.working
    working = frozenset(settings.workday_extra_working_days) - entered.closed
    return WorkCalendar(
        closed_days=closed | entered.closed,
        extra_working_days=working | entered.working,
        weekday_fallback=settings.workday_weekday_fallback,
        entered_years=entered.years,
    )
