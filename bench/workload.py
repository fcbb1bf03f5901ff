"""Rating events as counter agents send them, and the rows the server writes for them."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from common.ids import new_id
from server.db import make_engine
from server.repo import registry

# Roughly what halls report: most citizens are very satisfied, a few percent do not rate.
LEVELS: list[int | None] = [1, 2, 3, 4, 5, None]
LEVEL_WEIGHTS = [70, 18, 6, 2, 1, 3]

EDGE_COLUMNS = [
    "id",
    "kind",
    "device_id",
    "window_number",
    "device_time",
    "received_at",
    "outcome",
    "reason",
    "payload",
]
RATING_COLUMNS = [
    "event_id",
    "service_id",
    "window_id",
    "department_id",
    "officer_id",
    "item_id",
    "level",
    "ticket_no",
    "case_no",
    "channel",
    "reaction_ms",
    "rated_at",
    "excluded",
]


@dataclass(frozen=True)
class WindowTarget:
    """One demo window as an agent knows it (numbers and codes) and as the server stores it (ids)."""

    device_id: str
    number: int
    window_id: int
    department_id: int
    staff_no: str
    officer_id: int
    item_code: str
    item_id: int


def window_targets(database_url: str, numbers: range) -> list[WindowTarget]:
    """The windows ``numbers`` of a prepared hall, each with its A-post officer and first item."""
    engine = make_engine(database_url)
    targets = []
    try:
        with Session(engine) as session:
            for n in numbers:
                window = registry.window_by_number(session, n)
                if window is None or window.id is None:
                    raise LookupError(f"window {n} is missing from the prepared hall")
                posts = registry.posts_for_window(session, window.id)
                officer = next(o for p, o in posts if p.role == "A")
                item = registry.items_for_window(session, window.id)[0]
                if officer.id is None or item.id is None:
                    raise LookupError(f"window {n} has no officer or item")
                targets.append(
                    WindowTarget(
                        f"agent-w{n}",
                        n,
                        window.id,
                        window.department_id,
                        officer.staff_no,
                        officer.id,
                        item.code,
                        item.id,
                    )
                )
    finally:
        engine.dispose()
    return targets


def rating_events(target: WindowTarget, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """``count`` rating events of fresh services at one window, in wire form."""
    now = datetime.now(UTC).isoformat()
    levels = rng.choices(LEVELS, LEVEL_WEIGHTS, k=count)
    return [
        {
            "id": str(new_id()),
            "kind": "rating",
            "device_id": target.device_id,
            "window": target.number,
            "device_time": now,
            "payload": {
                "service_id": str(new_id()),
                "level": level,
                "officer_staff_no": target.staff_no,
                "ticket_no": f"A{rng.randrange(1, 999):03d}",
                "item_code": target.item_code,
                "reaction_ms": rng.randrange(800, 9000),
            },
        }
        for level in levels
    ]


def batch_body(events: list[dict[str, Any]]) -> bytes:
    """A POST /api/v1/events body, encoded."""
    return json.dumps({"sent_at": datetime.now(UTC).isoformat(), "events": events}).encode()


def server_rows(
    target: WindowTarget, events: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``edge_event`` and ``rating`` rows the server writes for accepted rating events."""
    received = datetime.now(UTC)
    edge, ratings = [], []
    for ev in events:
        p = ev["payload"]
        moment = datetime.fromisoformat(ev["device_time"])
        edge.append(
            {
                "id": ev["id"],
                "kind": "rating",
                "device_id": target.device_id,
                "window_number": target.number,
                "device_time": moment,
                "received_at": received,
                "outcome": "accepted",
                "reason": None,
                "payload": p,
            }
        )
        ratings.append(
            {
                "event_id": ev["id"],
                "service_id": p["service_id"],
                "window_id": target.window_id,
                "department_id": target.department_id,
                "officer_id": target.officer_id,
                "item_id": target.item_id,
                "level": p["level"],
                "ticket_no": p["ticket_no"],
                "case_no": None,
                "channel": "keypad",
                "reaction_ms": p["reaction_ms"],
                "rated_at": moment,
                "excluded": False,
            }
        )
    return edge, ratings
