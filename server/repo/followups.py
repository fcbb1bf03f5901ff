"""Queries over ratings, exclusions, follow-ups and complaints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from server.models import (
    Complaint,
    Followup,
    FollowupNote,
    MisuseSignal,
    Rating,
    RatingExclusion,
)
from server.models.followups import FollowupStatus


def exclusion_of(session: Session, rating_id: int) -> RatingExclusion | None:
    """The exclusion record of a rating, if it was excluded."""
    return session.exec(select(RatingExclusion).where(RatingExclusion.rating_id == rating_id)).first()


def ratings_between(session: Session, start: datetime | None, end: datetime | None) -> Sequence[Rating]:
    """Every rating (counted or not) in a period, by window and time, for burst detection."""
    stmt = select(Rating).order_by(col(Rating.window_id), col(Rating.rated_at))
    if start is not None:
        stmt = stmt.where(Rating.rated_at >= start)
    if end is not None:
        stmt = stmt.where(Rating.rated_at < end)
    return session.exec(stmt).all()


def misuse_counts(
    session: Session, start: datetime | None, end: datetime | None
) -> list[tuple[int, int | None, str, int]]:
    """(window, officer, signal, count) of keypad misuse signals in a period."""
    cols = (col(MisuseSignal.window_id), col(MisuseSignal.officer_id), col(MisuseSignal.signal))
    stmt = select(*cols, func.count())
    if start is not None:
        stmt = stmt.where(MisuseSignal.happened_at >= start)
    if end is not None:
        stmt = stmt.where(MisuseSignal.happened_at < end)
    return [(w, o, s, n) for w, o, s, n in session.exec(stmt.group_by(*cols))]


def list_followups(
    session: Session,
    *,
    status: str | None,
    overdue_on: date | None,
    department_id: int | None,
    officer_id: int | None,
    limit: int,
) -> Sequence[Followup]:
    """Follow-ups, newest first; ``overdue_on`` keeps those past a deadline on that day."""
    stmt = select(Followup).order_by(col(Followup.opened_at).desc()).limit(limit)
    if status:
        stmt = stmt.where(Followup.status == status)
    if department_id is not None:
        stmt = stmt.where(Followup.department_id == department_id)
    if officer_id is not None:
        stmt = stmt.where(Followup.officer_id == officer_id)
    if overdue_on is not None:
        stmt = stmt.where(
            or_(
                and_(
                    col(Followup.status) == FollowupStatus.OPEN.value, col(Followup.verify_due) < overdue_on
                ),
                and_(
                    col(Followup.status) != FollowupStatus.CLOSED.value,
                    col(Followup.rectify_due) < overdue_on,
                ),
            )
        )
    return session.exec(stmt).all()


def notes_of(session: Session, followup_id: int) -> Sequence[FollowupNote]:
    """A follow-up's history, oldest first."""
    stmt = select(FollowupNote).where(FollowupNote.followup_id == followup_id)
    return session.exec(stmt.order_by(col(FollowupNote.created_at), col(FollowupNote.id))).all()


def list_complaints(
    session: Session, *, department_id: int | None, unanswered: bool | None, limit: int
) -> Sequence[Complaint]:
    """Complaints, newest first."""
    stmt = select(Complaint).order_by(col(Complaint.received_at).desc()).limit(limit)
    if department_id is not None:
        stmt = stmt.where(Complaint.department_id == department_id)
    if unanswered is not None:
        stmt = stmt.where(
            col(Complaint.answered_at).is_(None) if unanswered else col(Complaint.answered_at).isnot(None)
        )
    return session.exec(stmt).all()
