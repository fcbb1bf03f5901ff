"""Attendance punches."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from sqlmodel import col, select

from server.api.deps import READERS, SessionDep, SettingsDep, department_scope, require_roles
from server.api.responses import UNPROCESSABLE
from server.models import Officer, Punch, User, Window
from server.services.periods import PeriodError, parse_bound

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"], responses=UNPROCESSABLE)


@router.get("/punches")
def list_punches(
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require_roles(*READERS)],
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    staff_no: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Fingerprint punches with the officer and window, newest first."""
    tz = ZoneInfo(settings.timezone)
    try:
        start, end = parse_bound(from_, tz, end=False), parse_bound(to, tz, end=True)
    except PeriodError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    stmt = (
        select(Punch, Officer, Window)
        .join(Officer, col(Officer.id) == Punch.officer_id)
        .join(Window, col(Window.id) == Punch.window_id)
        .order_by(col(Punch.punched_at).desc())
        .limit(limit)
    )
    if start is not None:
        stmt = stmt.where(Punch.punched_at >= start)
    if end is not None:
        stmt = stmt.where(Punch.punched_at < end)
    if staff_no:
        stmt = stmt.where(Officer.staff_no == staff_no)
    scope = department_scope(user)
    if scope is not None:
        stmt = stmt.where(Officer.department_id == scope)
    punches = [
        {
            "staff_no": officer.staff_no,
            "name": officer.name,
            "window": window.number,
            "punched_at": punch.punched_at.isoformat(),
            "page": punch.page,
            "score": punch.score,
        }
        for punch, officer, window in session.exec(stmt)
    ]
    return {"punches": punches}
