"""Fingerprint enrolment requests (supervisors) and the agent's command feed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel

from server.api.deps import (
    READERS,
    Credentials,
    SessionDep,
    get_device,
    get_engine,
    in_db_turn,
    read_only_engine_of,
    require_roles,
)
from server.db import session_scope
from server.errors import ConflictError, NotFoundError
from server.models import Officer, User
from server.models.enrollment import EnrollmentRequest
from server.models.users import Role
from server.services import enrollment

router = APIRouter(prefix="/api/v1", tags=["enrollment"])


class EnrollmentIn(BaseModel):
    """Which officer to enrol on which window agent's reader."""

    device_id: str
    staff_no: str


def _out(request: EnrollmentRequest, officer: Officer | None) -> dict[str, Any]:
    return {
        "id": request.id,
        "device_id": request.device_id,
        "staff_no": officer.staff_no if officer else None,
        "name": officer.name if officer else None,
        "status": request.status,
        "page": request.page,
        "message": request.message,
        "created_at": request.created_at.isoformat(),
    }


@router.post("/enrollments", status_code=status.HTTP_201_CREATED)
def create_enrollment(
    body: EnrollmentIn, session: SessionDep, user: Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)]
) -> dict[str, Any]:
    """Start enrolling an officer's finger at a window's reader (the officer presses twice there)."""
    try:
        request = enrollment.request_enrollment(session, body.device_id, body.staff_no, user.username)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    return _out(request, session.get(Officer, request.officer_id))


@router.get("/enrollments")
def list_enrollments(session: SessionDep, _user: Annotated[User, require_roles(*READERS)]) -> dict[str, Any]:
    """Recent enrolment requests and their outcome."""
    return {
        "enrollments": [
            _out(r, session.get(Officer, r.officer_id)) for r in enrollment.list_requests(session)
        ]
    }


@router.get("/edge/commands")
async def edge_commands(request: Request, authorization: Credentials) -> dict[str, Any]:
    """What this agent should do: enrolment requests for its reader."""
    # Every agent asks every few seconds: one worker-thread hop for the whole request.
    return await in_db_turn(request, _edge_commands, request, authorization)


def _edge_commands(request: Request, authorization: str) -> dict[str, Any]:
    # There is nearly never anything: look first, beside SQLite's writer, and take a write turn
    # only to hand requests out.
    with session_scope(read_only_engine_of(request)) as session:
        device = get_device(session, authorization)
        if not enrollment.open_commands(session, device):
            return {"enrollments": []}
    with session_scope(get_engine(request)) as writer:
        taken = enrollment.take_commands(writer, device)
        return {"enrollments": [_out(r, writer.get(Officer, r.officer_id)) for r in taken]}
