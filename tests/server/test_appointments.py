"""Appointments through the HTTP API: slots, booking, cancelling, kiosk check-in and the supervisors' list."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.server.conftest import Hall

TZ = ZoneInfo("Asia/Shanghai")
ID_NUMBER, OTHER_ID = "110101199003071234", "34052419800101001X"


def new_slot(hall: Hall, start: dt.datetime, capacity: int = 2, item: str = "GA01") -> dict[str, Any]:
    body = {
        "item_code": item,
        "date": start.date().isoformat(),
        "start_time": f"{start:%H:%M}",
        "end_time": f"{min(start + dt.timedelta(minutes=30), start.replace(hour=23, minute=59)):%H:%M}",
        "capacity": capacity,
    }
    r = hall.client.post("/api/v1/appointments/slots", json=body, headers=hall.user_headers())
    assert r.status_code == 201, r.text
    return r.json()


def tomorrow_at(hour: int) -> dt.datetime:
    return dt.datetime.combine(dt.datetime.now(TZ).date() + dt.timedelta(days=1), dt.time(hour), tzinfo=TZ)


def book(hall: Hall, slot: dict[str, Any], id_number: str, **extra: Any) -> Any:
    body = {"item_code": slot["item_code"], "slot_id": slot["id"], "id_number": id_number, "name": "张三"}
    return hall.client.post("/api/v1/appointments", json={**body, **extra.pop("body", {})}, **extra)


def test_slots_are_set_by_supervisors_and_listed_publicly(hall: Hall) -> None:
    body = {
        "item_code": "GA01",
        "date": "2031-03-04",
        "start_time": "10:00",
        "end_time": "10:30",
        "capacity": 3,
    }
    assert hall.client.post("/api/v1/appointments/slots", json=body).status_code == 401
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert hall.client.post("/api/v1/appointments/slots", json=body, headers=head).status_code == 403
    bad = {**body, "end_time": "09:00"}
    r = hall.client.post("/api/v1/appointments/slots", json=bad, headers=hall.user_headers())
    assert r.status_code == 422
    slot = new_slot(hall, tomorrow_at(10), capacity=3)
    assert slot["free"] == 3 and slot["item_name"] == "居民身份证申领"
    listed = hall.client.get("/api/v1/appointments/slots", params={"item_code": "GA01", "days": 2}).json()
    assert [s["id"] for s in listed["slots"]] == [slot["id"]]
    assert hall.client.get("/api/v1/appointments/slots", params={"item_code": "NOPE"}).status_code == 404


def test_booking_cancel_and_clear_errors(hall: Hall) -> None:
    slot = new_slot(hall, tomorrow_at(9), capacity=1)
    r = book(hall, slot, ID_NUMBER, body={"phone": "13812345678"})
    assert r.status_code == 201, r.text
    booked = r.json()
    assert booked["citizen_masked"] == "110***********1234" and booked["name_masked"] == "张*"
    assert booked["phone_masked"] == "138****5678" and len(booked["code"]) == 8
    assert ID_NUMBER not in r.text and "张三" not in r.text
    full = book(hall, slot, OTHER_ID, headers=hall.device_headers("kiosk-1"))
    assert full.status_code == 409 and "约满" in full.json()["detail"]
    assert book(hall, slot, "12345").status_code == 422
    assert book(hall, {**slot, "item_code": "RS01"}, OTHER_ID).status_code == 404

    cancel = f"/api/v1/appointments/{booked['code']}/cancel"
    wrong = hall.client.post(cancel, json={"id_number": OTHER_ID})
    assert wrong.status_code == 404 and "核对预约码" in wrong.json()["detail"]
    done = hall.client.post(cancel, json={"id_number": ID_NUMBER})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert hall.client.post(cancel, json={"id_number": ID_NUMBER}).status_code == 409
    again = book(hall, slot, OTHER_ID, headers=hall.device_headers("kiosk-1"))
    assert again.status_code == 201  # the cancelled place is free again


def test_kiosk_check_in_issues_an_appointment_ticket(hall: Hall) -> None:
    now = dt.datetime.now(TZ)
    if now.hour == 23 and now.minute >= 40:
        pytest.skip("the slot would start tomorrow")
    start = (now + dt.timedelta(minutes=10)).replace(second=0, microsecond=0)
    slot = new_slot(hall, start)
    assert book(hall, slot, ID_NUMBER).status_code == 201
    url = "/api/v1/appointments/check-in"
    agent = hall.client.post(url, json={"id_number": ID_NUMBER}, headers=hall.device_headers("agent-w1"))
    assert agent.status_code == 403
    r = hall.client.post(url, json={"id_number": ID_NUMBER}, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["ticket_no"].startswith("A") and ticket["priority"] is True
    assert ticket["appointment"]["slot"] == f"{slot['start_time']}-{slot['end_time']}"
    assert ticket["citizen_masked"] == "110***********1234" and ticket["reissued"] is False
    r = hall.client.post(url, json={"id_number": ID_NUMBER}, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == 200 and r.json()["ticket_no"] == ticket["ticket_no"] and r.json()["reissued"]
    none = hall.client.post(url, json={"id_number": OTHER_ID}, headers=hall.device_headers("kiosk-1"))
    assert none.status_code == 404 and "没有查到您今天的预约" in none.json()["detail"]

    listed = hall.client.get(
        "/api/v1/appointments", params={"status": "checked_in"}, headers=hall.user_headers()
    ).json()
    (row,) = listed["appointments"]
    assert row["ticket_no"] == ticket["ticket_no"] and row["status_text"] == "已签到取号"


def test_too_early_check_in_says_when_to_come_back(hall: Hall) -> None:
    now = dt.datetime.now(TZ)
    if now.hour >= 22:
        pytest.skip("the slot would start tomorrow")
    start = (now + dt.timedelta(minutes=60)).replace(second=0, microsecond=0)
    book(hall, new_slot(hall, start), ID_NUMBER)
    r = hall.client.post(
        "/api/v1/appointments/check-in", json={"id_number": ID_NUMBER}, headers=hall.device_headers("kiosk-1")
    )
    assert r.status_code == 409
    detail = r.json()["detail"]
    back = (start - dt.timedelta(minutes=15)).strftime("%H:%M")
    assert detail["reason"] == "too_early" and detail["come_back_at"] == back and back in detail["message"]


def test_supervisor_list_is_scoped_and_validated(hall: Hall) -> None:
    slot = new_slot(hall, tomorrow_at(15), item="RS01")
    book(hall, slot, ID_NUMBER)
    day = slot["date"]
    everyone = hall.client.get("/api/v1/appointments", params={"date": day}, headers=hall.user_headers())
    assert [a["item_code"] for a in everyone.json()["appointments"]] == ["RS01"]
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert (
        hall.client.get("/api/v1/appointments", params={"date": day}, headers=head).json()["appointments"]
        == []
    )
    assert hall.client.get("/api/v1/appointments", params={"date": day}).status_code == 401
    bad = hall.client.get("/api/v1/appointments", params={"status": "x"}, headers=hall.user_headers())
    assert bad.status_code == 422
