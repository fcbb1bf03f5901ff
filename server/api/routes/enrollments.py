"""Fingerprint enrolment requests (supervisors) and the agent's command feed."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.api.deps import (
    READERS,
    Credentials,
    SessionDep,
    authenticate_device,
    get_app_settings,
    get_engine,
    in_db_turn,
    read_only_engine_of,
    require_roles,
)
from server.db import session_scope
from server.errors import ConflictError, NotFoundError
from server.models import Device, Officer, User
from server.models.enrollment import EnrollmentRequest
from server.models.users import Role
from server.services import enrollment

router = APIRouter(prefix="/api/v1", tags=["enrollment"])

MAX_WAIT_S = 30.0  # the longest command long poll an agent may ask for
LOOK_EVERY_S = 1.0  # how often a waiting command poll looks at the snapshot of open requests


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
    body: EnrollmentIn,
    session: SessionDep,
    user: Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)],
    request: Request,
    after: BackgroundTasks,
) -> dict[str, Any]:
    """Start enrolling an officer's finger at a window's reader (the officer presses twice there)."""
    try:
        created = enrollment.request_enrollment(session, body.device_id, body.staff_no, user.username)
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    after.add_task(_requests_changed, request)  # runs once the session has committed
    return _out(created, session.get(Officer, created.officer_id))


@router.get("/enrollments")
def list_enrollments(session: SessionDep, _user: Annotated[User, require_roles(*READERS)]) -> dict[str, Any]:
    """Recent enrolment requests and their outcome."""
    return {
        "enrollments": [
            _out(r, session.get(Officer, r.officer_id)) for r in enrollment.list_requests(session)
        ]
    }


@router.get("/edge/commands")
async def edge_commands(
    request: Request,
    authorization: Credentials,
    wait_s: Annotated[float, Query(ge=0, le=MAX_WAIT_S, description="long poll: wait up to this long")] = 0,
) -> dict[str, Any]:
    """What this agent should do: enrolment requests for its reader.

    With ``wait_s``, an agent with nothing to do gets its answer when a request for it is made, or
    an empty one after ``wait_s``; meanwhile its request holds neither a database turn nor a thread.
    """
    # Every agent asks all the time: one worker-thread hop for the whole look.
    device, commands = await in_db_turn(request, _commands, request, authorization)
    wait_s = min(wait_s, get_app_settings(request).command_wait_max_s)
    deadline = time.monotonic() + wait_s
    while not commands and await _wait_for(request, device.device_id, deadline):
        _, commands = await in_db_turn(request, _commands, request, device)
    return {"enrollments": commands}


def _commands(request: Request, agent: str | Device) -> tuple[Device, list[dict[str, Any]]]:
    """The agent (authenticated when given its credentials) and its open requests, now marked sent."""
    # There is nearly never anything: look first, beside SQLite's writer, and take a write turn
    # only to hand requests out.
    with session_scope(read_only_engine_of(request)) as session:
        device = authenticate_device(session, agent) if isinstance(agent, str) else agent
        if not enrollment.open_commands(session, device):
            return device, []
    with session_scope(get_engine(request)) as writer:
        taken = enrollment.take_commands(writer, device)
        return device, [_out(r, writer.get(Officer, r.officer_id)) for r in taken]


async def _wait_for(request: Request, device_id: str, deadline: float) -> bool:
    """Wait until ``device_id`` has open requests (True) or the deadline or a disconnect (False).

    Looks about once a second in the process's snapshot of the agents with open requests, and at
    once when this process creates a request (``_requests_changed``).
    """
    while (left := deadline - time.monotonic()) > 0:
        changed = _change_event(request)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), min(LOOK_EVERY_S, left))
        if await request.is_disconnected():
            return False
        if device_id in await _devices_with_commands(request):
            return True
    return False


async def _devices_with_commands(request: Request) -> frozenset[str]:
    """The snapshot of the agents with open requests; read in a worker thread when it is old."""
    engine = read_only_engine_of(request)
    with Session(engine) as key:  # a session that never queries takes no connection
        kept = enrollment.OPEN_COMMANDS.peek(key)
    return kept if kept is not None else await run_in_threadpool(_read_devices_with_commands, engine)


def _read_devices_with_commands(engine: Engine) -> frozenset[str]:
    with session_scope(engine) as session:
        return enrollment.OPEN_COMMANDS.get(session)


def _change_event(request: Request) -> asyncio.Event:
    """The event set when this process next creates an enrolment request."""
    event: asyncio.Event | None = getattr(request.app.state, "enrollment_change", None)
    if event is None:
        event = request.app.state.enrollment_change = asyncio.Event()
    return event


async def _requests_changed(request: Request) -> None:
    """After a request is committed: drop this process's snapshot and wake its waiting agents."""
    with Session(get_engine(request)) as key:
        enrollment.OPEN_COMMANDS.forget(key)
    changed = _change_event(request)
    request.app.state.enrollment_change = asyncio.Event()
    changed.set()
