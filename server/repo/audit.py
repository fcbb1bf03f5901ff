"""Queries over the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from server.models.audit import AuditEntry


@dataclass(frozen=True)
class AuditQuery:
    """Filters of an audit listing; None means no filter."""

    start: datetime | None = None
    end: datetime | None = None
    actor: str | None = None
    action: str | None = None
    limit: int = 500


def add(session: Session, entry: AuditEntry) -> AuditEntry:
    """Append one entry."""
    session.add(entry)
    session.flush()
    return entry


def find(session: Session, query: AuditQuery) -> Sequence[AuditEntry]:
    """Entries matching the query, newest first."""
    stmt = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
    if query.start is not None:
        stmt = stmt.where(AuditEntry.at >= query.start)
    if query.end is not None:
        stmt = stmt.where(AuditEntry.at < query.end)
    if query.actor:
        stmt = stmt.where(AuditEntry.actor == query.actor)
    if query.action:
        stmt = stmt.where(AuditEntry.action == query.action)
    return session.exec(stmt.limit(query.limit)).all()
