"""Queries of the staff badge registry."""

from __future__ import annotations

from sqlmodel import Session, col, select

from server.models import Officer
from server.models.badges import Badge


def badge_by_uid(session: Session, uid: str) -> Badge | None:
    """The badge with this UID, active or revoked."""
    return session.exec(select(Badge).where(Badge.uid == uid)).first()


def badges_by_uid(session: Session, uids: set[str]) -> dict[str, Badge]:
    """Badges by UID for a set of UIDs (active or revoked)."""
    if not uids:
        return {}
    return {b.uid: b for b in session.exec(select(Badge).where(col(Badge.uid).in_(uids)))}


def list_badges(
    session: Session, department_id: int | None, staff_no: str | None, active_only: bool
) -> list[tuple[Badge, Officer]]:
    """Badges with their officer, newest first, optionally limited to a department or officer."""
    stmt = (
        select(Badge, Officer)
        .join(Officer, col(Officer.id) == Badge.officer_id)
        .order_by(col(Badge.issued_at).desc(), col(Badge.id).desc())
    )
    if department_id is not None:
        stmt = stmt.where(Officer.department_id == department_id)
    if staff_no:
        stmt = stmt.where(Officer.staff_no == staff_no)
    if active_only:
        stmt = stmt.where(col(Badge.revoked_at).is_(None))
    return [(b, o) for b, o in session.exec(stmt)]


def active_for_officers(session: Session, officer_ids: set[int]) -> list[tuple[Badge, Officer]]:
    """Active badges of the given officers, ordered by UID."""
    if not officer_ids:
        return []
    stmt = (
        select(Badge, Officer)
        .join(Officer, col(Officer.id) == Badge.officer_id)
        .where(col(Badge.officer_id).in_(officer_ids), col(Badge.revoked_at).is_(None))
        .order_by(col(Badge.uid))
    )
    return [(b, o) for b, o in session.exec(stmt)]
