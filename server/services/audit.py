"""Recording and reading the audit log of the supervisor pages."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from server.models import User
from server.models.audit import AuditEntry
from server.repo import audit as repo
from server.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 2000


def _clip(value: Any) -> Any:
    # Free text (notes, evidence) is kept in its own tables; the audit keeps a bounded copy.
    if isinstance(value, str) and len(value) > MAX_DETAIL_CHARS:
        return value[:MAX_DETAIL_CHARS] + "…"
    return value


def record(
    session: Session,
    user: User | None,
    action: str,
    target: str = "",
    details: dict[str, Any] | None = None,
    *,
    client: str = "",
    actor: str | None = None,
) -> AuditEntry:
    """Append who did ``action`` to ``target``; ``actor`` names the person when there is no user."""
    name = user.username if user is not None else (actor or "")
    entry = AuditEntry(
        at=utcnow(),
        actor=name[:64],
        actor_id=user.id if user is not None else None,
        role=user.role if user is not None else "",
        action=action,
        target=target[:120],
        client=client[:64],
        details={k: _clip(v) for k, v in (details or {}).items()},
    )
    log.info("audit: %s %s %s", entry.actor, action, target)
    return repo.add(session, entry)


def entries(session: Session, query: repo.AuditQuery) -> list[dict[str, Any]]:
    """Entries in JSON form, newest first."""
    return [e.model_dump(mode="json") for e in repo.find(session, query)]
