"""Appointments (预约): slots, booking, cancelling, and how slots and bookings are shown."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.errors import ConflictError, NotFoundError
from server.models import ServiceItem, Ticket
from server.models.appointments import Appointment, AppointmentSlot, AppointmentStatus
from server.models.queue import CALLABLE
from server.repo import appointments as repo
from server.repo import registry
from server.services.citizen_ids import citizen_hash, mask_id
from server.settings import ServerSettings
from server.timeutil import to_db

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 8
CODE_ATTEMPTS = 5
STATUS_TEXT = {
    AppointmentStatus.BOOKED.value: "已预约",
    AppointmentStatus.CHECKED_IN.value: "已签到取号",
    AppointmentStatus.CANCELLED.value: "已取消",
    AppointmentStatus.NO_SHOW.value: "未到（爽约）",
}


@dataclass(frozen=True)
class AppointmentRules:
    """The hall's time zone and the check-in grace around a slot start."""

    tz: ZoneInfo
    early: dt.timedelta
    late: dt.timedelta

    @classmethod
    def from_settings(cls, settings: ServerSettings) -> AppointmentRules:
        """Rules from the server settings."""
        return cls(
            tz=ZoneInfo(settings.timezone),
            early=dt.timedelta(minutes=settings.appointment_grace_early_min),
            late=dt.timedelta(minutes=settings.appointment_grace_late_min),
        )

    def today(self, now: dt.datetime) -> dt.date:
        """The hall-local date of ``now``."""
        return to_db(now).astimezone(self.tz).date()

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        """A hall-local day and time as an aware UTC moment."""
        return to_db(dt.datetime.combine(day, time, tzinfo=self.tz))

    def local(self, moment: dt.datetime) -> str:
        """A moment as the hall's clock shows it (HH:MM)."""
        return f"{to_db(moment).astimezone(self.tz):%H:%M}"


@dataclass(frozen=True)
class SlotRequest:
    """A supervisor's new slot."""

    item_code: str
    day: dt.date
    start: dt.time
    end: dt.time
    capacity: int


@dataclass(frozen=True)
class BookingRequest:
    """A citizen's booking; the clear ID number, name and phone are used here and not kept."""

    item_code: str
    slot_id: int
    id_number: str
    name: str
    phone: str | None
    channel: str


def mask_name(name: str) -> str:
    """A name with all but its first character hidden: 王秀英 -> 王**."""
    value = name.strip()
    return value[:1] + "*" * max(len(value) - 1, 1) if value else ""


def mask_phone(phone: str) -> str:
    """A phone number with the middle hidden: 138****5678."""
    value = phone.strip()
    return value[:3] + "*" * max(len(value) - 7, 1) + value[-4:] if len(value) > 7 else "*" * len(value)


def _item(session: Session, code: str) -> ServiceItem:
    item = registry.items_by_code(session, {code}).get(code)
    if item is None or item.id is None:
        raise NotFoundError(f"没有编码为 {code} 的办理事项")
    return item


def create_slot(
    session: Session, req: SlotRequest, rules: AppointmentRules, created_by: str, now: dt.datetime
) -> AppointmentSlot:
    """Open a slot of an item; one slot per item, day and start time."""
    item = _item(session, req.item_code)
    if item.id is None or req.end <= req.start:
        raise ConflictError("结束时间必须晚于开始时间")
    if rules.at(req.day, req.start) <= to_db(now):
        raise ConflictError("不能设置已经开始的预约时段")
    if repo.slot_at(session, item.id, req.day, req.start) is not None:
        raise ConflictError(f"{item.name} {req.day} {req.start:%H:%M} 的预约时段已存在")
    slot = AppointmentSlot(
        item_id=item.id,
        day=req.day,
        start_time=req.start,
        end_time=req.end,
        capacity=req.capacity,
        created_at=to_db(now),
        created_by=created_by,
    )
    try:
        with session.begin_nested():
            session.add(slot)
            session.flush()
    except IntegrityError as err:  # the same slot added at the same moment by someone else
        raise ConflictError(f"{item.name} {req.day} {req.start:%H:%M} 的预约时段已存在") from err
    log.info("appointment slot %s %s %s opened by %s", item.code, req.day, req.start, created_by)
    return slot


