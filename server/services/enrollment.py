"""Fingerprint enrolment started by a supervisor, carried out by the window's agent.

An agent long-polls for its commands (``GET /api/v1/edge/commands?wait_s=``). While it waits, its
request watches ``OPEN_COMMANDS``: the agents with open requests, one ``SELECT DISTINCT`` per process
and database every ``OPEN_COMMANDS_TTL_S`` however many agents wait (``server.services.snapshot``).
The process that creates a request forgets the snapshot, so its own waiting agents see it at once;
other processes see it within the TTL.

A request handed out (SENT) whose outcome has not come within ``SENT_EXPIRES_AFTER`` is marked expired
(with ``EXPIRED_MESSAGE``) the next time the agent asks for commands or a new enrolment is requested for its
reader: an agent that stopped in the middle would otherwise be handed it again and again, and the
reader would refuse every new enrolment. An outcome that arrives after all is still recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from common.events import EnrollmentPayload
from server.errors import ConflictError, NotFoundError
from server.models import Device, FingerprintEnrollment
from server.models.enrollment import EnrollmentRequest, EnrollmentStatus
from server.repo import devices as device_repo
from server.repo import registry
from server.services.snapshot import Snapshot
from server.timeutil import utcnow

OPEN = (EnrollmentStatus.PENDING.value, EnrollmentStatus.SENT.value)
OPEN_COMMANDS_TTL_S = 1.0
# Two presses take a minute at most on the agent; its outbox may hold the outcome a while longer.
SENT_EXPIRES_AFTER = timedelta(minutes=10)
EXPIRED_MESSAGE = "超时：窗口终端未回报录入结果，请重新发起录入"


def expire_abandoned(session: Session, device_id: str, now: datetime) -> None:
    """Mark expired this reader's requests handed out longer than ``SENT_EXPIRES_AFTER`` ago."""
    stale = session.exec(
        select(EnrollmentRequest).where(
            EnrollmentRequest.device_id == device_id,
            EnrollmentRequest.status == EnrollmentStatus.SENT.value,
            col(EnrollmentRequest.updated_at) < now - SENT_EXPIRES_AFTER,
        )
    ).all()
    for row in stale:
        row.status, row.message, row.updated_at = EnrollmentStatus.EXPIRED.value, EXPIRED_MESSAGE, now
        session.add(row)


def request_enrollment(
    session: Session, device_id: str, staff_no: str, requested_by: str
) -> EnrollmentRequest:
    """Ask a window's agent to enrol an officer's finger on its reader."""
    device = device_repo.device_by_id(session, device_id)
    if device is None or device.window_id is None:
        raise NotFoundError(f"no window agent {device_id!r}")
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None or officer.id is None:
        raise NotFoundError(f"no officer {staff_no!r}")
    now = utcnow()
    expire_abandoned(session, device_id, now)
    busy = session.exec(
        select(EnrollmentRequest).where(
            EnrollmentRequest.device_id == device_id, col(EnrollmentRequest.status).in_(OPEN)
        )
    ).first()
    if busy is not None:
        raise ConflictError(f"reader {device_id} already has enrolment request {busy.id} in progress")
    request = EnrollmentRequest(
        device_id=device_id, officer_id=officer.id, requested_by=requested_by, created_at=now, updated_at=now
    )
    session.add(request)
    session.flush()
    return request


def open_commands(session: Session, device: Device) -> list[EnrollmentRequest]:
    """Open requests for this agent, oldest first (read only)."""
    return list(
        session.exec(
            select(EnrollmentRequest)
            .where(EnrollmentRequest.device_id == device.device_id, col(EnrollmentRequest.status).in_(OPEN))
            .order_by(col(EnrollmentRequest.id))
        ).all()
    )


def devices_with_open_commands(session: Session) -> frozenset[str]:
    """The device ids that have an open enrolment request (read only)."""
    return frozenset(
        session.exec(
            select(EnrollmentRequest.device_id).where(col(EnrollmentRequest.status).in_(OPEN)).distinct()
        ).all()
    )


# Which agents have something to hand out, kept per process and database (see the module's docstring).
OPEN_COMMANDS: Snapshot[frozenset[str]] = Snapshot(devices_with_open_commands, OPEN_COMMANDS_TTL_S)


def take_commands(session: Session, device: Device) -> list[EnrollmentRequest]:
    """Open requests for this agent; handing them out marks them sent (a resend repeats them).

    A request sent too long ago without an outcome is marked expired instead (``expire_abandoned``).
    A repeat keeps its first hand-out time, so an agent that keeps skipping it cannot keep it alive.
    """
    now = utcnow()
    expire_abandoned(session, device.device_id, now)  # flushed by the session before the next query
    rows = open_commands(session, device)
    for row in rows:
        if row.status != EnrollmentStatus.SENT.value:
            row.status, row.updated_at = EnrollmentStatus.SENT.value, now
            session.add(row)
    return list(rows)


def apply_result(session: Session, device: Device, payload: EnrollmentPayload) -> str | None:
    """Record the agent's outcome; return a rejection reason when it does not fit a request."""
    request = session.get(EnrollmentRequest, payload.request_id)
    if request is None or request.device_id != device.device_id:
        return f"no enrolment request {payload.request_id} for {device.device_id}"
    if request.status in (EnrollmentStatus.DONE.value, EnrollmentStatus.FAILED.value):
        return f"enrolment request {payload.request_id} is already {request.status}"
    request.updated_at = utcnow()
    if payload.page is None:
        request.status, request.message = EnrollmentStatus.FAILED.value, payload.error[:300] or "failed"
        session.add(request)
        return None
    # The page now holds this officer's template: any older mapping of that page is obsolete.
    session.exec(
        delete(FingerprintEnrollment).where(
            col(FingerprintEnrollment.device_id) == device.device_id,
            col(FingerprintEnrollment.page) == payload.page,
        )
    )
    session.add(
        FingerprintEnrollment(device_id=device.device_id, page=payload.page, officer_id=request.officer_id)
    )
    request.status, request.page = EnrollmentStatus.DONE.value, payload.page
    session.add(request)
    return None


def list_requests(session: Session, limit: int = 200) -> Sequence[EnrollmentRequest]:
    """Recent enrolment requests, newest first."""
    return session.exec(
        select(EnrollmentRequest).order_by(col(EnrollmentRequest.id).desc()).limit(limit)
    ).all()
