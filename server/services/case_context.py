"""What every case (办件) rule shares: its errors, the hall's context, the actor and the status names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from server.errors import ConflictError, HallError
from server.models import Case
from server.models.cases import CaseStatus
from server.models.users import Role
from server.services.workdays import WorkCalendar
from server.timeutil import to_db


class CaseInputError(HallError):
    """The request is incomplete (HTTP 400): an empty reason or an empty materials list."""


class CaseUnprocessableError(HallError):
    """The request names something unusable (HTTP 422): a bad ID number, unknown item or officer."""


class CaseStateError(ConflictError):
    """The case's status does not allow this step."""


@dataclass(frozen=True)
class CaseContext:
    """What the case rules need from the hall's settings."""

    calendar: WorkCalendar
    tz: tzinfo
    secret: str
    warning_days: int
    hall_name: str

    def local_day(self, moment: datetime) -> date:
        """The hall-local day of a moment."""
        return to_db(moment).astimezone(self.tz).date()


@dataclass(frozen=True)
class Actor:
    """Who makes a request: a window's counter agent or a logged-in user."""

    name: str
    window_id: int | None = None  # set for a counter agent
    role: str | None = None  # set for a user
    department_id: int | None = None

    def may_act_on(self, case: Case) -> bool:
        """The agent of the case's window, or a supervisor."""
        if self.window_id is not None:
            return self.window_id == case.window_id
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    def may_read(self, case: Case) -> bool:
        """The agent of the case's window, hall-wide readers, or the head of the case's department."""
        if self.window_id is not None or self.role in (Role.SUPERVISOR, Role.ADMIN):
            return self.may_act_on(case)
        return self.role == Role.DEPARTMENT_HEAD and self.department_id == case.department_id


STATUS_NAMES: dict[str, str] = {
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.SUPPLEMENT: "补正中",
    CaseStatus.COMPLETED: "已办结",
    CaseStatus.REFUSED: "不予受理",
    CaseStatus.APPROVED: "准予许可",
    CaseStatus.REJECTED: "不予批准",
}
