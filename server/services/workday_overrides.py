"""The hall's working-day calendar as configured in the server settings."""

from __future__ import annotations

from server.services.workdays import WorkCalendar
from server.settings import ServerSettings


def calendar_from_settings(settings: ServerSettings) -> WorkCalendar:
    """The statutory calendar with the hall's extra closed days, extra working days and fallback switch."""
    return WorkCalendar(
        closed_days=frozenset(settings.workday_closed_days),
        extra_working_days=frozenset(settings.workday_extra_working_days),
        weekday_fallback=settings.workday_weekday_fallback,
    )
