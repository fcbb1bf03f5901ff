"""Bad-review follow-up (差评整改): open at ingestion, verify, rectify, call back, close; appeals (申诉)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from common.events import BAD_LEVELS
from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import Complaint, Followup, FollowupNote, Rating, User
from server.models.followups import AppealStatus, ExclusionSource, FollowupStatus
from server.models.users import Role
from server.repo import followups as repo
from server.repo import registry
from server.repo.bulk import insert_ignore
from server.services.hall_calendar import hall_calendar
from server.services.rollups import default_zone, exclude_rating, local_day
from server.services.workdays import CalendarError, WorkCalendar
from server.settings import ServerSettings
from server.timeutil import utcnow

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


class CallbackResult(StrEnum):
    """The citizen's verdict at the callback (回访)."""

    SATISFIED = "满意"
    BASICALLY = "基本满意"
    DISSATISFIED = "不满意"


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


def _acting(session: Session, followup_id: int, user: User) -> Followup:
    followup = get_followup(session, followup_id, user)
    if not can_act(user, followup.department_id):
        raise ForbiddenError("无权处理该差评整改记录")
    return followup


def _note(session: Session, followup: Followup, action: str, text: str, user: User) -> None:
    if followup.id is None:
        raise NotFoundError("差评整改记录尚未保存")
    session.add(
        FollowupNote(
            followup_id=followup.id, action=action, text=text, author=user.username, created_at=utcnow()
        )
    )


def _step(followup: Followup, expected: FollowupStatus, target: FollowupStatus) -> None:
    if followup.status != expected.value:
        raise ConflictError(f"当前状态为 {followup.status}，只有 {expected.value} 状态可转为 {target.value}")
    followup.status = target.value


def verify(session: Session, followup_id: int, user: User, finding: str) -> Followup:
    """Record the verification (核实) of the bad review."""
    followup = _acting(session, followup_id, user)
    _step(followup, FollowupStatus.OPEN, FollowupStatus.VERIFIED)
    followup.verified_at = utcnow()
    _note(session, followup, "verify", finding, user)
    session.add(followup)
    return followup


def rectify(session: Session, followup_id: int, user: User, measures: str) -> Followup:
    """Record the rectification (整改) taken."""
    followup = _acting(session, followup_id, user)
    _step(followup, FollowupStatus.VERIFIED, FollowupStatus.RECTIFIED)
    followup.rectified_at = utcnow()
    _note(session, followup, "rectify", measures, user)
    session.add(followup)
    return followup


def close(session: Session, followup_id: int, user: User, result: CallbackResult, note: str) -> Followup:
    """Close after the callback (回访) with the citizen's verdict."""
    followup = _acting(session, followup_id, user)
    _step(followup, FollowupStatus.RECTIFIED, FollowupStatus.CLOSED)
    followup.closed_at, followup.callback_result = utcnow(), result.value
    _note(session, followup, "close", f"回访结果：{result.value}。{note}".strip(), user)
    session.add(followup)
    return followup


def add_note(session: Session, followup_id: int, user: User, text: str) -> Followup:
    """Append a free note to the history."""
    followup = _acting(session, followup_id, user)
    _note(session, followup, "note", text, user)
    return followup


def appeal(session: Session, followup_id: int, user: User, evidence: str) -> Followup:
    """The unit appeals (申诉) the bad review with evidence; a supervisor decides."""
    followup = _acting(session, followup_id, user)
    if followup.status == FollowupStatus.CLOSED.value:
        raise ConflictError("已办结的差评不能再申诉")
    if followup.appeal_status != AppealStatus.NONE.value:
        raise ConflictError("该差评已申诉过，不能重复申诉")
    followup.appeal_status, followup.appeal_evidence = AppealStatus.PENDING.value, evidence
    _note(session, followup, "appeal", evidence, user)
    session.add(followup)
    return followup


def decide_appeal(
    session: Session, followup_id: int, user: User, upheld: bool, note: str, tz: ZoneInfo
) -> Followup:
    """Decide a pending appeal: upheld excludes the rating from statistics (the record stays)."""
    followup = get_followup(session, followup_id, user)
    if user.role not in HALL_WIDE:
        raise ForbiddenError("申诉只能由监督管理人员裁定")
    if followup.appeal_status != AppealStatus.PENDING.value:
        raise ConflictError("没有待裁定的申诉")
    now = utcnow()
    followup.appeal_decided_by, followup.appeal_decided_at = user.username, now
    if upheld:
        followup.appeal_status = AppealStatus.UPHELD.value
        followup.status, followup.closed_at = FollowupStatus.CLOSED.value, now
        rating = session.get(Rating, followup.rating_id)
        # A supervisor may already have excluded it as flagged; the appeal then only records its outcome.
        if rating is not None and not rating.excluded:
            exclude_rating(session, followup.rating_id, f"申诉成立：{note}", ExclusionSource.APPEAL, user, tz)
    else:
        followup.appeal_status = AppealStatus.REJECTED.value
    _note(session, followup, "appeal_upheld" if upheld else "appeal_rejected", note, user)
    session.add(followup)
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


