"""The kiosk's screen flow as a pure state machine: ``step(flow, event, now, config)``.

No I/O here: the kiosk service feeds events (touches, card reads, server answers, clock
ticks) and carries out the one effect a transition may ask for (issue a ticket, or check in
an appointment: 预约取号 starts on the welcome screen with the ID card).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


# -- events -------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """开始取号 on the welcome screen."""


@dataclass(frozen=True)
class ChooseDepartment:
    """A department button."""

    code: str


@dataclass(frozen=True)
class ChooseItem:
    """A service item button."""

    code: str


@dataclass(frozen=True)
class TakeTicket:
    """直接取号 (no ID card)."""


@dataclass(frozen=True)
class UseCard:
    """刷身份证取号."""


@dataclass(frozen=True)
class Back:
    """返回 (one screen back)."""


@dataclass(frozen=True)
class Home:
    """返回首页 / 完成."""


@dataclass(frozen=True)
class Touch:
    """Any touch: keeps the screen from timing out."""


@dataclass(frozen=True)
class CardRead:
    """The reader read a card."""

    citizen: Citizen


@dataclass(frozen=True)
class CardFailed:
    """The reader saw a card it could not read; ``hint`` is the reader's Chinese hint."""

    hint: str


@dataclass(frozen=True)
class Issued:
    """The server issued (or reissued) the ticket."""

    ticket: Mapping[str, Any]


@dataclass(frozen=True)
class IssueFailed:
    """The server could not be reached or refused the ticket."""

    failure: Failure
    message: str = ""


@dataclass(frozen=True)
class CheckInRefused:
    """The server found no booking to check in now; ``item_code`` is the booked item when too late."""

    failure: Failure
    message: str = ""
    item_code: str = ""


@dataclass(frozen=True)
class Unavailable:
    """The kiosk has no service items to offer (the server was never reached)."""


@dataclass(frozen=True)
class Tick:
    """The clock: drives every timeout."""


Event = (
    Start
    | ChooseDepartment
    | ChooseItem
    | TakeTicket
    | UseCard
    | Back
    | Home
    | Touch
    | CardRead
    | CardFailed
    | Issued
    | IssueFailed
    | CheckInRefused
    | Unavailable
    | Tick
)


@dataclass(frozen=True)
class IssueTicket:
    """Effect: ask the server for a ticket."""

    item_code: str
    citizen: Citizen | None
    priority: bool


@dataclass(frozen=True)
class CheckIn:
    """Effect: check in the citizen's booking for now and get its ticket."""

    citizen: Citizen


Effect = IssueTicket | CheckIn

_BACK = {
    Screen.DEPARTMENT: Screen.WELCOME,
    Screen.ITEMS: Screen.DEPARTMENT,
    Screen.ITEM: Screen.ITEMS,
    Screen.CARD: Screen.ITEM,
}
_IDLE_SCREENS = frozenset({Screen.DEPARTMENT, Screen.ITEMS, Screen.ITEM, Screen.CARD})


def _timeout_s(flow: Flow, config: FlowConfig) -> float | None:
    if flow.screen in _IDLE_SCREENS:
        return config.idle_timeout_s
    if flow.screen is Screen.TICKET:
        return config.ticket_screen_s
    if flow.screen is Screen.FAILURE:
        return config.failure_screen_s
    return None  # welcome waits forever; issuing ends with the server's answer


def seconds_left(flow: Flow, now: float, config: FlowConfig) -> float | None:
    """Seconds until the current screen times out (None when it never does)."""
    timeout = _timeout_s(flow, config)
    return None if timeout is None else max(0.0, flow.since + timeout - now)


def _priority(citizen: Citizen | None, config: FlowConfig) -> bool:
    """The priority lane goes by the age on the card; an unknown age never qualifies."""
    return citizen is not None and citizen.age is not None and citizen.age >= config.priority_age


def _to(screen: Screen, now: float, **changes: Any) -> Flow:
    """A fresh screen; what is not carried over is forgotten (the citizen above all)."""
    return replace(Flow(), screen=screen, since=now, **changes)


