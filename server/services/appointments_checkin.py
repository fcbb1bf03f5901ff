"""The day of an appointment: check-in at the kiosk, which issues its ticket, and no-show marking."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlmodel import Session

from server.errors import ConflictError, NotFoundError
from server.models import ServiceItem, Ticket
from server.models.appointments import Appointment, AppointmentSlot, AppointmentStatus
from server.models.queue import CALLABLE
from server.repo import appointments as repo
from server.repo import registry
from server.services import queue as queue_service
from server.services.appointments import AppointmentRules
from server.services.citizen_ids import citizen_hash
from server.timeutil import to_db

log = logging.getLogger(__name__)


class TooEarlyError(ConflictError):
    """The booking's check-in window has not opened yet."""

    def __init__(self, message: str, come_back_at: str) -> None:
        super().__init__(message)
        self.come_back_at = come_back_at


class TooLateError(ConflictError):
    """The booking's check-in window has closed; a normal ticket is still possible."""

    def __init__(self, message: str, item_code: str) -> None:
        super().__init__(message)
        self.item_code = item_code


@dataclass(frozen=True)
class CheckedIn:
    """The outcome of a check-in: the booking and its ticket (``created`` False on a repeat)."""

    appointment: Appointment
    slot: AppointmentSlot
    ticket: Ticket
    created: bool


def check_in(
    session: Session,
    id_number: str,
    kiosk_device_id: str,
    rules: AppointmentRules,
    secret: str,
    now: dt.datetime,
) -> CheckedIn:
    """Check in today's booking whose slot starts within the grace of ``now`` and issue its ticket."""
    hashed = citizen_hash(secret, id_number)
    rows = repo.of_citizen_on(session, rules.today(now), hashed, lock=True)
    moment = to_db(now)

    def opens(slot: AppointmentSlot) -> dt.datetime:
        return rules.at(slot.day, slot.start_time) - rules.early

    def closes(slot: AppointmentSlot) -> dt.datetime:
        return rules.at(slot.day, slot.start_time) + rules.late

    booked = [(a, s) for a, s in rows if a.status == AppointmentStatus.BOOKED.value]
    due = [(a, s) for a, s in booked if opens(s) <= moment <= closes(s)]
    if due:
        return _issue(session, *due[0], id_number, kiosk_device_id, rules, secret, now)
    for appointment, slot in rows:  # a repeated check-in gets the same ticket back
        ticket = session.get(Ticket, appointment.ticket_id) if appointment.ticket_id else None
        if ticket is not None and ticket.status in CALLABLE and moment <= closes(slot):
            return CheckedIn(appointment, slot, ticket, created=False)
    item_names = {i.id: i for i in registry.all_items(session)}
    early = [(a, s) for a, s in booked if moment < opens(s)]
    if early:
        slot = early[0][1]
        back = rules.local(opens(slot))
        name = item_names[slot.item_id].name if slot.item_id in item_names else ""
        raise TooEarlyError(
            f"您预约的{name}时段为 {slot.start_time:%H:%M}-{slot.end_time:%H:%M}，"
            f"还未到签到时间，请于 {back} 后再来签到取号",
            back,
        )
    late = [(a, s) for a, s in rows if a.status in (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW)]
    if late:
        slot = late[-1][1]
        item = item_names.get(slot.item_id)
        raise TooLateError(
            f"您预约的{item.name if item else ''}时段为 {slot.start_time:%H:%M}-{slot.end_time:%H:%M}，"
            f"已超过签到时间（{rules.local(closes(slot))} 前），您可以直接取普通号",
            item.code if item else "",
        )
    raise NotFoundError("没有查到您今天的预约，请直接取号或到咨询台咨询")


def _issue(
    session: Session,
    appointment: Appointment,
    slot: AppointmentSlot,
    id_number: str,
    kiosk_device_id: str,
    rules: AppointmentRules,
    secret: str,
    now: dt.datetime,
) -> CheckedIn:
    item = session.get(ServiceItem, slot.item_id)
    if item is None:
        raise NotFoundError("预约的办理事项已不存在，请到咨询台咨询")
    start = rules.at(slot.day, slot.start_time)
    ticket = queue_service.issue_at_position(
        session, item, id_number, kiosk_device_id, start, slot.day, secret, now
    )
    appointment.status = AppointmentStatus.CHECKED_IN.value
    appointment.checked_in_at, appointment.ticket_id = to_db(now), ticket.id
    session.add(appointment)
    session.flush()
    log.info("appointment %s checked in: ticket %s", appointment.code, ticket.ticket_no)
    return CheckedIn(appointment, slot, ticket, created=True)


def mark_no_shows(session: Session, rules: AppointmentRules, now: dt.datetime) -> int:
    """Mark bookings whose slot ended more than the late grace ago without a check-in; their count."""
    marked = 0
    for appointment, slot in repo.booked_until(session, rules.today(now)):
        if rules.at(slot.day, slot.end_time) + rules.late < to_db(now):
            appointment.status, appointment.no_show_at = AppointmentStatus.NO_SHOW.value, to_db(now)
            session.add(appointment)
            marked += 1
    if marked:
        session.flush()
        log.info("%d appointments marked as no-show", marked)
    return marked
