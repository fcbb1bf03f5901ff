"""The kiosk side of the queue: items, issuing tickets, printer outcome; the citizen's status page."""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.api.deps import (
    DEMO_SECRET,
    Credentials,
    DeviceDep,
    SessionDep,
    SettingsDep,
    authenticate_device,
    get_app_settings,
    get_engine,
    in_db_turn,
    read_only,
)
from server.api.routes.queue import http_error
from server.db import session_scope
from server.errors import HallError
from server.models import Device
from server.models.devices import DeviceKind
from server.models.queue import CALLABLE
from server.repo import queue as queue_repo
from server.services import queue as queue_service
from server.services.queue import IssueRequest, QueueRules
from server.services.queue_estimate import items_overview, ticket_view
from server.timeutil import utcnow

router = APIRouter(tags=["tickets"])

PAGES = Path(__file__).resolve().parents[2] / "pages"
ID_NUMBER = r"^(\d{17}[\dXx]|\d{15})$"
# A contactless card's UID in hex: 4, 7 or 10 bytes (ISO 14443), allowing any length from 4 to 10.
CARD_SERIAL = r"^([0-9A-Fa-f]{2}){4,10}$"


class CitizenIn(BaseModel):
    """The citizen's identity from the ID card; only a keyed hash and a masked form are kept."""

    model_config = ConfigDict(extra="forbid")

    id_number: Annotated[str, Field(pattern=ID_NUMBER, description="18- or 15-character ID number")]
    name: Annotated[str, Field(max_length=50)] = ""


class TicketIn(BaseModel):
    """A kiosk's ticket request."""

    model_config = ConfigDict(extra="forbid")

    item_code: Annotated[str, Field(min_length=1, max_length=32)]
    client_ref: UUID
    priority: bool = False
    citizen: CitizenIn | None = None
    card_serial: Annotated[
        str | None,
        Field(
            pattern=CARD_SERIAL,
            description="the ID card's physical serial (UID, 8-20 hex digits) when no SAM reader read "
            "the card; only a keyed hash and the last 4 digits are kept",
        ),
    ] = None

    @model_validator(mode="after")
    def _one_citizen_reference(self) -> TicketIn:
        if self.citizen is not None and self.card_serial is not None:
            raise ValueError("give either citizen or card_serial, not both")
        return self


def _kiosk(device: Device) -> Device:
    if device.kind != DeviceKind.KIOSK.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a ticket kiosk may issue tickets")
    return device


@router.get("/api/v1/items")
@read_only
def list_items(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Service items for the kiosk's item screen, with today's waiting counts."""
    rules, now = QueueRules.from_settings(settings), utcnow()
    return {
        "accepting": rules.accepting(now),
        "last_ticket_time": settings.queue_last_ticket_time,
        "closing_time": settings.queue_closing_time,
        "items": items_overview(session, rules, now),
    }


@router.post("/api/v1/tickets", status_code=status.HTTP_201_CREATED)
async def issue(
    body: TicketIn, request: Request, response: Response, authorization: Credentials
) -> dict[str, Any]:
    """Issue a ticket (201); a retried client_ref or a citizen already waiting gets theirs back (200)."""
    # A hot route: one worker-thread hop for the whole request instead of one per sync dependency.
    return await in_db_turn(request, _issue, request, body, response, authorization)


def _issue(request: Request, body: TicketIn, response: Response, authorization: str) -> dict[str, Any]:
    settings = get_app_settings(request)
    # Committed before the answer goes out, as SessionDep does.
    with session_scope(get_engine(request)) as session:
        device = _kiosk(authenticate_device(session, authorization))
        rules, now = QueueRules.from_settings(settings), utcnow()
        issue_request = IssueRequest(
            item_code=body.item_code,
            client_ref=str(body.client_ref),
            priority=body.priority,
            citizen_id=body.citizen.id_number if body.citizen else None,
            kiosk_device_id=device.device_id,
            card_serial=body.card_serial,
        )
        secret = settings.secret_key.get_secret_value() or DEMO_SECRET
        try:
            issued = queue_service.issue_ticket(session, issue_request, rules, secret, now)
        except HallError as err:
            raise http_error(err) from err
        # Release the numbering counter's row lock now, not after the answer is built: other kiosks
        # issuing for the same item wait on it.
        session.commit()
        if not issued.created:
            response.status_code = status.HTTP_200_OK
        view = ticket_view(session, issued.ticket, rules, settings.base_url, now, issued.ahead)
        return {**view, "reissued": issued.reissued}


@router.post("/api/v1/tickets/{ticket_no}/{outcome}")
def printer_outcome(
    ticket_no: str, outcome: str, session: SessionDep, settings: SettingsDep, device: DeviceDep
) -> dict[str, Any]:
    """The kiosk reports a ticket ``printed``, or ``cancel``s one it could not print."""
    _kiosk(device)
    if outcome not in ("printed", "cancel"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown outcome {outcome!r}")
    rules, now = QueueRules.from_settings(settings), utcnow()
    try:
        ticket = queue_service.kiosk_ticket(session, ticket_no, rules, now)
        if outcome == "printed":
            ticket.printed = True
        else:
            queue_service.cancel(ticket)
    except HallError as err:
        raise http_error(err) from err
    session.add(ticket)
    session.flush()
    return ticket_view(session, ticket, rules, settings.base_url, now)


@router.get("/t/{token}", response_class=HTMLResponse)
def status_page(token: str, session: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """The citizen's live ticket page: position, estimated wait and status; no personal data."""
    ticket = queue_repo.ticket_by_token(session, token)
    if ticket is None:
        page = Template((PAGES / "ticket_missing.html").read_text(encoding="utf-8"))
        return HTMLResponse(page.substitute(hall=html.escape(settings.hall_name)), status.HTTP_404_NOT_FOUND)
    rules, now = QueueRules.from_settings(settings), utcnow()
    view = ticket_view(session, ticket, rules, settings.base_url, now)
    where = f"请到 {view['window_number']} 号窗口" if view["window_number"] else view["window_group"]
    page = Template((PAGES / "ticket.html").read_text(encoding="utf-8"))
    values = {
        "hall": settings.hall_name,
        "ticket_no": ticket.ticket_no,
        "item_name": view["item_name"] or "",
        "status_text": view["status_text"],
        "ahead": str(view["people_ahead"]),
        "wait": str(view["estimated_wait_min"]),
        "where": where,
        "issued": ticket.issued_at.astimezone(rules.tz).strftime("%H:%M"),
        "waiting_class": "" if ticket.status in CALLABLE else "hidden",
    }
    return HTMLResponse(page.substitute({k: html.escape(v) for k, v in values.items()}))