def step(flow: Flow, event: Event, now: float, config: FlowConfig) -> tuple[Flow, Effect | None]:
    """The next flow and the effect to carry out (an event that does not apply changes nothing)."""
    if flow.appointment or (flow.screen is Screen.WELCOME and isinstance(event, UseCard)):
        handled = _appointment_step(flow, event, now, config)
        if handled is not None:
            return handled
    screen = flow.screen
    match event:
        case Tick():
            left = seconds_left(flow, now, config)
            return (_to(Screen.WELCOME, now) if left == 0 else flow), None
        case Touch():
            return (replace(flow, since=now) if screen is not Screen.WELCOME else flow), None
        case Home() if screen is not Screen.ISSUING:
            return _to(Screen.WELCOME, now), None
        case Unavailable() if screen in (Screen.WELCOME, Screen.DEPARTMENT):
            failure = Failure.SERVER_DOWN
            return _to(Screen.FAILURE, now, failure=failure, message=FAILURE_TEXT[failure]), None
        case Start() if screen is Screen.WELCOME:
            return _to(Screen.DEPARTMENT, now), None
        case ChooseDepartment(code=code) if screen is Screen.DEPARTMENT:
            return _to(Screen.ITEMS, now, department=code), None
        case ChooseItem(code=code) if screen is Screen.ITEMS:
            return _to(Screen.ITEM, now, department=flow.department, item_code=code), None
        case Back() if screen in _BACK:
            target = _BACK[screen]
            keep: dict[str, Any] = {}
            if target in (Screen.ITEMS, Screen.ITEM):
                keep["department"] = flow.department
            if target is Screen.ITEM:
                keep["item_code"] = flow.item_code
            return _to(target, now, **keep), None
        case Back() if screen is Screen.FAILURE and flow.failure in CARD_FAILURES:
            return _to(Screen.ITEM, now, department=flow.department, item_code=flow.item_code), None
        case TakeTicket() if screen is Screen.ITEM and flow.item_code:
            nxt = _to(Screen.ISSUING, now, department=flow.department, item_code=flow.item_code)
            return nxt, IssueTicket(flow.item_code, None, False)
        case UseCard() if screen is Screen.ITEM or (
            screen is Screen.FAILURE and flow.failure is Failure.CARD_UNREADABLE
        ):
            return _to(Screen.CARD, now, department=flow.department, item_code=flow.item_code), None
        case CardRead(citizen=citizen) if screen is Screen.CARD and flow.item_code:
            kept = {"department": flow.department, "item_code": flow.item_code}
            if citizen.expired:
                failure = Failure.CARD_EXPIRED
                return _to(Screen.FAILURE, now, failure=failure, message=FAILURE_TEXT[failure], **kept), None
            priority = _priority(citizen, config)
            nxt = _to(Screen.ISSUING, now, citizen=citizen, priority=priority, **kept)
            return nxt, IssueTicket(flow.item_code, citizen, priority)
        case CardFailed(hint=hint) if screen is Screen.CARD:
            failure = Failure.CARD_UNREADABLE
            message = f"{hint}。{FAILURE_TEXT[failure]}" if hint else FAILURE_TEXT[failure]
            kept = {"department": flow.department, "item_code": flow.item_code}
            return _to(Screen.FAILURE, now, failure=failure, message=message, **kept), None
        case Issued(ticket=ticket) if screen is Screen.ISSUING:
            return _to(Screen.TICKET, now, item_code=flow.item_code, ticket=ticket), None
        case IssueFailed(failure=failure, message=message) if screen is Screen.ISSUING:
            text = message or FAILURE_TEXT[failure]
            return _to(Screen.FAILURE, now, item_code=flow.item_code, failure=failure, message=text), None
    return flow, None


def _appointment_step(
    flow: Flow, event: Event, now: float, config: FlowConfig
) -> tuple[Flow, Effect | None] | None:
    """The 预约取号 lane; None leaves the event to the common transitions (ticks, home, answers)."""
    screen = flow.screen
    match event:
        case UseCard() if screen is Screen.WELCOME or (
            screen is Screen.FAILURE and flow.failure is Failure.CARD_UNREADABLE
        ):
            return _to(Screen.CARD, now, appointment=True), None
        case Back() if screen is Screen.CARD or (
            screen is Screen.FAILURE
            and (flow.failure in CARD_FAILURES or flow.failure is Failure.APPT_BY_SERIAL)
        ):
            return _to(Screen.WELCOME, now), None
        case CardRead(citizen=citizen) if screen is Screen.CARD and citizen.serial_only:
            # Bookings hold ID numbers: a serial finds none. Offer the normal ticket path instead.
            failure, text = Failure.APPT_BY_SERIAL, FAILURE_TEXT[Failure.APPT_BY_SERIAL]
            return _to(Screen.FAILURE, now, failure=failure, message=text, appointment=True), None
        case TakeTicket() if screen is Screen.FAILURE and flow.failure is Failure.APPT_BY_SERIAL:
            return _to(Screen.DEPARTMENT, now), None
        case CardRead(citizen=citizen) if screen is Screen.CARD:
            if citizen.expired:
                failure, text = Failure.CARD_EXPIRED, FAILURE_TEXT[Failure.CARD_EXPIRED]
                return _to(Screen.FAILURE, now, failure=failure, message=text, appointment=True), None
            return _to(Screen.ISSUING, now, citizen=citizen, appointment=True), CheckIn(citizen)
        case CardFailed(hint=hint) if screen is Screen.CARD:
            failure = Failure.CARD_UNREADABLE
            message = f"{hint}。{FAILURE_TEXT[failure]}" if hint else FAILURE_TEXT[failure]
            return _to(Screen.FAILURE, now, failure=failure, message=message, appointment=True), None
        case CheckInRefused(failure=failure, message=message, item_code=code) if screen is Screen.ISSUING:
            text = message or FAILURE_TEXT[failure]
            # Too late: the card stays known on this screen only, to offer a normal ticket at once.
            keep: dict[str, Any] = {}
            if failure is Failure.APPT_TOO_LATE and code:
                keep = {"item_code": code, "citizen": flow.citizen}
            return _to(Screen.FAILURE, now, failure=failure, message=text, appointment=True, **keep), None
        case TakeTicket() if screen is Screen.FAILURE and flow.failure is Failure.APPT_TOO_LATE:
            if not flow.item_code:
                return flow, None
            holder = flow.citizen
            priority = _priority(holder, config)
            nxt = _to(Screen.ISSUING, now, item_code=flow.item_code, citizen=holder, priority=priority)
            return nxt, IssueTicket(flow.item_code, holder, priority)
    return None
