"""Queries over the call records (QueueCall) the hall display shows and announces."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.models import QueueCall


def recent_calls(session: Session, limit: int) -> Sequence[QueueCall]:
    """The latest calls, newest first."""
    stmt = select(QueueCall).order_by(col(QueueCall.id).desc()).limit(limit)
    return session.exec(stmt).all()


def calls_after(session: Session, after_id: int, limit: int = 100) -> Sequence[QueueCall]:
    """Calls recorded after ``after_id``, oldest first."""
    stmt = select(QueueCall).where(col(QueueCall.id) > after_id).order_by(col(QueueCall.id)).limit(limit)
    return session.exec(stmt).all()


def last_call_id(session: Session) -> int:
    """The id of the newest call, 0 when none."""
    newest = session.exec(select(func.max(QueueCall.id))).one()
    return int(newest or 0)


def call_by_id(session: Session, call_id: int) -> QueueCall | None:
    """One call record."""
    return session.get(QueueCall, call_id)
