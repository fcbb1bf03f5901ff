"""The card serial lane without hardware: a serial-only citizen through the pure flow, and its helpers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kiosk.card_serial import citizen_from_serial, mask_card_serial, read_failure_hint, wanted_reader
from kiosk.devices.pcsc import VPCD_READER, CardCommandError, CardRead, NoCardError
from kiosk.flow import step
from kiosk.flow_events import (
    Back,
    CardFailed,
    CheckIn,
    Effect,
    Event,
    Home,
    Issued,
    IssueTicket,
    TakeTicket,
    Tick,
    UseCard,
)
from kiosk.flow_events import CardRead as FlowCardRead
from kiosk.flow_state import Citizen, Failure, Flow, Screen
from kiosk.settings import get_kiosk_settings
from tests.kiosk.test_flow import ADULT, CONFIG, T0, TICKET, W, at

pytestmark = pytest.mark.timeout(10)

UID = "04A1B2C3D4E5F6"
BY_SERIAL = citizen_from_serial(CardRead(uid_hex=UID, atr_hex="3B8F"))


def appt(screen: Screen, **kw: Any) -> Flow:
    """A flow of the appointment lane on ``screen`` entered at T0."""
    return replace(Flow(), screen=screen, since=T0, appointment=True, **kw)


SERIAL_APPT = appt(Screen.FAILURE, failure=Failure.APPT_BY_SERIAL)

# (name, flow before, event, screen after, effect)
TRANSITIONS: list[tuple[str, Flow, Event, Screen, Effect | None]] = [
    (
        "card serial takes a ticket",
        at(Screen.CARD),
        FlowCardRead(BY_SERIAL),
        Screen.ISSUING,
        IssueTicket("GA01", BY_SERIAL, False),
    ),
    ("unreadable card", at(Screen.CARD), CardFailed("卡片移开过快"), Screen.FAILURE, None),
    ("issued", at(Screen.ISSUING, citizen=BY_SERIAL), Issued(TICKET), Screen.TICKET, None),
    ("appointment by serial is refused", appt(Screen.CARD), FlowCardRead(BY_SERIAL), Screen.FAILURE, None),
    ("normal ticket path offered", SERIAL_APPT, TakeTicket(), Screen.DEPARTMENT, None),
    ("back to welcome", SERIAL_APPT, Back(), Screen.WELCOME, None),
    ("home", SERIAL_APPT, Home(), Screen.WELCOME, None),
    ("ID card still checks in", appt(Screen.CARD), FlowCardRead(ADULT), Screen.ISSUING, CheckIn(ADULT)),
]

IGNORED: list[tuple[str, Flow, Event]] = [
    ("no card retry on the appointment refusal", SERIAL_APPT, UseCard()),
    ("card on welcome", W, FlowCardRead(BY_SERIAL)),
    ("card on item", at(Screen.ITEM), FlowCardRead(BY_SERIAL)),
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


def test_serial_only_citizen_has_no_identity_age_or_validity() -> None:
    assert citizen_from_serial(CardRead(uid_hex=UID, atr_hex="")) == Citizen(
        "", "", "****E5F6", None, False, UID
    )
    assert BY_SERIAL.serial_only and not ADULT.serial_only
    assert UID not in repr(BY_SERIAL) and "04A1B2C3D4" not in repr(BY_SERIAL)


def test_serial_never_gets_the_age_based_priority_lane() -> None:
    # Every known age qualifies here; an unknown one still does not.
    config = replace(CONFIG, priority_age=0)
    issuing, effect = step(at(Screen.CARD), FlowCardRead(BY_SERIAL), T0, config)
    assert effect == IssueTicket("GA01", BY_SERIAL, False) and not issuing.priority
    assert step(at(Screen.CARD), FlowCardRead(ADULT), T0, config)[1] == IssueTicket("GA01", ADULT, True)


def test_appointment_refusal_is_plain_chinese_and_forgets_the_card() -> None:
    refused, effect = step(appt(Screen.CARD), FlowCardRead(BY_SERIAL), T0, CONFIG)
    assert effect is None and refused.failure is Failure.APPT_BY_SERIAL
    assert "无法查询预约" in refused.message and "直接取号" in refused.message
    assert refused.citizen is None
    normal, _ = step(refused, TakeTicket(), T0 + 1, CONFIG)
    assert normal == Flow(screen=Screen.DEPARTMENT, since=T0 + 1)  # a fresh normal path
    gone, _ = step(refused, Tick(), T0 + CONFIG.failure_screen_s, CONFIG)
    assert gone.screen is Screen.WELCOME


def test_unreadable_card_keeps_the_item_and_offers_a_retry() -> None:
    failed, _ = step(at(Screen.CARD), CardFailed(read_failure_hint(NoCardError("left"))), T0, CONFIG)
    assert failed.failure is Failure.CARD_UNREADABLE and failed.item_code == "GA01"
    assert failed.message.startswith("卡片移开过快。身份证读取失败")
    assert step(failed, UseCard(), T0 + 1, CONFIG)[0].screen is Screen.CARD


def test_card_lane_helpers() -> None:
    assert mask_card_serial("04a1b2c3d4e5f6") == "****E5F6"
    assert read_failure_hint(CardCommandError("GET UID failed", 0x6A81)) == "未能读取卡片"
    assert read_failure_hint(NoCardError("gone")) == "卡片移开过快"


def test_settings_choose_the_card_lane(tmp_path: Path) -> None:
    sam = get_kiosk_settings(device_key="k")
    assert sam.card_lane == "sam" and sam.card_serial_reader == ""
    # A PC/SC reader is used only without a SAM reader.
    assert get_kiosk_settings(device_key="k", card_serial_reader="OMNIKEY").card_lane == "sam"
    config = tmp_path / "kiosk.toml"
    config.write_text('device_key = "k"\nidcard_url = ""\ncard_serial_reader = "sim"\n', encoding="utf-8")
    sim = get_kiosk_settings(config)
    assert sim.card_lane == "serial" and wanted_reader(sim) == VPCD_READER
    named = get_kiosk_settings(device_key="k", idcard_url="", card_serial_reader="ACR1252")
    assert named.card_lane == "serial" and wanted_reader(named) == "ACR1252"
    assert get_kiosk_settings(device_key="k", idcard_url="").card_lane == ""
