"""The kiosk flow state machine, table-driven: every transition, every ignored event, every timeout."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.flow import seconds_left, step
from kiosk.flow_events import (
    Back,
    CardFailed,
    CardRead,
    ChooseDepartment,
    ChooseItem,
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
from kiosk.flow_state import Citizen, Failure, Flow, FlowConfig, Screen

pytestmark = pytest.mark.timeout(10)

CONFIG = FlowConfig(priority_age=70, idle_timeout_s=60, ticket_screen_s=20, failure_screen_s=30)
T0 = 1000.0
ELDER = Citizen("11010519491231002X", "王秀英", "110***********002X", 76, False)
ADULT = Citizen("34052419800101001X", "张伟", "340***********001X", 45, False)
SEVENTY = Citizen("110105195501010010", "测试", "110***********0010", 70, False)
EXPIRED = Citizen("440305200503150024", "李娜", "440***********0024", 21, True)
TICKET = {"ticket_no": "A001", "people_ahead": 2}


def at(screen: Screen, **kw: object) -> Flow:
    """A flow on ``screen`` entered at T0 with department GA and item GA01 chosen."""
    return replace(Flow(), screen=screen, since=T0, department="GA", item_code="GA01", **kw)


W = Flow(since=T0)

# (name, flow before, event, screen after, effect)
TRANSITIONS: list[tuple[str, Flow, Event, Screen, IssueTicket | None]] = [
    ("start", W, Start(), Screen.DEPARTMENT, None),
    ("department", at(Screen.DEPARTMENT), ChooseDepartment("RS"), Screen.ITEMS, None),
    ("item", at(Screen.ITEMS), ChooseItem("GA02"), Screen.ITEM, None),
    ("take without card", at(Screen.ITEM), TakeTicket(), Screen.ISSUING, IssueTicket("GA01", None, False)),
    ("card lane", at(Screen.ITEM), UseCard(), Screen.CARD, None),
    ("card adult", at(Screen.CARD), CardRead(ADULT), Screen.ISSUING, IssueTicket("GA01", ADULT, False)),
    (
        "card elder priority",
        at(Screen.CARD),
        CardRead(ELDER),
        Screen.ISSUING,
        IssueTicket("GA01", ELDER, True),
    ),
    (
        "card exactly 70",
        at(Screen.CARD),
        CardRead(SEVENTY),
        Screen.ISSUING,
        IssueTicket("GA01", SEVENTY, True),
    ),
    ("card expired", at(Screen.CARD), CardRead(EXPIRED), Screen.FAILURE, None),
    ("card unreadable", at(Screen.CARD), CardFailed("读卡失败"), Screen.FAILURE, None),
    ("issued", at(Screen.ISSUING), Issued(TICKET), Screen.TICKET, None),
    ("server down", at(Screen.ISSUING), IssueFailed(Failure.SERVER_DOWN), Screen.FAILURE, None),
    ("refused", at(Screen.ISSUING), IssueFailed(Failure.REJECTED, "今日取号已结束"), Screen.FAILURE, None),
    ("back department", at(Screen.DEPARTMENT), Back(), Screen.WELCOME, None),
    ("back items", at(Screen.ITEMS), Back(), Screen.DEPARTMENT, None),
    ("back item", at(Screen.ITEM), Back(), Screen.ITEMS, None),
    ("back card", at(Screen.CARD), Back(), Screen.ITEM, None),
    (
        "back from card failure",
        at(Screen.FAILURE, failure=Failure.CARD_UNREADABLE),
        Back(),
        Screen.ITEM,
        None,
    ),
    ("retry card", at(Screen.FAILURE, failure=Failure.CARD_UNREADABLE), UseCard(), Screen.CARD, None),
    ("home from item", at(Screen.ITEM), Home(), Screen.WELCOME, None),
    ("done on ticket", at(Screen.TICKET, ticket=TICKET), Home(), Screen.WELCOME, None),
    ("home from failure", at(Screen.FAILURE, failure=Failure.SERVER_DOWN), Home(), Screen.WELCOME, None),
    ("no items on start", W, Unavailable(), Screen.FAILURE, None),
]

# Events that do not apply to a screen change nothing.
IGNORED: list[tuple[str, Flow, Event]] = [
    ("take on welcome", W, TakeTicket()),
    ("card read on welcome", W, CardRead(ADULT)),
    ("card read on item", at(Screen.ITEM), CardRead(ADULT)),
    ("card error on item", at(Screen.ITEM), CardFailed("x")),
    ("home while issuing", at(Screen.ISSUING), Home()),
    ("back while issuing", at(Screen.ISSUING), Back()),
    ("late answer on ticket", at(Screen.TICKET, ticket=TICKET), Issued({"ticket_no": "A002"})),
    ("late failure on welcome", W, IssueFailed(Failure.SERVER_DOWN)),
    ("start twice", at(Screen.DEPARTMENT), Start()),
    ("retry after expired card", at(Screen.FAILURE, failure=Failure.CARD_EXPIRED), UseCard()),
    ("back on server failure", at(Screen.FAILURE, failure=Failure.SERVER_DOWN), Back()),
    ("unavailable while issuing", at(Screen.ISSUING), Unavailable()),
]

# (screen, seconds after entering it, screen after a tick)
TIMEOUTS: list[tuple[Flow, float, Screen]] = [
    (at(Screen.DEPARTMENT), 59.9, Screen.DEPARTMENT),
    (at(Screen.DEPARTMENT), 60, Screen.WELCOME),
    (at(Screen.ITEMS), 61, Screen.WELCOME),
    (at(Screen.ITEM), 60, Screen.WELCOME),
    (at(Screen.CARD), 60, Screen.WELCOME),
    (at(Screen.TICKET, ticket=TICKET), 19, Screen.TICKET),
    (at(Screen.TICKET, ticket=TICKET), 20, Screen.WELCOME),
    (at(Screen.FAILURE, failure=Failure.SERVER_DOWN), 30, Screen.WELCOME),
    (at(Screen.ISSUING), 3600, Screen.ISSUING),
    (W, 3600, Screen.WELCOME),
]


@pytest.mark.parametrize(
    ("name", "before", "event", "screen", "effect"), TRANSITIONS, ids=[t[0] for t in TRANSITIONS]
)
def test_transition(
    name: str, before: Flow, event: Event, screen: Screen, effect: IssueTicket | None
) -> None:
    after, got = step(before, event, T0 + 5, CONFIG)
    assert after.screen is screen
    assert got == effect
    assert after.since == T0 + 5


@pytest.mark.parametrize(("name", "before", "event"), IGNORED, ids=[t[0] for t in IGNORED])
def test_event_that_does_not_apply_changes_nothing(name: str, before: Flow, event: Event) -> None:
    assert step(before, event, T0 + 5, CONFIG) == (before, None)


@pytest.mark.parametrize(("before", "elapsed", "screen"), TIMEOUTS)
def test_timeouts(before: Flow, elapsed: float, screen: Screen) -> None:
    after, effect = step(before, Tick(), T0 + elapsed, CONFIG)
    assert after.screen is screen and effect is None
    if screen is Screen.WELCOME and before.screen is not Screen.WELCOME:
        assert after == Flow(since=T0 + elapsed)  # nothing of the citizen is kept


def test_touch_restarts_the_idle_clock() -> None:
    flow, _ = step(at(Screen.ITEM), Touch(), T0 + 50, CONFIG)
    assert seconds_left(flow, T0 + 50, CONFIG) == 60
    assert step(flow, Tick(), T0 + 100, CONFIG)[0].screen is Screen.ITEM
    assert step(flow, Tick(), T0 + 110, CONFIG)[0].screen is Screen.WELCOME


def test_priority_age_is_configurable() -> None:
    config = replace(CONFIG, priority_age=60)
    _, effect = step(at(Screen.CARD), CardRead(replace(ADULT, age=65)), T0, config)
    assert effect == IssueTicket("GA01", replace(ADULT, age=65), True)


def test_failure_texts_are_plain_chinese() -> None:
    expired, _ = step(at(Screen.CARD), CardRead(EXPIRED), T0, CONFIG)
    assert expired.failure is Failure.CARD_EXPIRED and "身份证已过期" in expired.message
    down, _ = step(at(Screen.ISSUING), IssueFailed(Failure.SERVER_DOWN), T0, CONFIG)
    assert "请到咨询台人工取号" in down.message
    refused, _ = step(at(Screen.ISSUING), IssueFailed(Failure.REJECTED, "今日取号已结束"), T0, CONFIG)
    assert refused.message == "今日取号已结束"
    unreadable, _ = step(at(Screen.CARD), CardFailed("读卡失败，请将身份证放稳后重试"), T0, CONFIG)
    assert unreadable.message.startswith("读卡失败") and unreadable.item_code == "GA01"


def test_citizen_is_forgotten_once_the_ticket_is_issued() -> None:
    issuing, _ = step(at(Screen.CARD), CardRead(ELDER), T0, CONFIG)
    assert issuing.citizen == ELDER and issuing.priority
    ticket, _ = step(issuing, Issued(TICKET), T0 + 1, CONFIG)
    assert ticket.citizen is None and ticket.ticket == TICKET
    assert "王秀英" not in repr(issuing) and "11010519491231002X" not in repr(issuing)


def test_back_keeps_what_the_previous_screen_needs() -> None:
    back, _ = step(at(Screen.CARD), Back(), T0, CONFIG)
    assert (back.department, back.item_code) == ("GA", "GA01")
    items, _ = step(at(Screen.ITEM), Back(), T0, CONFIG)
    assert (items.department, items.item_code) == ("GA", None)
