"""Appointments (预约): bookable time slots per service item and the citizens' bookings."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class AppointmentStatus(StrEnum):
    """Life cycle of a booking."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"  # the slot ended more than the late grace ago without a check-in


class AppointmentSlot(SQLModel, table=True):
    """A time slot of one item on one hall-local day with a number of places."""

    __tablename__ = "appointment_slot"
    __table_args__ = (UniqueConstraint("item_id", "day", "start_time"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="service_item.id", index=True)
    day: dt.date = Field(index=True)
    start_time: dt.time
    end_time: dt.time
    capacity: int
    # Kept next to the capacity and changed by one conditional UPDATE, so no slot is overbooked.
    booked: int = 0
    created_at: dt.datetime
    created_by: str = Field(max_length=64)


class Appointment(SQLModel, table=True):
    """One citizen's booking of a slot; the ID number only as a keyed hash and masked."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=12)
    slot_id: int = Field(foreign_key="appointment_slot.id", index=True)
    item_id: int = Field(foreign_key="service_item.id", index=True)
    day: dt.date = Field(index=True)
    status: str = Field(default=AppointmentStatus.BOOKED.value, max_length=16, index=True)
    citizen_hash: str = Field(max_length=64, index=True)
    citizen_masked: str = Field(max_length=24)
    name_masked: str = Field(max_length=50)
    phone_masked: str | None = Field(default=None, max_length=20)
    channel: str = Field(max_length=64)  # "public" or the kiosk's device id
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None
    checked_in_at: dt.datetime | None = None
    no_show_at: dt.datetime | None = None
    # No foreign key: this branch of the schema must not depend on the queue's branch being applied first.
    ticket_id: int | None = None
