"""Staff badges: issue and revoke, the agents' roster entries, and punches made with a badge."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

from sqlmodel import Session

from common.events import BADGE_UID_PATTERN, EdgeEvent, PunchPayload
from server.errors import ConflictError, HallError, NotFoundError
from server.models import Officer, Punch, User
from server.models.badges import BADGE_PUNCH_PAGE, Badge, BadgePunch
from server.repo import badges as repo
from server.repo import registry
from server.services import audit
from server.timeutil import to_db, utcnow

log = logging.getLogger(__name__)

# Readers and labels print UIDs as "04 A1 B2 ...", "04:A1:..." or "04-a1-...".
_SEPARATORS = re.compile(r"[\s:\-]")
_UID = re.compile(BADGE_UID_PATTERN)


class BadgeUidError(HallError):
    """A badge UID that is not 4 to 10 bytes of hex."""


def parse_uid(text: str) -> str:
    """The UID in its stored form (upper-case hex, no separators); BadgeUidError if malformed."""
    uid = _SEPARATORS.sub("", text).upper()
    if not _UID.match(uid):
        raise BadgeUidError(f"badge UID must be 4 to 10 bytes of hex, got {text[:40]!r}")
    return uid


def issue(session: Session, uid_text: str, staff_no: str, user: User) -> tuple[Badge, Officer]:
    """Register a badge for an officer; a UID is registered once (a revoked one is not re-issued)."""
    uid = parse_uid(uid_text)
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None or officer.id is None:
        raise NotFoundError(f"no officer {staff_no!r}")
    if not officer.active:
        raise ConflictError(f"officer {staff_no!r} is not active")
    existing = repo.badge_by_uid(session, uid)
    if existing is not None:
        # Reusing a revoked (lost, stolen) card's UID would revive it: register a new card instead.
        state = "revoked" if existing.revoked_at is not None else "active"
        raise ConflictError(f"badge {uid} is already registered ({state})")
    badge = Badge(uid=uid, officer_id=officer.id, issued_at=utcnow(), issued_by=user.username)
    session.add(badge)
    session.flush()
    audit.record(session, user, "badge_issue", f"badge:{uid}", {"staff_no": officer.staff_no})
    return badge, officer


def revoke(session: Session, uid_text: str, user: User) -> tuple[Badge, Officer]:
    """Revoke a badge; revoking it again changes nothing, so a retried request is harmless."""
    uid = parse_uid(uid_text)
    badge = repo.badge_by_uid(session, uid)
    officer = session.get(Officer, badge.officer_id) if badge is not None else None
    if badge is None or officer is None:
        raise NotFoundError(f"no badge {uid}")
    if badge.revoked_at is None:
        badge.revoked_at, badge.revoked_by = utcnow(), user.username
        session.add(badge)
        audit.record(session, user, "badge_revoke", f"badge:{uid}", {"staff_no": officer.staff_no})
    return badge, officer


def listing(
    session: Session, department_id: int | None, staff_no: str | None, active_only: bool
) -> list[dict[str, Any]]:
    """Badges in JSON form, newest first."""
    return [public(b, o) for b, o in repo.list_badges(session, department_id, staff_no, active_only)]


def public(badge: Badge, officer: Officer) -> dict[str, Any]:
    """One badge as the API shows it."""
    return {
        "uid": badge.uid,
        "staff_no": officer.staff_no,
        "name": officer.name,
        "active": badge.revoked_at is None,
        "issued_at": badge.issued_at.isoformat(),
        "issued_by": badge.issued_by,
        "revoked_at": badge.revoked_at.isoformat() if badge.revoked_at else None,
        "revoked_by": badge.revoked_by,
    }


def roster_badges(session: Session, officer_ids: set[int]) -> list[tuple[Badge, Officer]]:
    """Active badges of the officers a window's agent should recognise."""
    return repo.active_for_officers(session, officer_ids)


def record_punches(
    session: Session,
    device_id: str,
    window_id: int,
    pairs: Sequence[tuple[EdgeEvent, PunchPayload]],
    reject: Callable[[EdgeEvent, str], None],
) -> None:
    """Record badge punches, linked to the officer the registry names; unknown or revoked are rejected."""
    found = repo.badges_by_uid(session, {p.badge_uid for _, p in pairs if p.badge_uid})
    for event, p in pairs:
        badge = found.get(p.badge_uid or "")
        if badge is None or badge.id is None:
            reject(event, f"badge {p.badge_uid} is not registered")
            continue
        # An offline agent may deliver a punch made before the revocation: that one still counts.
        if badge.revoked_at is not None and to_db(badge.revoked_at) <= to_db(event.device_time):
            reject(event, f"badge {badge.uid} was revoked at {badge.revoked_at.isoformat()}")
            continue
        session.add(
            Punch(
                event_id=str(event.id),
                officer_id=badge.officer_id,
                window_id=window_id,
                device_id=device_id,
                page=BADGE_PUNCH_PAGE,
                score=0,
                punched_at=to_db(event.device_time),
            )
        )
        session.add(BadgePunch(event_id=str(event.id), badge_id=badge.id))
