"""The kiosk flow's state: its screens, failures, the citizen, timeouts and the current flow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Screen(StrEnum):
    """What the touch screen shows."""

    WELCOME = "welcome"
    DEPARTMENT = "department"
    ITEMS = "items"
    ITEM = "item"
    CARD = "card"
    ISSUING = "issuing"
    TICKET = "ticket"
    FAILURE = "failure"


class Failure(StrEnum):
    """Why the failure screen is shown."""

    SERVER_DOWN = "server_down"
    REJECTED = "rejected"
    CARD_UNREADABLE = "card_unreadable"
    CARD_EXPIRED = "card_expired"
    APPT_NONE = "appointment_none"
    APPT_TOO_EARLY = "appointment_too_early"
    APPT_TOO_LATE = "appointment_too_late"
    APPT_BY_SERIAL = "appointment_card_serial"


FAILURE_TEXT = {
    Failure.SERVER_DOWN: "系统暂时无法取号，请到咨询台人工取号",
    Failure.REJECTED: "暂时无法取号，请到咨询台咨询",
    Failure.CARD_UNREADABLE: "身份证读取失败，请将身份证平放在读卡区后重试",
    Failure.CARD_EXPIRED: "身份证已过期，请到咨询台人工取号",
    Failure.APPT_NONE: "没有查到您今天的预约，请直接取号或到咨询台咨询",
    Failure.APPT_TOO_EARLY: "还未到预约签到时间，请稍后再来签到取号",
    Failure.APPT_TOO_LATE: "您的预约已超过签到时间，您可以直接取普通号",
    Failure.APPT_BY_SERIAL: (
        "本机读卡器不能读取身份证号码，无法查询预约。请点击“直接取号”取普通号，或到咨询台办理预约签到"
    ),
}
CARD_FAILURES = frozenset({Failure.CARD_UNREADABLE, Failure.CARD_EXPIRED})


@dataclass(frozen=True)
class Citizen:
    """What the card lane needs from an ID card; the clear fields never reach a screen or a log.

    A card read by its physical serial only (a PC/SC reader, no SAM) gives no ID number, name,
    age or validity: ``card_serial`` is then all there is.
    """

    id_number: str = field(repr=False)
    name: str = field(repr=False)
    masked: str
    age: int | None  # None: unknown, so never the priority lane
    expired: bool
    card_serial: str = field(default="", repr=False)

    @classmethod
    def by_card_serial(cls, card_serial: str, masked: str) -> Citizen:
        """A citizen known only by the ID card's physical serial."""
        return cls(id_number="", name="", masked=masked, age=None, expired=False, card_serial=card_serial)

    @property
    def serial_only(self) -> bool:
        """True when only the card's serial is known (no booking can be looked up by it)."""
        return not self.id_number


@dataclass(frozen=True)
class FlowConfig:
    """Timeouts and the priority-lane age."""

    priority_age: int = 70
    idle_timeout_s: float = 60.0
    ticket_screen_s: float = 20.0
    failure_screen_s: float = 30.0


@dataclass(frozen=True)
class Flow:
    """The current screen and what the citizen chose so far."""

    screen: Screen = Screen.WELCOME
    department: str | None = None
    item_code: str | None = None
    citizen: Citizen | None = None
    priority: bool = False
    ticket: Mapping[str, Any] | None = None
    failure: Failure | None = None
    message: str = ""
    since: float = 0.0
    appointment: bool = False  # the 预约取号 lane: the card checks in today's booking
