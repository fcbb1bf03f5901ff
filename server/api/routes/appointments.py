"""Appointments (预约): slots, booking and cancelling, check-in at the kiosk, the supervisors' list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field, model_validator

from server.api.deps import (
    DEMO_SECRET,
    READERS,
    DeviceDep,
    SessionDep,
    SettingsDep,
    department_scope,
    get_device,
    require_roles,
)
from server.api.routes.queue import http_error
from server.api.routes.tickets import ID_NUMBER
from server.errors import HallError
from server.models import Device, User
from server.models.appointments import AppointmentStatus
from server.models.devices import DeviceKind
from server.models.users import Role
from server.repo import appointments as repo
from server.repo import queue_stats as stats_repo
from server.services import appointments as service
from server.services import appointments_checkin as checkin_service
from server.services.appointments import AppointmentRules, BookingRequest, SlotRequest
from server.services.queue import QueueRules
from server.services.queue_estimate import ticket_view
from server.settings import ServerSettings
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])

MAX_LIST_DAYS = 31
PHONE = r"^\+?\d[\d-]{5,19}$"
IdNumber = Annotated[str, Field(pattern=ID_NUMBER, description="18- or 15-character ID number")]


class SlotIn(BaseModel):
    """A new slot of one item."""

    model_config = ConfigDict(extra="forbid")

    item_code: Annotated[str, Field(min_length=1, max_length=32)]
    date: dt.date
    start_time: dt.time
    end_time: dt.time
    capacity: Annotated[int, Field(ge=1, le=1000)]

    @model_validator(mode="after")
    def _end_after_start(self) -> SlotIn:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class BookingIn(BaseModel):
    """A citizen's booking; only masked forms and a keyed hash of the ID number are kept."""

    model_config = ConfigDict(extra="forbid")

    item_code: Annotated[str, Field(min_length=1, max_length=32)]
    slot_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    id_number: IdNumber
    name: Annotated[str, Field(min_length=1, max_length=50)]
    phone: Annotated[str, Field(pattern=PHONE)] | None = None


class IdNumberIn(BaseModel):
    """The ID number that made (cancel) or holds (check-in) a booking."""

    model_config = ConfigDict(extra="forbid")

    id_number: IdNumber


def _rules(settings: ServerSettings) -> AppointmentRules:
    return AppointmentRules.from_settings(settings)


def _secret(settings: ServerSettings) -> str:
    return settings.secret_key.get_secret_value() or DEMO_SECRET


def optional_device(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Device | None:
    """The kiosk whose valid key is presented, or None: booking is public, other credentials don't matter."""
    if not authorization:
        return None
    try:
        return get_device(session, authorization)
    except HTTPException:
        return None


@router.post("/slots", status_code=status.HTTP_201_CREATED)
def create_slot(
    body: SlotIn,
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require_roles(Role.ADMIN, Role.SUPERVISOR)],
) -> dict[str, Any]:
    """Open a slot of an item with a number of places (admin or supervisor)."""
    req = SlotRequest(body.item_code, body.date, body.start_time, body.end_time, body.capacity)
    try:
        slot = service.create_slot(session, req, _rules(settings), user.username, utcnow())
    except HallError as err:
        raise http_error(err) from err
    return service.slot_view(session, slot, stats_repo.items_by_id(session))


@router.get("/slots")
def list_slots(
    session: SessionDep,
    settings: SettingsDep,
    item_code: Annotated[str | None, Query(max_length=32)] = None,
    date: dt.date | None = None,
    days: Annotated[int, Query(ge=1, le=MAX_LIST_DAYS)] = 7,
) -> dict[str, Any]:
    """Slots from ``date`` (default today) for ``days`` days with their free places (public)."""
    first = date or _rules(settings).today(utcnow())
    items = stats_repo.items_by_id(session)
    item_id = None
    if item_code is not None:
        item_id = next((i.id for i in items.values() if i.code == item_code), None)
        if item_id is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有编码为 {item_code} 的办理事项")
    slots = repo.slots_between(session, first, first + dt.timedelta(days=days - 1), item_id)
    return {"slots": [service.slot_view(session, s, items) for s in slots]}


@router.post("", status_code=status.HTTP_201_CREATED)
def book(
    body: BookingIn,
    session: SessionDep,
    settings: SettingsDep,
    device: Annotated[Device | None, Depends(optional_device)],
) -> dict[str, Any]:
    """Book a place (public, or a kiosk with its key); answers the booking code."""
    channel = device.device_id if device is not None else "public"
    req = BookingRequest(body.item_code, body.slot_id, body.id_number, body.name, body.phone, channel)
    try:
        appointment, slot = service.book(session, req, _rules(settings), _secret(settings), utcnow())
    except HallError as err:
        raise http_error(err) from err
    items = stats_repo.items_by_id(session)
    return service.appointment_view(session, appointment, slot, items.get(slot.item_id))


@router.post("/check-in")
def check_in(
    body: IdNumberIn, response: Response, session: SessionDep, settings: SettingsDep, device: DeviceDep
) -> dict[str, Any]:
    """Check in today's booking at the kiosk and issue its ticket (201; 200 for a repeat)."""
    if device.kind != DeviceKind.KIOSK.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a ticket kiosk may check in appointments")
    rules, now = _rules(settings), utcnow()
    try:
        done = checkin_service.check_in(
            session, body.id_number, device.device_id, rules, _secret(settings), now
        )
    except checkin_service.TooEarlyError as err:
        detail = {"reason": "too_early", "message": str(err), "come_back_at": err.come_back_at}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from err
    except checkin_service.TooLateError as err:
        detail = {"reason": "too_late", "message": str(err), "item_code": err.item_code}
        raise HTTPException(status.HTTP_409_CONFLICT, detail) from err
    except HallError as err:
        raise http_error(err) from err
    response.status_code = status.HTTP_201_CREATED if done.created else status.HTTP_200_OK
    view = ticket_view(session, done.ticket, QueueRules.from_settings(settings), settings.base_url, now)
    slot = f"{done.slot.start_time:%H:%M}-{done.slot.end_time:%H:%M}"
    return {
        **view,
        "reissued": not done.created,
        "appointment": {"code": done.appointment.code, "slot": slot},
    }


@router.post("/{code}/cancel")
def cancel(code: str, body: IdNumberIn, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Cancel a booking with the ID number that made it (public)."""
    if len(code) > 12:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有找到该预约，请核对预约码和身份证号")
    try:
        appointment = service.cancel(session, code, body.id_number, _secret(settings), utcnow())
    except HallError as err:
        raise http_error(err) from err
    slot = repo.slot_by_id(session, appointment.slot_id)
    if slot is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "预约时段已不存在")
    items = stats_repo.items_by_id(session)
    return service.appointment_view(session, appointment, slot, items.get(slot.item_id))


@router.get("")
def list_appointments(
    session: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require_roles(*READERS)],
    date: dt.date | None = None,
    status_: Annotated[AppointmentStatus | None, Query(alias="status")] = None,
) -> dict[str, Any]:
    """A day's bookings (default today), no-shows marked first; department heads see their own."""
    rules, now = _rules(settings), utcnow()
    checkin_service.mark_no_shows(session, rules, now)
    day = date or rules.today(now)
    rows = repo.of_day(session, day, status_.value if status_ else None, department_scope(user))
    return {
        "date": day.isoformat(),
        "appointments": [service.appointment_view(session, a, s, i) for a, s, i in rows],
    }
