"""Queries over appointment slots and bookings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import Session, col, select

from server.models import ServiceItem
from server.models.appointments import Appointment, AppointmentSlot, AppointmentStatus

ACTIVE = (AppointmentStatus.BOOKED.value, AppointmentStatus.CHECKED_IN.value)


def slot_by_id(session: Session, slot_id: int) -> AppointmentSlot | None:
    """One slot."""
    return session.get(AppointmentSlot, slot_id)


def slot_at(session: Session, item_id: int, day: dt.date, start: dt.time) -> AppointmentSlot | None:
    """The slot of an item that starts at ``start`` on ``day``."""
    stmt = select(AppointmentSlot).where(
        AppointmentSlot.item_id == item_id, AppointmentSlot.day == day, AppointmentSlot.start_time == start
    )
    return session.exec(stmt).first()


def slots_between(
    session: Session, first: dt.date, last: dt.date, item_id: int | None
) -> Sequence[AppointmentSlot]:
    """Slots from ``first`` to ``last`` (inclusive), optionally of one item, by day and start."""
    stmt = select(AppointmentSlot).where(col(AppointmentSlot.day) >= first, col(AppointmentSlot.day) <= last)
    if item_id is not None:
        stmt = stmt.where(AppointmentSlot.item_id == item_id)
    order = (col(AppointmentSlot.day), col(AppointmentSlot.start_time), col(AppointmentSlot.item_id))
    return session.exec(stmt.order_by(*order)).all()


def take_place(session: Session, slot_id: int) -> bool:
    """Book one place of a slot if one is free; the row stays locked until commit."""
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    stmt = (
        update(table)
        .where(table.c.id == slot_id, table.c.booked < table.c.capacity)
        .values(booked=table.c.booked + 1)
    )
    taken = session.execute(stmt).rowcount == 1  # type: ignore[attr-defined]
    return taken


def release_place(session: Session, slot_id: int) -> None:
    """Give one booked place of a slot back."""
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    stmt = update(table).where(table.c.id == slot_id, table.c.booked > 0).values(booked=table.c.booked - 1)
    session.execute(stmt)


def active_booking(session: Session, item_id: int, day: dt.date, citizen_hash: str) -> Appointment | None:
    """A booking of this citizen for this item on ``day`` that is not cancelled or missed."""
    stmt = select(Appointment).where(
        Appointment.item_id == item_id,
        Appointment.day == day,
        Appointment.citizen_hash == citizen_hash,
        col(Appointment.status).in_(ACTIVE),
    )
    return session.exec(stmt).first()


def by_code(session: Session, code: str, *, lock: bool = False) -> Appointment | None:
    """The booking with this code, row-locked when ``lock`` (PostgreSQL)."""
    stmt = select(Appointment).where(Appointment.code == code)
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def of_citizen_on(
    session: Session, day: dt.date, citizen_hash: str, *, lock: bool = False
) -> Sequence[tuple[Appointment, AppointmentSlot]]:
    """A citizen's bookings of ``day`` with their slots, by slot start."""
    stmt = (
        select(Appointment, AppointmentSlot)
        .join(AppointmentSlot, col(AppointmentSlot.id) == Appointment.slot_id)
        .where(Appointment.day == day, Appointment.citizen_hash == citizen_hash)
        .order_by(col(AppointmentSlot.start_time), col(Appointment.id))
    )
    if lock:
        stmt = stmt.with_for_update(of=Appointment)
    return session.exec(stmt).all()


def booked_until(session: Session, last_day: dt.date) -> Sequence[tuple[Appointment, AppointmentSlot]]:
    """Bookings still waiting for a check-in on or before ``last_day``, with their slots."""
    stmt = (
        select(Appointment, AppointmentSlot)
        .join(AppointmentSlot, col(AppointmentSlot.id) == Appointment.slot_id)
        .where(Appointment.status == AppointmentStatus.BOOKED.value, col(Appointment.day) <= last_day)
    )
    return session.exec(stmt).all()


def of_day(
    session: Session, day: dt.date, status: str | None, department_id: int | None
) -> Sequence[tuple[Appointment, AppointmentSlot, ServiceItem]]:
    """Bookings of a day with slot and item, optionally of one status and department."""
    stmt = (
        select(Appointment, AppointmentSlot, ServiceItem)
        .join(AppointmentSlot, col(AppointmentSlot.id) == Appointment.slot_id)
        .join(ServiceItem, col(ServiceItem.id) == Appointment.item_id)
        .where(Appointment.day == day)
    )
    if status is not None:
        stmt = stmt.where(Appointment.status == status)
    if department_id is not None:
        stmt = stmt.where(ServiceItem.department_id == department_id)
    order = (col(AppointmentSlot.start_time), col(ServiceItem.code), col(Appointment.id))
    return session.exec(stmt.order_by(*order)).all()
