"""Every route x every principal: only what the table allows gets past authentication and roles."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlmodel import select

from server.db import session_scope
from server.models import Officer, User
from tests.security.principals import PASSWORD, PRINCIPALS, USERS, add_principals
from tests.server.conftest import Hall

ANYONE = frozenset(PRINCIPALS)
READERS = frozenset({"admin", "supervisor", "department_head"})
HALL_WIDE = frozenset({"admin", "supervisor"})
AGENT = frozenset({"agent"})
KIOSK = frozenset({"kiosk"})
DEVICES = AGENT | KIOSK

# Who may use each operation. Public by design: health, log-in, the item list for the kiosk screen,
# the hall display and its sounds, the citizen's ticket page (an unguessable token) and the API docs.
ALLOWED: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): ANYONE,
    ("POST", "/api/v1/auth/token"): ANYONE,
    ("GET", "/api/v1/items"): ANYONE,
    ("GET", "/t/{token}"): ANYONE,
    ("GET", "/display"): ANYONE,
    ("GET", "/display/static/{name}"): ANYONE,
    ("GET", "/api/v1/display/snapshot"): ANYONE,
    ("GET", "/api/v1/display/events"): ANYONE,
    ("GET", "/api/v1/display/audio/{call_id}.wav"): ANYONE,
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/docs"): ANYONE,
    ("GET", "/docs/oauth2-redirect"): ANYONE,
    ("GET", "/redoc"): ANYONE,
    # Edge devices.
    ("POST", "/api/v1/events"): DEVICES,
    ("GET", "/api/v1/edge/roster"): AGENT,
    ("GET", "/api/v1/edge/commands"): DEVICES,
    ("POST", "/api/v1/tickets"): KIOSK,
    ("POST", "/api/v1/tickets/{ticket_no}/{outcome}"): KIOSK,
    ("POST", "/api/v1/queue/call-next"): AGENT,
    ("POST", "/api/v1/queue/tickets/{ticket_no}/{action}"): AGENT,
    ("POST", "/api/v1/cases"): AGENT,
    ("POST", "/api/v1/cases/{case_no}/supplement"): AGENT | HALL_WIDE,
    ("POST", "/api/v1/cases/{case_no}/supplied"): AGENT | HALL_WIDE,
    ("POST", "/api/v1/cases/{case_no}/complete"): AGENT | HALL_WIDE,
    ("POST", "/api/v1/cases/{case_no}/refuse"): AGENT | HALL_WIDE,
    ("GET", "/api/v1/cases/{case_no}"): AGENT | READERS,
    # Supervision.
    ("GET", "/api/v1/cases"): READERS,
    ("GET", "/api/v1/cases/warnings"): READERS,
    ("POST", "/api/v1/enrollments"): HALL_WIDE,
    ("GET", "/api/v1/enrollments"): READERS,
    ("GET", "/api/v1/devices"): READERS,
    ("GET", "/api/v1/devices/{device_id}/history"): READERS,
    ("GET", "/api/v1/ratings/summary"): READERS,
    ("GET", "/api/v1/ratings/analytics"): READERS,
    ("GET", "/api/v1/ratings/ranking"): READERS,
    ("GET", "/api/v1/ratings/misuse"): READERS,
    ("POST", "/api/v1/ratings/{rating_id}/exclude"): HALL_WIDE,
    ("GET", "/api/v1/assessment"): READERS,
    ("GET", "/api/v1/followups"): READERS | {"officer"},
    ("GET", "/api/v1/followups/{followup_id}"): READERS | {"officer"},
    ("POST", "/api/v1/followups/{followup_id}/verify"): READERS,
    ("POST", "/api/v1/followups/{followup_id}/rectify"): READERS,
    ("POST", "/api/v1/followups/{followup_id}/close"): READERS,
    ("POST", "/api/v1/followups/{followup_id}/note"): READERS,
    ("POST", "/api/v1/followups/{followup_id}/appeal"): READERS,
    ("POST", "/api/v1/followups/{followup_id}/appeal/decide"): READERS,
    ("POST", "/api/v1/complaints"): READERS,
    ("GET", "/api/v1/complaints"): READERS,
    ("POST", "/api/v1/complaints/{complaint_id}/answer"): READERS,
    ("GET", "/api/v1/queue/stats"): READERS,
    ("GET", "/api/v1/attendance/punches"): READERS,
    ("GET", "/api/v1/attendance/rules"): READERS,
    ("PUT", "/api/v1/attendance/rules"): HALL_WIDE,
    ("PUT", "/api/v1/attendance/schedules/{staff_no}"): HALL_WIDE,
    ("GET", "/api/v1/attendance/daily"): READERS,
    ("GET", "/api/v1/attendance/weekly"): READERS,
    ("GET", "/api/v1/attendance/monthly"): READERS,
    ("GET", "/api/v1/attendance/unstaffed"): READERS,
    ("GET", "/api/v1/attendance/leave"): READERS,
    ("POST", "/api/v1/attendance/leave"): HALL_WIDE,
    ("POST", "/api/v1/attendance/leave/{leave_id}/{decision}"): HALL_WIDE,
    ("GET", "/api/v1/attendance/makeup"): READERS,
    ("POST", "/api/v1/attendance/makeup"): READERS | {"officer"},
    ("POST", "/api/v1/attendance/makeup/{makeup_id}/{decision}"): HALL_WIDE,
    ("GET", "/api/v1/audit"): HALL_WIDE,
    ("POST", "/api/v1/appointments/slots"): HALL_WIDE,
    ("GET", "/api/v1/appointments/slots"): ANYONE,
    ("POST", "/api/v1/appointments"): ANYONE,
    ("POST", "/api/v1/appointments/{code}/cancel"): ANYONE,
    ("POST", "/api/v1/appointments/check-in"): KIOSK,
    ("GET", "/api/v1/appointments"): READERS,
    ("GET", "/api/v1/badges"): READERS,
    ("POST", "/api/v1/badges"): HALL_WIDE,
    ("POST", "/api/v1/badges/{uid}/revoke"): HALL_WIDE,
    ("GET", "/api/v1/calendar/{year}"): HALL_WIDE,
    ("PUT", "/api/v1/calendar/{year}"): frozenset({"admin"}),
}
# Endless streams: classified above, but not called here.
STREAMS = {("GET", "/api/v1/display/events")}
DOCS = {("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc")}
ID_NUMBER = "11010519491231002X"


def _operations(hall: Hall) -> set[tuple[str, str]]:
    schema = hall.client.get("/openapi.json").json()
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops} | DOCS


def _fixtures(hall: Hall, secrets: dict[str, str]) -> dict[str, Any]:
    """Real objects for the path parameters, so that checks past the first one are reached."""
    kiosk = {"Authorization": f"Bearer {secrets['kiosk']}"}
    agent = {"Authorization": f"Bearer {secrets['agent']}"}
    ticket = hall.client.post(
        "/api/v1/tickets", json={"item_code": "GA01", "client_ref": str(uuid.uuid4())}, headers=kiosk
    ).json()
    case = hall.client.post("/api/v1/cases", json=_case_body(), headers=agent).json()
    sup = hall.user_headers()
    complaint = hall.client.post(
        "/api/v1/complaints", json={"channel": "onsite", "content": "排队久", "window": 1}, headers=sup
    ).json()
    return {
        "token": ticket["status_url"].rsplit("/", 1)[-1] if ticket.get("status_url") else "x",
        "ticket_no": ticket["ticket_no"],
        "case_no": case["case_no"],
        "complaint_id": complaint["id"],
        "outcome": "printed",
        "action": "recall",
        "decision": "approve",
        "name": "display.js",
        "call_id": 1,
        "followup_id": 1,
        "rating_id": 1,
        "leave_id": 1,
        "makeup_id": 1,
        "device_id": "agent-w1",
        "staff_no": "GA001",
        "uid": "04A1B2C3",
        "code": "NOSUCHCD",
        "year": 2027,
    }


def _case_body() -> dict[str, Any]:
    return {
        "client_ref": str(uuid.uuid4()),
        "item_code": "GA01",
        "officer_staff_no": "GA001",
        "applicant": {"id_number": ID_NUMBER, "name": "王秀英"},
    }


BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/api/v1/tickets"): lambda: {"item_code": "GA01", "client_ref": str(uuid.uuid4())},
    ("POST", "/api/v1/cases"): _case_body,
    ("POST", "/api/v1/cases/{case_no}/supplement"): lambda: {
        "missing": ["户口簿"],
        "officer_staff_no": "GA001",
    },
    ("POST", "/api/v1/complaints"): lambda: {"channel": "onsite", "content": "态度差", "window": 1},
    ("POST", "/api/v1/appointments/check-in"): lambda: {"id_number": "11010519491231002X"},
    ("POST", "/api/v1/complaints/{complaint_id}/answer"): lambda: {"answer": "已整改"},
}


def _login(hall: Hall, secrets: dict[str, str]) -> None:
    for name in USERS:
        r = hall.client.post("/api/v1/auth/token", data={"username": f"m-{name}", "password": PASSWORD})
        secrets[name] = r.json()["access_token"]
    # An officer account sees its own follow-ups: link it to a real officer.
    with session_scope(hall.engine) as session:
        user = session.exec(select(User).where(User.username == "m-officer")).one()
        user.officer_id = session.exec(select(Officer).where(Officer.staff_no == "GA001")).one().id
        session.add(user)


def test_every_operation_is_in_the_table(hall: Hall) -> None:
    operations = _operations(hall)
    assert operations - ALLOWED.keys() == set(), "classify new routes in ALLOWED"
    assert ALLOWED.keys() - operations == set(), "routes in ALLOWED that no longer exist"


def test_only_the_allowed_get_through(hall: Hall) -> None:
    secrets = add_principals(hall.engine, hall.keys)
    _login(hall, secrets)
    values = _fixtures(hall, secrets)
    wrong: list[str] = []
    for method, path in sorted(_operations(hall) - STREAMS):
        url = re.sub(r"\{([^}]+)\}", lambda m: str(values[m.group(1)]), path)
        for who in PRINCIPALS:
            headers = {} if who == "anonymous" else {"Authorization": f"Bearer {secrets[who]}"}
            body = BODIES.get((method, path), lambda: {})() if method in ("POST", "PUT") else None
            if (method, path) == ("POST", "/api/v1/auth/token"):
                r = hall.client.post(url, data={"username": "nobody", "password": "x"}, headers=headers)
            else:
                r = hall.client.request(method, url, json=body, headers=headers)
            allowed = who in ALLOWED[(method, path)]
            denied = r.status_code in (401, 403)
            if allowed == denied and (method, path) != ("POST", "/api/v1/auth/token"):
                wrong.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
    assert wrong == []


def test_bad_credentials_are_refused(hall: Hall) -> None:
    for value in ("", "Bearer", "Bearer nonsense", "Bearer agent-w1:wrong", "Basic abc", "Bearer a:b:c"):
        r = hall.client.get("/api/v1/edge/roster", headers={"Authorization": value})
        assert r.status_code == 401, value
        r = hall.client.get("/api/v1/cases", headers={"Authorization": value})
        assert r.status_code == 401, value
