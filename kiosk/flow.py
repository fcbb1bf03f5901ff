"""The kiosk's screen flow as a pure state machine: ``step(flow, event, now, config)``.

No I/O here: the kiosk service feeds events (touches, card reads, server answers, clock
ticks) and carries out the one effect a transition may ask for (issue a ticket, or check in
an appointment: 预约取号 starts on the welcome screen with the ID card).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kiosk.flow_events import (
    Back,
    CardFailed,
    CardRead,
    CheckIn,
    CheckInRefused,
    ChooseDepartment,
    ChooseItem,
    Effect,
    Event,
    Home,
    Issued,
    IssueFailed,
    IssueTicket,
    Start,
    TakeTicket,
    Tick,
    Touch,
    Unavailable,
    UseCard,
)
from kiosk.flow_state import CARD_FAILURES, FAILURE_TEXT, Citizen, Failure, Flow, FlowConfig, Screen

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
