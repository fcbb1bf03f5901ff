"""Bad-review follow-ups (差评整改): deadline policy, opening at ingestion, who may read or act, and reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from common.events import BAD_LEVELS
from server.errors import ForbiddenError, NotFoundError
from server.models import Followup, FollowupNote, User
from server.models.followups import AppealStatus, FollowupStatus
from server.models.users import Role
from server.repo import followups as repo
from server.repo.bulk import insert_ignore
from server.services.hall_calendar import hall_calendar
from server.services.rollups import default_zone, local_day
from server.services.workdays import CalendarError, WorkCalendar
from server.settings import ServerSettings

log = logging.getLogger(__name__)

HALL_WIDE = (Role.ADMIN, Role.SUPERVISOR)


class RatedService(Protocol):
    """What opening a follow-up reads of a rating: a ``Rating`` or a just-inserted row with its id."""

    @property
    def id(self) -> int | None: ...
    @property
    def window_id(self) -> int: ...
    @property
    def department_id(self) -> int: ...
    @property
    def officer_id(self) -> int | None: ...
    @property
    def level(self) -> int | None: ...


@dataclass(frozen=True)
class FollowupPolicy:
    """Deadlines and calendar of follow-ups; defaults match the settings' defaults."""

    tz: ZoneInfo = field(default_factory=default_zone)
    verify_days: int = 1
    rectify_days: int = 15
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    @classmethod
    def from_settings(cls, settings: ServerSettings, calendar: WorkCalendar) -> FollowupPolicy:
        """The policy configured for this hall, over its calendar (``services.hall_calendar``)."""
        return cls(
            tz=ZoneInfo(settings.timezone),
            verify_days=settings.followup_verify_days,
            rectify_days=settings.followup_rectify_days,
            calendar=calendar,
        )

    @classmethod
    def for_hall(cls, session: Session, settings: ServerSettings) -> FollowupPolicy:
        """The policy over the hall's calendar as it stands (settings and entered days)."""
        return cls.from_settings(settings, hall_calendar(session, settings))

    def due(self, start: date, working_days: int) -> date:
        """The n-th working day after ``start``; weekdays only when the year's holidays are unknown."""
        try:
            return self.calendar.add_working_days(start, working_days)
        except CalendarError as err:
            # Ingestion must not fail on a calendar gap: the deadline is then counted in weekdays.
            log.warning("working-day calendar incomplete, counting weekdays: %s", err)
            return replace(self.calendar, weekday_fallback=True).add_working_days(start, working_days)


def open_for_ratings(
    session: Session, ratings: Sequence[RatedService], policy: FollowupPolicy, now: datetime
) -> int:
    """Open one follow-up per fresh bad review; deadlines run from the day the server learns of it."""
    opened_on = local_day(now, policy.tz)
    rows = [
        {
            "rating_id": r.id,
            "window_id": r.window_id,
            "department_id": r.department_id,
            "officer_id": r.officer_id,
            "level": r.level,
            "status": FollowupStatus.OPEN.value,
            "opened_at": now,
            "verify_due": policy.due(opened_on, policy.verify_days),
            "rectify_due": policy.due(opened_on, policy.rectify_days),
            "appeal_status": AppealStatus.NONE.value,
        }
        for r in ratings
        if r.level in BAD_LEVELS and r.id is not None
    ]
    table = Followup.__table__  # type: ignore[attr-defined]
    return len(insert_ignore(session, table, rows, ["rating_id"], "rating_id"))


def can_read(user: User, followup_department: int, followup_officer: int | None) -> bool:
    """Supervisors read all, department heads their department, officers their own."""
    if user.role in HALL_WIDE:
        return True
    if user.role == Role.DEPARTMENT_HEAD:
        return user.department_id == followup_department
    return user.role == Role.OFFICER and user.officer_id is not None and user.officer_id == followup_officer


def can_act(user: User, department_id: int) -> bool:
    """Supervisors act on everything, department heads on their department."""
    return user.role in HALL_WIDE or (
        user.role == Role.DEPARTMENT_HEAD and user.department_id == department_id
    )


def get_followup(session: Session, followup_id: int, user: User) -> Followup:
    """A follow-up the user may read."""
    followup = session.get(Followup, followup_id)
    if followup is None:
        raise NotFoundError(f"差评整改记录 {followup_id} 不存在")
    if not can_read(user, followup.department_id, followup.officer_id):
        raise ForbiddenError("无权查看该差评整改记录")
    return followup


def list_visible(
    session: Session, user: User, status: FollowupStatus | None, today: date, overdue: bool, limit: int
) -> list[Followup]:
    """Follow-ups the user may read: all, their department's, or (officers) their own."""
    if user.role == Role.OFFICER and user.officer_id is None:
        raise ForbiddenError("账号未关联工作人员")
    return list(
        repo.list_followups(
            session,
            status=status.value if status else None,
            overdue_on=today if overdue else None,
            department_id=user.department_id if user.role == Role.DEPARTMENT_HEAD else None,
            officer_id=user.officer_id if user.role == Role.OFFICER else None,
            limit=limit,
        )
    )


def history(session: Session, followup: Followup) -> list[FollowupNote]:
    """A follow-up's notes, oldest first, including those added in this transaction."""
    if followup.id is None:
        return []
    session.flush()
    return list(repo.notes_of(session, followup.id))


def is_overdue(followup: Followup, today: date) -> bool:
    """Past the verify deadline while open, or past the rectify deadline before closing."""
    if followup.status == FollowupStatus.CLOSED.value:
        return False
    return today > followup.rectify_due or (
        followup.status == FollowupStatus.OPEN.value and today > followup.verify_due
    )


def public(followup: Followup, today: date, notes: list[FollowupNote] | None = None) -> dict[str, Any]:
    """JSON form of a follow-up, with its overdue flag and, when given, its history."""
    data: dict[str, Any] = followup.model_dump(mode="json")
    data["overdue"] = is_overdue(followup, today)
    if notes is not None:
        data["notes"] = [n.model_dump(mode="json", exclude={"followup_id"}) for n in notes]
    return data
