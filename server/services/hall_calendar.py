"""The working-day calendar of a request: the settings' overrides merged with the days entered in the hall.

The entered days are read on every case, follow-up and attendance request and change about once a year,
so they are a ``Snapshot`` (``server.services.snapshot``): one read per process and database every
``ENTERED_TTL_S``. A change drops this process's copy at once and again when it commits, so the writer
sees it on its next request; other processes see it within the TTL.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlmodel import Session

from server.repo import calendar as repo
from server.services.snapshot import Snapshot
from server.services.workday_overrides import EnteredDays, calendar_from_settings
from server.services.workdays import WorkCalendar
from server.settings import ServerSettings

ENTERED_TTL_S = 5.0


def load_entered(session: Session) -> EnteredDays:
    """The entered days and years, read from the tables."""
    days = repo.all_days(session)
    return EnteredDays(
        closed=frozenset(day for day, working in days if not working),
        working=frozenset(day for day, working in days if working),
        years=frozenset(repo.entered_years(session)),
    )


_entered: Snapshot[EnteredDays] = Snapshot(load_entered, ENTERED_TTL_S)


def hall_calendar(session: Session, settings: ServerSettings) -> WorkCalendar:
    """The hall's working days: statutory calendar, settings' overrides and the entered days and years."""
    return calendar_from_settings(settings, _entered.get(session))


def forget_on_commit(session: Session) -> None:
    """Drop this process's entered days now and once ``session`` commits the change it is making."""
    _entered.forget(session)
    event.listen(session, "after_commit", _forget_committed, once=True)


def _forget_committed(session: Session) -> None:
    _entered.forget(session)
