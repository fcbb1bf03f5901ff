"""Tickets taken with the ID card's physical serial (the kiosk's card serial lane, no SAM reader)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

from server.models import Ticket
from server.services.citizen_ids import card_serial_hash, citizen_hash
from tests.server.conftest import Hall

SERIAL = "04A1B2C3D4E5F6"
ID_NUMBER = "110101199003071234"


def issue(hall: Hall, item: str = "GA01", expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"item_code": item, "client_ref": str(uuid.uuid4()), **fields}
    r = hall.client.post("/api/v1/tickets", json=body, headers=hall.device_headers("kiosk-1"))
    assert r.status_code == expect, r.text
    data: dict[str, Any] = r.json()
    return data


def test_same_card_same_item_while_waiting_gets_the_same_ticket(hall: Hall) -> None:
    first = issue(hall, card_serial=SERIAL)
    assert first["citizen_masked"] == "****E5F6" and first["reissued"] is False
    again = issue(hall, card_serial=SERIAL.lower(), expect=200)  # the hex case does not matter
    assert again["ticket_no"] == first["ticket_no"] and again["reissued"] is True
    assert issue(hall, "GA02", card_serial=SERIAL)["ticket_no"] == "B001"  # another item: a new ticket
    assert issue(hall, card_serial="04A1B2C3D4E5F7")["ticket_no"] == "A002"  # another card
    with Session(hall.engine) as s:
        stored = list(s.exec(select(Ticket)))
    assert {t.citizen_masked for t in stored} == {"****E5F6", "****E5F7"}
    assert all(SERIAL not in (t.citizen_hash or "").upper() for t in stored)


def test_a_serial_never_matches_an_id_number(hall: Hall) -> None:
    # The hash of a serial lives in its own domain: even the same text as an ID number differs.
    assert card_serial_hash("k", "1101011990") != citizen_hash("k", "1101011990")
    by_id = issue(hall, citizen={"id_number": ID_NUMBER})
    by_card = issue(hall, card_serial="11010119900307")
    assert by_card["ticket_no"] != by_id["ticket_no"] and by_card["reissued"] is False


@pytest.mark.parametrize(
    "serial",
    ["", "04A1B2", "04A1B2C3D4E5F60718293A4B", "04A1B2C3D4E5F", "04A1B2C3D4E5FG", "04 A1 B2 C3", 123],
)
def test_bad_serial_is_refused_with_422(hall: Hall, serial: object) -> None:
    r = hall.client.post(
        "/api/v1/tickets",
        json={"item_code": "GA01", "client_ref": str(uuid.uuid4()), "card_serial": serial},
        headers=hall.device_headers("kiosk-1"),
    )
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"][-1] == "card_serial"


def test_citizen_and_serial_together_are_refused(hall: Hall) -> None:
    body: dict[str, Any] = {"citizen": {"id_number": ID_NUMBER}, "card_serial": SERIAL}
    detail = issue(hall, expect=422, **body)["detail"]
    assert "either citizen or card_serial" in detail[0]["msg"]
