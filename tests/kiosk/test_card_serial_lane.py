"""The kiosk's card serial lane end to end: real pcscd + vpcd, a virtual card, a real server and kiosk.

Skipped (with the reason printed) only where pcscd and vsmartcard-vpcd cannot be installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.devices.pcsc import VirtualCard
from tests.devices.pcscd_harness import (
    PcscdEnv,
    pcscd_fixture,  # noqa: F401 - registers the "pcscd" fixture
    virtual_card_fixture,  # noqa: F401 - registers the "virtual_card" fixture
    wait_for_card,
)
from tests.kiosk.harness import KioskRig, eventually, prepared_rig
from tests.kiosk.test_device_states import _kiosk_states
from tests.server.conftest import SUPERVISOR_PASSWORD

pytestmark = pytest.mark.e2e

UID = "04A1B2C3D4E5F6"  # the harness's virtual card
# The serial in every spelling that could leak into a file (the masked ****E5F6 is allowed).
NEEDLES = [s.encode() for s in (UID, UID.lower(), UID[:-4], UID[:-4].lower(), "04 A1 B2 C3 D4")]
NEEDLES.append(bytes.fromhex(UID))
TO_CARD = ({"type": "start"}, {"type": "department", "code": "GA"}, {"type": "item", "code": "GA01"})


@pytest.fixture
def lane_rig(tmp_path: Path, pcscd: PcscdEnv, monkeypatch: pytest.MonkeyPatch) -> Iterator[KioskRig]:
    """A server and a kiosk logging at DEBUG, the kiosk reading cards on the vpcd reader only."""
    monkeypatch.setenv("HALL_LOG_LEVEL", "DEBUG")
    rig = prepared_rig(tmp_path)
    try:
        rig.start_server()
        yield rig
    finally:
        rig.stop()
        wait_for_card(pcscd.reader_name, present=False)


def _event(rig: KioskRig, *events: dict[str, str]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for event in events:
        r = httpx.post(f"{rig.kiosk_url}/api/event", json=event, timeout=5)
        r.raise_for_status()
        state = r.json()
    return state


def _state(rig: KioskRig) -> dict[str, Any]:
    state: dict[str, Any] = httpx.get(f"{rig.kiosk_url}/api/state", timeout=5).json()
    return state


def _screen(rig: KioskRig, screen: str) -> dict[str, Any]:
    state: dict[str, Any] = eventually(lambda: (s := _state(rig))["screen"] == screen and s, 20)
    return state


def _tap(rig: KioskRig, card: VirtualCard) -> None:
    """Put the card on the reader until the kiosk has read it, then take it off again."""
    card.insert()
    eventually(lambda: rig.health()["card_present"] is True, 20)
    card.remove()
    eventually(lambda: rig.health()["card_present"] is False, 20)  # the kiosk saw the removal


def _leaks(tmp: Path) -> list[str]:
    return [
        f"{path}: {needle!r}"
        for path in tmp.rglob("*")
        if path.is_file()
        for needle in NEEDLES
        if needle in path.read_bytes()
    ]


def test_card_serial_lane_issues_reissues_and_keeps_the_serial_secret(
    lane_rig: KioskRig, pcscd: PcscdEnv, virtual_card: VirtualCard, tmp_path: Path
) -> None:
    rig = lane_rig
    rig.start_kiosk(idcard_url="", card_serial_reader=pcscd.reader_name)
    eventually(lambda: rig.health()["idcard"] == "ok" and rig.health()["card_lane"] == "serial", 20)
    eventually(lambda: _kiosk_states(rig) == {"printer": "ok", "card_serial": "ok"}, 20)
    assert _state(rig)["card_lane"] == "serial"

    # A card on the reader while the kiosk is not waiting for one is ignored.
    _tap(rig, virtual_card)
    assert _state(rig)["screen"] == "welcome"

    assert _event(rig, *TO_CARD, {"type": "card"})["screen"] == "card"
    _tap(rig, virtual_card)
    first = _screen(rig, "ticket")["ticket"]
    assert first["citizen_masked"] == "****E5F6" and first["priority"] is False and not first["reissued"]
    printed = eventually(lambda: rig.printed(), 20)
    assert "身份证：****E5F6" in printed[0] and first["ticket_no"] in printed[0]

    # The same card for the same item while the ticket waits: the same ticket again.
    _event(rig, {"type": "home"}, *TO_CARD, {"type": "card"})
    _tap(rig, virtual_card)
    again = _screen(rig, "ticket")["ticket"]
    assert again["ticket_no"] == first["ticket_no"] and again["reissued"] is True

    # 预约取号 cannot look a booking up by a serial: a clear message and the normal ticket path.
    assert _event(rig, {"type": "home"}, {"type": "card"})["appointment"] is True
    _tap(rig, virtual_card)
    refused = _screen(rig, "failure")
    assert refused["failure"] == "appointment_card_serial" and refused["offer_ticket"] is True
    assert "无法查询预约" in refused["message"]
    assert _event(rig, {"type": "take"})["screen"] == "department"

    # A card that refuses GET UID: the card-unreadable screen, with a retry.
    _event(rig, {"type": "home"}, *TO_CARD, {"type": "card"})
    virtual_card.fault_sw = 0x6A81
    virtual_card.insert()
    unreadable = _screen(rig, "failure")
    assert unreadable["failure"] == "card_unreadable" and unreadable["message"].startswith("未能读取卡片")
    virtual_card.remove()
    virtual_card.fault_sw = None
    assert _event(rig, {"type": "card"})["screen"] == "card"
    _tap(rig, virtual_card)
    assert _screen(rig, "ticket")["ticket"]["ticket_no"] == first["ticket_no"]

    rig.stop()
    assert any(p.suffix == ".log" and p.stat().st_size > 0 for p in tmp_path.rglob("*")), "logs were searched"
    assert (tmp_path / "hall.db").stat().st_size > 0
    assert _leaks(tmp_path) == []


def test_simulated_card_serial_reader(lane_rig: KioskRig, pcscd: PcscdEnv) -> None:
    rig = lane_rig
    rig.start_kiosk(idcard_url="", card_serial_reader="sim", card_serial_sim_port=str(pcscd.port))
    eventually(lambda: rig.health()["idcard"] == "ok", 20)
    _event(rig, *TO_CARD, {"type": "card"})
    assert rig.sim("POST", "/sim/serial-card/place", uid="0411223344556677")["placed"] == "****6677"
    assert _screen(rig, "ticket")["ticket"]["citizen_masked"] == "****6677"
    rig.sim("POST", "/sim/serial-card/remove")
    eventually(lambda: rig.health()["card_present"] is False, 20)


def test_missing_reader_is_reported_unavailable_with_its_reason(rig: KioskRig) -> None:
    # Needs no pcscd: without one the reason says so, with one it names the missing reader.
    rig.start_kiosk(idcard_url="", card_serial_reader="No Such Reader 99")
    eventually(lambda: _kiosk_states(rig).get("card_serial") == "unavailable", 20)
    token = httpx.post(
        f"{rig.server_url}/api/v1/auth/token",
        data={"username": "supervisor", "password": SUPERVISOR_PASSWORD},
    ).json()["access_token"]
    devices = httpx.get(f"{rig.server_url}/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    kiosk = next(d for d in devices.json()["devices"] if d["device_id"] == "kiosk-1")
    state = next(s for s in kiosk["states"] if s["device"] == "card_serial")
    assert state["kind"] == "pcsc"
    assert "No Such Reader 99" in state["reason"] or "pcscd" in state["reason"]
    assert rig.health()["idcard"] == "unavailable"
