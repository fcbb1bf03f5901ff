"""Reporting periods given in hall-local dates or times, turned into UTC bounds."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.errors import HallError
from server.timeutil import to_db


class PeriodError(HallError):
    """A period bound that cannot be understood."""


def parse_bound(text: str | None, tz: ZoneInfo, *, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` (a whole local day, inclusive) or an ISO datetime -> naive UTC bound."""
    if not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            local = datetime.combine(day + timedelta(days=1) if end else day, time(0), tz)
            return to_db(local)
        moment = datetime.fromisoformat(text)
    except ValueError as err:
        raise PeriodError(f"not a date (YYYY-MM-DD) or ISO date-time: {text!r}") from err
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return to_db(moment)
