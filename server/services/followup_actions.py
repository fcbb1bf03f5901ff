"""Follow-up (差评整改) steps: verify, rectify, call back and close, free notes, and appeals (申诉)."""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session

from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import Followup, FollowupNote, Rating, User
from server.models.followups import AppealStatus, ExclusionSource, FollowupStatus
from server.services.followups import HALL_WIDE, can_act, get_followup
from server.services.rollups import exclude_rating
from server.timeutil import utcnow


class CallbackResult(StrEnum):
    """The citizen's verdict at the callback (回访)."""

    SATISFIED = "满意"
    BASICALLY = "基本满意"
    DISSATISFIED = "不满意"


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