def book(
    session: Session, req: BookingRequest, rules: AppointmentRules, secret: str, now: dt.datetime
) -> tuple[Appointment, AppointmentSlot]:
    """Book one place of a slot; a second active booking of the same item and day is refused."""
    item = _item(session, req.item_code)
    slot = repo.slot_by_id(session, req.slot_id)
    if slot is None or slot.item_id != item.id or slot.id is None or item.id is None:
        raise NotFoundError(f"{item.name} 没有这个预约时段")
    if rules.at(slot.day, slot.start_time) <= to_db(now):
        raise ConflictError("该预约时段已经开始，请选择其他时段")
    # Taking the place first locks the slot row, so two bookings of one citizen cannot cross.
    if not repo.take_place(session, slot.id):
        raise ConflictError("该时段已约满，请选择其他时段")
    session.refresh(slot)
    hashed = citizen_hash(secret, req.id_number)
    existing = repo.active_booking(session, item.id, slot.day, hashed)
    if existing is not None:
        raise ConflictError(f"您已预约 {slot.day} 的{item.name}（预约码 {existing.code}），不能重复预约")
    appointment = _insert(session, req, slot, hashed, now)
    log.info("appointment %s booked: %s %s %s", appointment.code, item.code, slot.day, slot.start_time)
    return appointment, slot


def _insert(
    session: Session, req: BookingRequest, slot: AppointmentSlot, hashed: str, now: dt.datetime
) -> Appointment:
    if slot.id is None:
        raise NotFoundError("slot without id")
    for _ in range(CODE_ATTEMPTS):
        appointment = Appointment(
            code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
            slot_id=slot.id,
            item_id=slot.item_id,
            day=slot.day,
            citizen_hash=hashed,
            citizen_masked=mask_id(req.id_number),
            name_masked=mask_name(req.name),
            phone_masked=mask_phone(req.phone) if req.phone else None,
            channel=req.channel,
            created_at=to_db(now),
        )
        try:
            with session.begin_nested():
                session.add(appointment)
                session.flush()
        except IntegrityError:  # a code collision: draw another
            continue
        return appointment
    raise ConflictError("预约码生成失败，请重试")


def cancel(session: Session, code: str, id_number: str, secret: str, now: dt.datetime) -> Appointment:
    """Cancel a booking not yet checked in; only the booked ID number may cancel it."""
    appointment = repo.by_code(session, code.strip().upper(), lock=True)
    # The same answer for a wrong code and a wrong ID number: nobody learns whose code it is.
    if appointment is None or appointment.citizen_hash != citizen_hash(secret, id_number):
        raise NotFoundError("没有找到该预约，请核对预约码和身份证号")
    if appointment.status != AppointmentStatus.BOOKED.value:
        raise ConflictError(f"该预约{STATUS_TEXT[appointment.status]}，不能取消")
    appointment.status = AppointmentStatus.CANCELLED.value
    appointment.cancelled_at = to_db(now)
    session.add(appointment)
    repo.release_place(session, appointment.slot_id)
    log.info("appointment %s cancelled", appointment.code)
    return appointment


def slot_view(session: Session, slot: AppointmentSlot, items: dict[int, ServiceItem]) -> dict[str, Any]:
    """A slot as the booking page and the supervisor see it."""
    item = items.get(slot.item_id)
    return {
        "id": slot.id,
        "item_code": item.code if item else None,
        "item_name": item.name if item else None,
        "date": slot.day.isoformat(),
        "start_time": f"{slot.start_time:%H:%M}",
        "end_time": f"{slot.end_time:%H:%M}",
        "capacity": slot.capacity,
        "booked": slot.booked,
        "free": max(slot.capacity - slot.booked, 0),
    }


def appointment_view(
    session: Session, appointment: Appointment, slot: AppointmentSlot, item: ServiceItem | None
) -> dict[str, Any]:
    """A booking with masked personal data only."""
    ticket = session.get(Ticket, appointment.ticket_id) if appointment.ticket_id else None
    return {
        "code": appointment.code,
        "item_code": item.code if item else None,
        "item_name": item.name if item else None,
        "date": slot.day.isoformat(),
        "start_time": f"{slot.start_time:%H:%M}",
        "end_time": f"{slot.end_time:%H:%M}",
        "status": appointment.status,
        "status_text": STATUS_TEXT[appointment.status],
        "citizen_masked": appointment.citizen_masked,
        "name_masked": appointment.name_masked,
        "phone_masked": appointment.phone_masked,
        "checked_in_at": appointment.checked_in_at.isoformat() if appointment.checked_in_at else None,
        "ticket_no": ticket.ticket_no if ticket else None,
        "ticket_callable": bool(ticket and ticket.status in CALLABLE),
    }
