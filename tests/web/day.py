"""A simulated day of the demo hall, posted through the edge and kiosk APIs as the devices would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from server.services.workdays import CalendarError, WorkCalendar
from tests.server.events_util import batch, event

TZ = ZoneInfo("Asia/Shanghai")
# (window, staff_no, levels) of today's services; None = not rated.
TODAY_RATINGS: list[tuple[int, str, list[int | None]]] = [
    (1, "GA001", [1, 1, 2, 4]),
    (2, "GA002", [1, 2, 3, 1]),
    (3, "RS001", [1, 1, 5, None]),
    (4, "RS002", [2, 2]),
]
STAFFED_TODAY = {1: "GA001", 2: "GA002", 3: "RS001", 4: "RS002"}  # windows 5 and 6 stay empty
APPLICANT_ID = "11010519491231002X"


class Poster(Protocol):
    """httpx.Client or FastAPI's TestClient."""

    def post(self, url: str, **kwargs: Any) -> Any: ...


@dataclass
class Day:
    """What the simulated day put into the hall."""

    past_day: date
    case_no: str


def last_working_day(today: date) -> date:
    """The latest working day before today (weekdays when the year's holidays are not known)."""
    calendar = WorkCalendar()
    day = today - timedelta(days=1)
    while True:
        try:
            if calendar.is_working_day(day):
                return day
        except CalendarError:
            if day.weekday() < 5:
                return day
        day -= timedelta(days=1)


def _send(client: Poster, keys: dict[str, str], device: str, *events: dict[str, Any]) -> None:
    r = client.post(
        "/api/v1/events", json=batch(*events), headers={"Authorization": f"Bearer {keys[device]}"}
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rejected"] == 0, body


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), TZ)


def simulate_day(client: Poster, keys: dict[str, str]) -> Day:
    """Punches (a past working day and today), ratings, a misuse signal, a device fault, tickets, a case."""
    now = datetime.now(TZ)
    past = last_working_day(now.date())
    for window, (a_in, a_out) in {
        1: ((9, 12), (17, 1)),
        2: ((8, 55), (17, 5)),
        3: ((8, 58), (11, 20)),
    }.items():
        agent = f"agent-w{window}"
        _send(
            client,
            keys,
            agent,
            event("punch", agent, {"page": 1, "score": 90}, window, device_time=_at(past, *a_in)),
            event("punch", agent, {"page": 1, "score": 88}, window, device_time=_at(past, *a_out)),
        )
    for window in STAFFED_TODAY:
        agent = f"agent-w{window}"
        clock_in = now - timedelta(minutes=30)
        _send(
            client, keys, agent, event("punch", agent, {"page": 1, "score": 95}, window, device_time=clock_in)
        )
    for window, staff_no, levels in TODAY_RATINGS:
        agent = f"agent-w{window}"
        ratings = [
            event(
                "rating",
                agent,
                {"service_id": str(uuid.uuid4()), "level": level, "officer_staff_no": staff_no},
                window,
                device_time=now - timedelta(minutes=20 - 2 * n),
            )
            for n, level in enumerate(levels)
        ]
        _send(client, keys, agent, *ratings)
    _send(
        client,
        keys,
        "agent-w1",
        event(
            "misuse",
            "agent-w1",
            {"signal": "press_outside_service", "key": "RATE_1", "officer_staff_no": "GA001"},
            1,
        ),
    )
    fault = {"device": "keypad", "device_kind": "keypad", "state": "degraded", "reason": "串口无响应"}
    _send(client, keys, "agent-w2", event("device_status", "agent-w2", fault, 2))
    kiosk = {"Authorization": f"Bearer {keys['kiosk-1']}"}
    for item in ("GA01", "GA01", "GA02", "RS01"):
        body = {"item_code": item, "client_ref": str(uuid.uuid4()), "priority": False, "citizen": None}
        r = client.post("/api/v1/tickets", json=body, headers=kiosk)
        assert r.status_code in (200, 201), r.text
    case = {
        "client_ref": str(uuid.uuid4()),
        "item_code": "GA01",
        "officer_staff_no": "GA001",
        "applicant": {"id_number": APPLICANT_ID, "name": "张三"},
    }
    r = client.post("/api/v1/cases", json=case, headers={"Authorization": f"Bearer {keys['agent-w1']}"})
    assert r.status_code == 201, r.text
    return Day(past_day=past, case_no=r.json()["case_no"])