class ComplaintChannel(StrEnum):
    """How a complaint (投诉) reached the hall."""

    PHONE = "phone"  # 监督电话
    HOTLINE = "12345"  # 12345 热线转办
    ONSITE = "onsite"  # 现场
    WEB = "web"  # 网站 / 小程序
    LETTER = "letter"  # 信件
    OTHER = "other"


@dataclass(frozen=True)
class ComplaintInput:
    """A complaint as recorded by staff; the contact phone is kept only hashed and masked."""

    channel: ComplaintChannel
    content: str
    window_number: int | None = None
    staff_no: str | None = None
    department_code: str | None = None
    assignee: str = ""
    contact_phone: str | None = None


def mask_contact(text: str) -> str:
    """Keep the first 3 and last 4 characters, e.g. 138****5678."""
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def keyed_hash(secret: str, text: str) -> str:
    """HMAC-SHA256 of personal data with the server secret, so it can be matched but not read."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _complaint_department(session: Session, data: ComplaintInput) -> tuple[int, int | None, int | None]:
    window = officer = None
    if data.window_number is not None:
        window = registry.window_by_number(session, data.window_number)
        if window is None:
            raise NotFoundError(f"窗口 {data.window_number} 不存在")
    if data.staff_no:
        officer = registry.officer_by_staff_no(session, data.staff_no)
        if officer is None:
            raise NotFoundError(f"工号 {data.staff_no} 不存在")
    department_id = window.department_id if window else officer.department_id if officer else None
    if data.department_code:
        found = [d.id for d in registry.all_departments(session) if d.code == data.department_code]
        if not found:
            raise NotFoundError(f"部门 {data.department_code} 不存在")
        department_id = found[0]
    if department_id is None:
        raise ConflictError("请指明被投诉的窗口、工作人员或部门")
    return department_id, window.id if window else None, officer.id if officer else None


def record_complaint(
    session: Session, data: ComplaintInput, user: User, secret: str, policy: FollowupPolicy
) -> Complaint:
    """Record and assign a complaint, due to be answered by the next working day."""
    department_id, window_id, officer_id = _complaint_department(session, data)
    if not can_act(user, department_id):
        raise ForbiddenError("只能登记本部门的投诉")
    now = utcnow()
    phone = "".join((data.contact_phone or "").split())
    complaint = Complaint(
        channel=data.channel.value,
        content=data.content,
        window_id=window_id,
        officer_id=officer_id,
        department_id=department_id,
        assignee=data.assignee,
        contact_hash=keyed_hash(secret, phone) if phone else None,
        contact_masked=mask_contact(phone) if phone else None,
        received_at=now,
        answer_due=policy.due(local_day(now, policy.tz), 1),
    )
    session.add(complaint)
    session.flush()
    return complaint


def answer_complaint(session: Session, complaint_id: int, user: User, answer: str) -> Complaint:
    """Record the answer given to the complainant."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFoundError(f"投诉 {complaint_id} 不存在")
    if not can_act(user, complaint.department_id):
        raise ForbiddenError("无权答复该投诉")
    if complaint.answered_at is not None:
        raise ConflictError("该投诉已答复")
    complaint.answered_at, complaint.answer, complaint.answered_by = utcnow(), answer, user.username
    session.add(complaint)
    return complaint


def complaint_public(complaint: Complaint, today: date) -> dict[str, Any]:
    """JSON form of a complaint with its overdue flag; the contact hash is never shown."""
    data: dict[str, Any] = complaint.model_dump(mode="json", exclude={"contact_hash"})
    data["overdue"] = complaint.answered_at is None and today > complaint.answer_due
    return data


def list_complaints(
    session: Session, user: User, unanswered: bool | None, today: date, overdue: bool, limit: int
) -> list[dict[str, Any]]:
    """Complaints in the user's scope, newest first, in JSON form; ``overdue`` keeps the late ones."""
    scope = user.department_id if user.role == Role.DEPARTMENT_HEAD else None
    rows = repo.list_complaints(session, department_id=scope, unanswered=unanswered, limit=limit)
    out = [complaint_public(c, today) for c in rows]
    return [c for c in out if c["overdue"] or not overdue]
