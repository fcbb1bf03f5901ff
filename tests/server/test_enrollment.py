"""Fingerprint enrolment started by a supervisor and reported by the window's agent."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from server.db import session_scope
from server.models.enrollment import EnrollmentRequest
from server.services.enrollment import SENT_EXPIRES_AFTER
from server.timeutil import utcnow
from tests.server.conftest import Hall
from tests.server.events_util import batch, event


def test_request_command_and_result(hall: Hall) -> None:
    sup = hall.user_headers()
    r = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "agent-w5", "staff_no": "SJ002"}, headers=sup
    )
    assert r.status_code == 201 and r.json()["status"] == "pending"
    request_id = r.json()["id"]
    again = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "agent-w5", "staff_no": "SJ004"}, headers=sup
    )
    assert again.status_code == 409
    # Only the agent of that window gets the command.
    assert hall.client.get("/api/v1/edge/commands", headers=hall.device_headers("agent-w6")).json() == {
        "enrollments": []
    }
    (cmd,) = hall.client.get("/api/v1/edge/commands", headers=hall.device_headers("agent-w5")).json()[
        "enrollments"
    ]
    assert (cmd["id"], cmd["staff_no"], cmd["name"], cmd["status"]) == (request_id, "SJ002", "吴军", "sent")
    foreign = hall.client.post(
        "/api/v1/events",
        json=batch(event("enrollment", "agent-w6", {"request_id": request_id, "page": 7}, 6)),
        headers=hall.device_headers("agent-w6"),
    ).json()
    assert foreign["rejected"] == 1
    done = hall.client.post(
        "/api/v1/events",
        json=batch(event("enrollment", "agent-w5", {"request_id": request_id, "page": 7}, 5)),
        headers=hall.device_headers("agent-w5"),
    ).json()
    assert done["accepted"] == 1
    listed = hall.client.get("/api/v1/enrollments", headers=sup).json()["enrollments"]
    assert (listed[0]["status"], listed[0]["page"]) == ("done", 7)
    # The new page now identifies the officer for punches at that window.
    hall.client.post(
        "/api/v1/events",
        json=batch(event("punch", "agent-w5", {"page": 7}, 5)),
        headers=hall.device_headers("agent-w5"),
    )
    punches = hall.client.get("/api/v1/attendance/punches", headers=sup, params={"staff_no": "SJ002"}).json()
    assert [p["window"] for p in punches["punches"]] == [5]


def test_unknown_targets_and_roles(hall: Hall) -> None:
    sup = hall.user_headers()
    r = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "agent-w5", "staff_no": "NOPE"}, headers=sup
    )
    assert r.status_code == 404
    r = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "kiosk-1", "staff_no": "SJ002"}, headers=sup
    )
    assert r.status_code == 404
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    r = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "agent-w1", "staff_no": "GA001"}, headers=head
    )
    assert r.status_code == 403


def test_failed_enrolment_is_recorded(hall: Hall) -> None:
    sup = hall.user_headers()
    request_id = hall.client.post(
        "/api/v1/enrollments", json={"device_id": "agent-w1", "staff_no": "GA004"}, headers=sup
    ).json()["id"]
    payload = {"request_id": request_id, "page": None, "error": "FingerprintTimeoutError: no finger"}
    hall.client.post(
        "/api/v1/events",
        json=batch(event("enrollment", "agent-w1", payload, 1)),
        headers=hall.device_headers("agent-w1"),
    )
    listed = hall.client.get("/api/v1/enrollments", headers=sup).json()["enrollments"]
    assert (listed[0]["status"], listed[0]["message"]) == ("failed", "FingerprintTimeoutError: no finger")


def _age_sent_requests(hall: Hall, minutes: float) -> None:
    """Pretend the open requests were handed out ``minutes`` ago."""
    with session_scope(hall.engine) as s:
        for row in s.exec(select(EnrollmentRequest)).all():
            row.updated_at = utcnow() - timedelta(minutes=minutes)
            s.add(row)


def test_a_request_without_outcome_expires_and_frees_the_reader(hall: Hall) -> None:
    sup, agent = hall.user_headers(), hall.device_headers("agent-w5")
    body = {"device_id": "agent-w5", "staff_no": "SJ002"}
    request_id = hall.client.post("/api/v1/enrollments", json=body, headers=sup).json()["id"]
    (cmd,) = hall.client.get("/api/v1/edge/commands", headers=agent).json()["enrollments"]
    assert cmd["id"] == request_id
    # The agent stops before reporting. A repeat hand-out does not keep the request alive.
    _age_sent_requests(hall, SENT_EXPIRES_AFTER.total_seconds() / 60 - 1)
    assert len(hall.client.get("/api/v1/edge/commands", headers=agent).json()["enrollments"]) == 1
    _age_sent_requests(hall, SENT_EXPIRES_AFTER.total_seconds() / 60 + 1)
    assert hall.client.get("/api/v1/edge/commands", headers=agent).json() == {"enrollments": []}
    listed = hall.client.get("/api/v1/enrollments", headers=sup).json()["enrollments"]
    assert (listed[0]["id"], listed[0]["status"]) == (request_id, "expired")
    assert "未回报" in listed[0]["message"]
    # The reader takes a new enrolment again.
    again = hall.client.post("/api/v1/enrollments", json={**body, "staff_no": "SJ004"}, headers=sup)
    assert again.status_code == 201, again.text
    # The first outcome, arriving late after all, is still recorded.
    late = hall.client.post(
        "/api/v1/events",
        json=batch(event("enrollment", "agent-w5", {"request_id": request_id, "page": 9}, 5)),
        headers=agent,
    ).json()
    assert late["accepted"] == 1, late
    with Session(hall.engine) as s:
        first = s.get(EnrollmentRequest, request_id)
        assert first is not None and (first.status, first.page) == ("done", 9)


def test_a_request_not_yet_handed_out_never_expires(hall: Hall) -> None:
    sup = hall.user_headers()
    body = {"device_id": "agent-w5", "staff_no": "SJ002"}
    request_id = hall.client.post("/api/v1/enrollments", json=body, headers=sup).json()["id"]
    _age_sent_requests(hall, 60)  # waiting for an agent that was off for an hour
    assert hall.client.post("/api/v1/enrollments", json=body, headers=sup).status_code == 409
    (cmd,) = hall.client.get("/api/v1/edge/commands", headers=hall.device_headers("agent-w5")).json()[
        "enrollments"
    ]
    assert (cmd["id"], cmd["status"]) == (request_id, "sent")
