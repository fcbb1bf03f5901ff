"""The 预约取号 lane of the kiosk flow, table-driven, and how server refusals become screens."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.flow import step
from kiosk.flow_events import (
    Back,
    CardFailed,
    CardRead,
    CheckIn,
    CheckInRefused,
    Effect,
    Event,
    Home,
    Issued,
    IssueFailed,
    IssueTicket,
    TakeTicket,
    Tick,
    UseCard,
)
from kiosk.flow_state import Failure, Flow, Screen
from kiosk.server_client import ServerRejectedError
from kiosk.service import _refusal, appointment_print
from tests.kiosk.test_flow import ADULT, CONFIG, ELDER, EXPIRED, T0, TICKET, W

pytestmark = pytest.mark.timeout(10)


def appt(screen: Screen, **kw: object) -> Flow:
    """A flow of the appointment lane on ``screen`` entered at T0."""
    return replace(Flow(), screen=screen, since=T0, appointment=True, **kw)


LATE = CheckInRefused(Failure.APPT_TOO_LATE, "已超过签到时间", "GA02")
LATE_SCREEN = appt(Screen.FAILURE, failure=Failure.APPT_TOO_LATE, item_code="GA02", citizen=ELDER)

# (name, flow before, event, screen after, effect)
TRANSITIONS: list[tuple[str, Flow, Event, Screen, Effect | None]] = [
    ("预约取号 on welcome", W, UseCard(), Screen.CARD, None),
    ("card read checks in", appt(Screen.CARD), CardRead(ADULT), Screen.ISSUING, CheckIn(ADULT)),
    ("elder checks in too", appt(Screen.CARD), CardRead(ELDER), Screen.ISSUING, CheckIn(ELDER)),
    ("expired card", appt(Screen.CARD), CardRead(EXPIRED), Screen.FAILURE, None),
    ("unreadable card", appt(Screen.CARD), CardFailed("读卡失败"), Screen.FAILURE, None),
    ("retry card", appt(Screen.FAILURE, failure=Failure.CARD_UNREADABLE), UseCard(), Screen.CARD, None),
    ("back from card", appt(Screen.CARD), Back(), Screen.WELCOME, None),
    (
        "back from card failure",
        appt(Screen.FAILURE, failure=Failure.CARD_EXPIRED),
        Back(),
        Screen.WELCOME,
        None,
    ),
    ("ticket issued", appt(Screen.ISSUING, citizen=ADULT), Issued(TICKET), Screen.TICKET, None),
    ("no booking", appt(Screen.ISSUING), CheckInRefused(Failure.APPT_NONE), Screen.FAILURE, None),
    (
        "too early",
        appt(Screen.ISSUING),
        CheckInRefused(Failure.APPT_TOO_EARLY, "请于 09:45 后再来"),
        Screen.FAILURE,
        None,
    ),
    ("too late", appt(Screen.ISSUING, citizen=ADULT), LATE, Screen.FAILURE, None),
    ("server down", appt(Screen.ISSUING), IssueFailed(Failure.SERVER_DOWN), Screen.FAILURE, None),
    ("normal ticket when late", LATE_SCREEN, TakeTicket(), Screen.ISSUING, IssueTicket("GA02", ELDER, True)),
    ("home from late", LATE_SCREEN, Home(), Screen.WELCOME, None),
]

IGNORED: list[tuple[str, Flow, Event]] = [
    ("take when too early", appt(Screen.FAILURE, failure=Failure.APPT_TOO_EARLY), TakeTicket()),
    ("take when no booking", appt(Screen.FAILURE, failure=Failure.APPT_NONE), TakeTicket()),
    ("home while checking in", appt(Screen.ISSUING), Home()),
    ("refusal on welcome", W, LATE),
    ("card again after expired", appt(Screen.FAILURE, failure=Failure.CARD_EXPIRED), UseCard()),
]


@pytest.mark.parametrize(
    ("name", "before", "event", "screen", "effect"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS]
)
def test_transition(name: str, before: Flow, event: Event, screen: Screen, effect: Effect | None) -> None:
    after, got = step(before, event, T0 + 5, CONFIG)
    assert after.screen is screen and got == effect and after.since == T0 + 5


@pytest.mark.parametrize(("name", "before", "event"), IGNORED, ids=[t[0] for t in IGNORED])
def test_event_that_does_not_apply_changes_nothing(name: str, before: Flow, event: Event) -> None:
    assert step(before, event, T0 + 5, CONFIG) == (before, None)


def test_messages_and_what_is_kept() -> None:
    early, _ = step(
        appt(Screen.ISSUING), CheckInRefused(Failure.APPT_TOO_EARLY, "请于 09:45 后再来"), T0, CONFIG
    )
    assert early.message == "请于 09:45 后再来" and early.citizen is None
    none, _ = step(appt(Screen.ISSUING, citizen=ADULT), CheckInRefused(Failure.APPT_NONE), T0, CONFIG)
    assert "没有查到您今天的预约" in none.message and none.citizen is None
    late, _ = step(appt(Screen.ISSUING, citizen=ADULT), LATE, T0, CONFIG)
    assert late.citizen == ADULT and late.item_code == "GA02"  # for the normal ticket it offers
    gone, _ = step(late, Tick(), T0 + CONFIG.failure_screen_s, CONFIG)
    assert gone == Flow(since=T0 + CONFIG.failure_screen_s)  # the card is forgotten on the timeout


def test_server_refusals_become_screens() -> None:
    none = _refusal(ServerRejectedError(404, "没有查到您今天的预约"))
    assert none == CheckInRefused(Failure.APPT_NONE, "没有查到您今天的预约")
    early = _refusal(ServerRejectedError(409, "请于 09:45 后再来", {"reason": "too_early"}))
    assert early == CheckInRefused(Failure.APPT_TOO_EARLY, "请于 09:45 后再来")
    late = _refusal(ServerRejectedError(409, "已超过", {"reason": "too_late", "item_code": "GA02"}))
    assert late == CheckInRefused(Failure.APPT_TOO_LATE, "已超过", "GA02")
    assert _refusal(ServerRejectedError(403, "only a kiosk")) == IssueFailed(Failure.REJECTED, "only a kiosk")


def test_printed_appointment_ticket_is_marked() -> None:
    ticket = {
        "ticket_no": "A001",
        "item_name": "户口迁移",
        "priority": True,
        "appointment": {"slot": "09:00-09:30"},
    }
    printed = appointment_print(ticket)
    assert printed["item_name"] == "【预约】户口迁移" and printed["priority"] is False
    assert ticket["item_name"] == "户口迁移"  # the screen keeps the server's ticket
