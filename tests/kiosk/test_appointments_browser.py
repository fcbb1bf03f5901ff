"""预约取号 end to end: a booked identity checks in at the kiosk and gets a ticket printed as 预约."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.kiosk.harness import KioskRig
from tests.kiosk.test_browser import ADULT, ADULT_ID, ELDER, open_kiosk, shot, ticket_on_screen
from tests.server.conftest import SUPERVISOR_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.timeout(120)]

TZ = ZoneInfo("Asia/Shanghai")


def book_now(rig: KioskRig, id_number: str) -> dict[str, Any]:
    """Open a GA02 slot starting in a few minutes (inside the check-in grace) and book it."""
    now = dt.datetime.now(TZ)
    if now.hour == 23 and now.minute >= 40:
        pytest.skip("the slot would start tomorrow")
    start = (now + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    with httpx.Client(base_url=rig.server_url, timeout=10) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": SUPERVISOR_PASSWORD}
        ).json()["access_token"]
        slot = {
            "item_code": "GA02",
            "date": start.date().isoformat(),
            "start_time": f"{start:%H:%M}",
            "end_time": f"{start + dt.timedelta(minutes=20):%H:%M}",
            "capacity": 5,
        }
        r = client.post("/api/v1/appointments/slots", json=slot, headers={"Authorization": f"Bearer {token}"})
        r.raise_for_status()
        body = {"item_code": "GA02", "slot_id": r.json()["id"], "id_number": id_number, "name": "张伟"}
        booked = client.post("/api/v1/appointments", json=body)
        booked.raise_for_status()
        result: dict[str, Any] = booked.json()
        return result


def test_booked_citizen_checks_in_and_gets_a_ticket_marked_appointment(rig: KioskRig, page: Any) -> None:
    booking = book_now(rig, ADULT_ID)
    rig.start_kiosk()
    open_kiosk(page, rig)
    page.click("#btn-appointment")
    page.wait_for_selector("#screen-card:visible")
    assert "预约签到" in page.inner_text("#card-title")
    rig.sim("POST", "/sim/card/place", index=ADULT)
    shown = ticket_on_screen(page)
    assert shown["item"] == "户口迁移" and shown["number"].startswith("B")
    badge = page.inner_text("#ticket-appointment")
    assert badge == f"预约 {booking['start_time']}-{booking['end_time']}"
    assert page.locator("#ticket-priority").is_hidden()
    assert ADULT_ID not in page.content() and "张伟" not in page.content()
    shot(page, "appointment-ticket")
    page.wait_for_selector("#ticket-print:has-text('请取走号票')")
    (printed,) = rig.printed()
    lines = printed.splitlines()
    assert shown["number"] in lines and "【预约】户口迁移" in lines and "【优先】" not in lines
    assert "身份证：340***********001X" in lines and ADULT_ID not in printed
    rig.sim("POST", "/sim/card/remove")
    page.click("#btn-done")
    page.wait_for_selector("#screen-welcome:visible")


def test_no_booking_shows_a_plain_failure(rig: KioskRig, page: Any) -> None:
    rig.start_kiosk()
    open_kiosk(page, rig)
    page.click("#btn-appointment")
    page.wait_for_selector("#screen-card:visible")
    rig.sim("POST", "/sim/card/place", index=ELDER)
    page.wait_for_selector("#screen-failure:visible")
    assert "没有查到您今天的预约" in page.inner_text("#failure-message")
    assert page.locator("#btn-failure-take").is_hidden()
    shot(page, "appointment-none")
    assert rig.printed() == []
