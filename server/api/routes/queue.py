"""The window side of the queue: call next, recall, no-show, start, finish, transfer; queue statistics."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import (
    READERS,
    Credentials,
    DeviceDep,
    SessionDep,
    SettingsDep,
    authenticate_device,
    department_scope,
    get_app_settings,
    get_engine,
    in_db_turn,
    read_only_engine_of,
    require_roles,
)
from server.api.responses import UNPROCESSABLE
from server.db import session_scope
from server.errors import ConflictError, ForbiddenError, HallError, NotFoundError
from server.models import Device, User
from server.models.devices import DeviceKind
from server.services import queue_cache
from server.services import queue_calls as call_service
from server.services.queue import QueueRules
from server.services.queue_cache import WindowInfo
from server.services.queue_estimate import queue_stats, ticket_view
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1/queue", tags=["queue"], responses=UNPROCESSABLE)


def http_error(err: HallError) -> HTTPException:
    """The HTTP error for a domain error of the queue."""
    if isinstance(err, NotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(err))
    if isinstance(err, ForbiddenError):
        return HTTPException(status.HTTP_403_FORBIDDEN, str(err))
    if isinstance(err, ConflictError):
        return HTTPException(status.HTTP_409_CONFLICT, str(err))
    return HTTPException(status.HTTP_400_BAD_REQUEST, str(err))


class OfficerIn(BaseModel):
    """Who acts at the window, when known."""

    model_config = ConfigDict(extra="forbid")

    staff_no: Annotated[str, Field(min_length=1, max_length=32)] | None = None


class CallNextIn(OfficerIn):
    """A call-next request; a retry with the same ``call_ref`` gets the same ticket back."""

    call_ref: uuid.UUID | None = None


class TransferIn(OfficerIn):
    """The item a ticket is transferred to."""

    item_code: Annotated[str, Field(min_length=1, max_length=32)]


def _window(session: SessionDep, device: Device) -> WindowInfo:
    if device.kind != DeviceKind.AGENT.value or device.window_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a window's counter agent may call tickets")
    window = queue_cache.window_by_id(session, device.window_id)
    if window is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the window of this device does not exist")
    return window


@router.post(
    "/call-next",
    responses={
        204: {"description": "nobody is waiting"},
        409: {"description": "the call_ref was used by another window"},
    },
)
async def call_next(
    request: Request, authorization: Credentials, body: Annotated[CallNextIn | None, Body()] = None
) -> Any:
    """Claim the next ticket for this window (204 when nobody waits); a repeated call_ref gets it again."""
    # A hot route: one worker-thread hop for the whole request instead of one per sync dependency.
    return await in_db_turn(request, _call_next, request, body or CallNextIn(), authorization)


def _call_next(request: Request, body: CallNextIn, authorization: str) -> Any:
    settings = get_app_settings(request)
    rules, now = QueueRules.from_settings(settings), utcnow()
    call_ref = str(body.call_ref) if body.call_ref is not None else None
    engine = get_engine(request)
    window: WindowInfo | None = None
    if engine.dialect.name == "sqlite":
        # An idle window calls again and again while nobody waits: look first, beside the one writer.
        # (On PostgreSQL a claim that finds nothing is one statement that waits for nobody.)
        with session_scope(read_only_engine_of(request)) as session:
            window = _window(session, authenticate_device(session, authorization))
            if not call_service.may_call(session, window, rules, now, call_ref):
                return Response(status_code=status.HTTP_204_NO_CONTENT)
    # Committed before the answer goes out, as SessionDep does.
    with session_scope(engine) as session:
        if window is None:
            window = _window(session, authenticate_device(session, authorization))
        try:
            ticket = call_service.call_next(session, window, body.staff_no, rules, now, call_ref)
        except HallError as err:
            raise http_error(err) from err
        if ticket is None:
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        return ticket_view(session, ticket, rules, settings.base_url, now)


@router.post("/tickets/{ticket_no}/{action}")
def act(
    ticket_no: str,
    action: str,
    session: SessionDep,
    settings: SettingsDep,
    device: DeviceDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    """recall | no-show | start | finish | transfer a ticket this window called."""
    if action not in ("recall", "no-show", "start", "finish", "transfer"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown action {action!r}")
    window = _window(session, device)
    rules, now = QueueRules.from_settings(settings), utcnow()
    try:
        payload: OfficerIn = (TransferIn if action == "transfer" else OfficerIn).model_validate(body or {})
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    try:
        ticket = call_service.own_ticket(session, window, ticket_no, rules, now)
        if action == "recall":
            call_service.recall(session, window, ticket, now)
        elif action == "no-show":
            call_service.no_show(session, ticket, rules)
        elif action == "start":
            call_service.start(ticket, payload.staff_no, now)
        elif action == "finish":
            call_service.finish(ticket, payload.staff_no, now)
        elif isinstance(payload, TransferIn):
            call_service.transfer(session, ticket, payload.item_code)
    except HallError as err:
        raise http_error(err) from err
    session.add(ticket)
    session.flush()
    return ticket_view(session, ticket, rules, settings.base_url, now)


@router.get("/stats")
def stats(
    session: SessionDep, settings: SettingsDep, user: Annotated[User, require_roles(*READERS)]
) -> dict[str, Any]:
    """Today's queue per item: waiting, served, average wait and service time (minutes)."""
    rules, now = QueueRules.from_settings(settings), utcnow()
    return {
        "day": rules.service_day(now).isoformat(),
        "items": queue_stats(session, rules, now, department_scope(user)),
    }
