"""Complaints (投诉): recorded and assigned by staff, due to be answered by the next working day."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlmodel import Session

from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import Complaint, User
from server.models.users import Role
from server.repo import followups as repo
from server.repo import registry
from server.services.followups import FollowupPolicy, can_act
from server.services.rollups import local_day
from server.timeutil import utcnow


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
