"""Rating analytics, rankings, misuse signals, exclusions and the monthly assessment."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from server.api.deps import READERS, RowId, SessionDep, SettingsDep, department_scope, require_roles
from server.api.responses import UNPROCESSABLE
from server.api.routes.followups import raise_http
from server.errors import HallError
from server.models import User
from server.models.followups import ExclusionSource
from server.models.users import Role
from server.services import analytics as svc
from server.services import assessment
from server.services.periods import PeriodError, parse_bound
from server.services.ratings import GroupBy, rating_counts
from server.services.rollups import exclude_rating, local_day
from server.services.workdays import CalendarRangeError
from server.settings import ServerSettings
from server.timeutil import utcnow

router = APIRouter(tags=["ratings"], responses=UNPROCESSABLE)

Reader = Annotated[User, require_roles(*READERS)]
MAX_RANGE_DAYS = 3 * 366
DEFAULT_RANGE_DAYS = 30


class ExcludeIn(BaseModel):
    """Why a flagged rating is left out of the rates."""

    reason: Annotated[str, Field(min_length=1, max_length=1000)]


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} must be YYYY-MM-DD, got {text!r}"
        ) from err


def _day_range(from_: str | None, to: str | None, settings: ServerSettings) -> tuple[date, date]:
    """Local days [first, end) from inclusive YYYY-MM-DD bounds; the last 30 days by default."""
    last = _day(to, "to") if to else local_day(utcnow(), ZoneInfo(settings.timezone))
    first = _day(from_, "from") if from_ else last - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "from must not be after to")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"at most {MAX_RANGE_DAYS} days at once")
    return first, last + timedelta(days=1)


@router.get("/api/v1/ratings/analytics")
def get_analytics(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    group_by: GroupBy = GroupBy.STAFF,
    period: svc.Period = svc.Period.DAY,
    from_: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD, hall-local")] = None,
    to: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive), hall-local")] = None,
) -> dict[str, Any]:
    """Counts per level, 好评率, active-rating and not-rated rates, bad reviews per period and group."""
    first, end = _day_range(from_, to, settings)
    rows = svc.analytics(session, group_by, period, first, end, department_scope(user))
    last = (end - timedelta(days=1)).isoformat()
    return {
        "group_by": group_by.value,
        "period": period.value,
        "from": first.isoformat(),
        "to": last,
        "rows": rows,
    }


@router.get("/api/v1/ratings/ranking")
def get_ranking(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    group_by: GroupBy = GroupBy.STAFF,
    from_: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO date-time")] = None,
    to: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive) or ISO date-time")] = None,
    min_rated: Annotated[int, Query(ge=1)] = 1,
) -> dict[str, Any]:
    """Groups ranked by the Wilson 95 % lower bound of 好评率, so few ratings cannot outrank many."""
    tz = ZoneInfo(settings.timezone)
    try:
        start, end = parse_bound(from_, tz, end=False), parse_bound(to, tz, end=True)
    except PeriodError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    counts = rating_counts(session, group_by, start, end, department_scope(user), tz)
    rows = svc.ranking(session, counts, group_by, min_rated)
    return {
        "group_by": group_by.value,
        "from": from_,
        "to": to,
        "score": "wilson_lower_bound_95",
        "rows": rows,
    }


@router.get("/api/v1/ratings/misuse")
def get_misuse(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    from_: Annotated[str | None, Query(alias="from", description="YYYY-MM-DD or ISO date-time")] = None,
    to: Annotated[str | None, Query(description="YYYY-MM-DD (inclusive) or ISO date-time")] = None,
    gap_s: Annotated[float, Query(gt=0, le=600, description="max seconds between ratings of a burst")] = 20,
    min_count: Annotated[int, Query(ge=2, le=100, description="ratings that make a burst")] = 3,
) -> dict[str, Any]:
    """Keypad misuse signals (press outside service, too fast) and rating bursts, per window and officer."""
    tz = ZoneInfo(settings.timezone)
    try:
        start, end = parse_bound(from_, tz, end=False), parse_bound(to, tz, end=True)
    except PeriodError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    if start is None:
        start = utcnow() - timedelta(days=DEFAULT_RANGE_DAYS)
    return svc.misuse_report(session, start, end, gap_s, min_count, department_scope(user))


@router.post("/api/v1/ratings/{rating_id}/exclude")
def exclude(
    rating_id: RowId,
    body: ExcludeIn,
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)],
) -> dict[str, Any]:
    """A supervisor's recorded decision to leave a flagged rating out of the rates; the rating stays."""
    try:
        record = exclude_rating(
            session, rating_id, body.reason, ExclusionSource.SUPERVISOR, user, ZoneInfo(settings.timezone)
        )
    except HallError as err:
        raise_http(err)
    return record.model_dump(mode="json")


@router.get("/api/v1/assessment")
def get_assessment(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
) -> dict[str, Any]:
    """Each officer's monthly grade (优秀 / 称职 / 不称职) on ratings and attendance, with every check."""
    first = _day(f"{month}-01", "month")
    end = (first + timedelta(days=32)).replace(day=1)
    now = utcnow()
    if first > local_day(now, ZoneInfo(settings.timezone)):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"month {month} has not begun")
    try:
        rows = assessment.monthly(session, settings, first, end, department_scope(user), now)
    except CalendarRangeError as err:
        if err.day.year < err.known[0]:  # before any calendar: no such month to assess
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
        # The hall calendar lacks a year that has begun: the server's configuration must add it.
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from err
    return {"month": month, "rule": settings.assessment.model_dump(), "basis": assessment.BASIS, "rows": rows}
