"""An ID card's physical serial (card serial lane) is kept nowhere in clear in the database."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tests.server.conftest import Hall

SERIAL = "04A1B2C3D4E5F6"
# The serial in every spelling that could leak; its last 4 digits are the allowed masked form.
NEEDLES = (SERIAL, SERIAL[:-4], " ".join(SERIAL[i : i + 2] for i in range(0, len(SERIAL), 2)))
RAW = bytes.fromhex(SERIAL)


def _columns_with_needles(engine: Engine) -> tuple[list[str], int]:
    """Every column of every table, read as text and searched for the needles (any case)."""
    inspector = sa.inspect(engine)
    columns = [(t, c["name"]) for t in inspector.get_table_names() for c in inspector.get_columns(t)]
    found: list[str] = []
    with engine.connect() as conn:
        for table, column in columns:
            text = sa.func.upper(sa.cast(sa.column(column), sa.Text))
            for needle in NEEDLES:
                query = (
                    sa.select(sa.func.count()).select_from(sa.table(table)).where(text.like(f"%{needle}%"))
                )
                if conn.execute(query).scalar():
                    found.append(f"{table}.{column}: {needle}")
    return found, len(columns)


def _files_with_needles(database_url: str) -> list[str]:
    """The SQLite file and its WAL searched byte for byte (free pages and old rows included)."""
    path = Path(database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    spellings = [RAW] + [n.encode() for n in NEEDLES] + [n.lower().encode() for n in NEEDLES]
    found = []
    for file in path.parent.glob(path.name + "*"):
        data = file.read_bytes()
        found += [f"{file.name}: {s!r}" for s in spellings if s in data]
    return found


def test_card_serial_is_stored_nowhere_in_clear(hall: Hall) -> None:
    kiosk = hall.device_headers("kiosk-1")
    tickets = []
    for item in ("GA01", "GA01", "GA02"):  # the second is the same ticket again
        body = {"item_code": item, "client_ref": str(uuid.uuid4()), "card_serial": SERIAL.lower()}
        r = hall.client.post("/api/v1/tickets", json=body, headers=kiosk)
        assert r.status_code in (200, 201), r.text
        assert SERIAL not in r.text.upper() and r.json()["citizen_masked"] == "****E5F6"
        tickets.append(r.json())
    assert tickets[0]["ticket_no"] == tickets[1]["ticket_no"]
    # The ticket goes its way: printed, called and served at a window.
    r = hall.client.post(f"/api/v1/tickets/{tickets[0]['ticket_no']}/printed", headers=kiosk)
    assert r.status_code == 200, r.text
    r = hall.client.post("/api/v1/queue/call-next", headers=hall.device_headers("agent-w1"))
    assert r.status_code == 200 and SERIAL not in r.text.upper()
    page = hall.client.get("/t/" + tickets[0]["token"]).text
    assert SERIAL not in page.upper() and "E5F6" not in page

    found, searched = _columns_with_needles(hall.engine)
    assert searched > 50  # the scan looked at the real schema
    assert found == []
    if hall.database_url.startswith("sqlite"):
        assert _files_with_needles(hall.database_url) == []
