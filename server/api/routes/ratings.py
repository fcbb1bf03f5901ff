"""Rating statistics."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status

from server.api.deps import READERS, SessionDep, SettingsDep, department_scope, require_roles
from server.api.responses import UNPROCESSABLE
from server.models import User
from server.services.periods import PeriodError, parse_bound
from server.services.ratings import GroupBy, rating_summary

router = APIRouter(prefix="/api/v1/ratings", tags=["ratings"], responses=UNPROCESSABLE)


@router.get("/summary")
def get_summary(
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require_roles(*READERS)],
    group_by: GroupBy = GroupBy.STAFF,
    from_: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO date-time")] = None,
    to: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive) or ISO date-time")] = None,
) -> dict[str, Any]:
    """Counts per level, satisfaction rate and not-rated count per officer, window, department or item."""
    tz = ZoneInfo(settings.timezone)
    try:
        start, end = parse_bound(from_, tz, end=False), parse_bound(to, tz, end=True)
    except PeriodError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    rows = rating_summary(session, group_by, start, end, department_scope(user), tz)
    return {"group_by": group_by.value, "from": from_, "to": to, "rows": rows}
