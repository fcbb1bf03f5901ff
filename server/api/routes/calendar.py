"""The hall's working-day calendar: a year's entered days off and make-up working days (admins enter them)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import SessionDep, require_roles
from server.api.responses import UNPROCESSABLE
from server.models import User
from server.models.users import Role
from server.services import calendar_entry as entry

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=UNPROCESSABLE)

Reader = Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)]
Admin = Annotated[User, require_roles(Role.ADMIN)]
# Generous outer bounds against oversized bodies; the rules (notes of 32 characters) are checked after.
MAX_DAYS = 400
MAX_NOTE = 1000


class DayIn(BaseModel):
    """One day of the arrangement and its note (e.g. 春节)."""

    model_config = ConfigDict(extra="forbid")

    day: date
    note: str = Field(default="", max_length=MAX_NOTE)


class YearIn(BaseModel):
    """A year's whole arrangement: it replaces every day entered for the year, and its entered mark."""

    model_config = ConfigDict(extra="forbid")

    entered: bool
    closed: list[DayIn] = Field(default_factory=list, max_length=MAX_DAYS)
    working: list[DayIn] = Field(default_factory=list, max_length=MAX_DAYS)


def _unprocessable(err: entry.CalendarInputError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err))


@router.get("/{year}")
def get_year(year: int, session: SessionDep, _: Reader) -> dict[str, Any]:
    """The year's entered days off and working days, whether it is marked entered and the library knows it."""
    try:
        return entry.year_view(session, year)
    except entry.CalendarInputError as err:
        raise _unprocessable(err) from err


@router.put("/{year}")
def put_year(year: int, body: YearIn, request: Request, session: SessionDep, user: Admin) -> dict[str, Any]:
    """Replace the year's entries and entered mark at once (admins); refused input changes nothing."""
    try:
        plan = entry.arrangement(
            year,
            [entry.DayEntry(d.day, d.note) for d in body.closed],
            [entry.DayEntry(d.day, d.note) for d in body.working],
            body.entered,
        )
    except entry.CalendarInputError as err:
        raise _unprocessable(err) from err
    client = request.client.host if request.client else ""
    return entry.save(session, user, plan, client=client)
