"""Staff badges: the registry, the agents' roster, and punches made with a badge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from common.events import PunchPayload
from server.models import Punch
from server.models.badges import BADGE_PUNCH_PAGE, BadgePunch
from tests.server.conftest import Hall
from tests.server.events_util import batch, event

UID = "04A1B2C3D4E5F6"


def _issue(hall: Hall, uid: str, staff_no: str) -> Any:
    return hall.client.post(
        "/api/v1/badges", json={"uid": uid, "staff_no": staff_no}, headers=hall.user_headers()
    )


def _punch(hall: Hall, window: int, payload: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    device = f"agent-w{window}"
    body = batch(event("punch", device, payload, window, device_time=at))
    r = hall.client.post("/api/v1/events", json=body, headers=hall.device_headers(device))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_issue_list_and_revoke(hall: Hall) -> None:
    r = _issue(hall, "04:a1:b2:c3:d4:e5:f6", "GA001")
    assert r.status_code == 201, r.text
    assert (r.json()["uid"], r.json()["name"], r.json()["active"]) == (UID, "王芳", True)
    assert _issue(hall, UID, "GA002").status_code == 409  # a UID is registered once
    assert _issue(hall, "A1B2C3D4", "RS001").status_code == 201
    sup = hall.user_headers()
    listed = hall.client.get("/api/v1/badges", headers=sup).json()["badges"]
    assert {b["uid"] for b in listed} == {UID, "A1B2C3D4"}
    # A department head sees only their department's badges.
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    assert [b["uid"] for b in hall.client.get("/api/v1/badges", headers=head).json()["badges"]] == [UID]

    revoked = hall.client.post(f"/api/v1/badges/{UID}/revoke", headers=sup)
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    again = hall.client.post(f"/api/v1/badges/{UID.lower()}/revoke", headers=sup)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]  # idempotent
    active = hall.client.get("/api/v1/badges", params={"active_only": True}, headers=sup).json()
    assert [b["uid"] for b in active["badges"]] == ["A1B2C3D4"]
    assert _issue(hall, UID, "GA001").status_code == 409  # a revoked card is not revived


def test_bad_input_gets_clear_errors(hall: Hall) -> None:
    for uid in ("xyz", "04A1B2", "04A1B2C3D", "00" * 11):
        r = _issue(hall, uid, "GA001")
        assert r.status_code == 422 and "4 to 10 bytes" in r.json()["detail"], (uid, r.text)
    assert _issue(hall, UID, "NOBODY").status_code == 404
    sup = hall.user_headers()
    assert hall.client.post("/api/v1/badges/A1B2C3D4/revoke", headers=sup).status_code == 404
    assert hall.client.post("/api/v1/badges/zz/revoke", headers=sup).status_code == 422
    head = hall.user_headers("head-ga", "head-ga-pass-1")
    forbidden = hall.client.post("/api/v1/badges", json={"uid": UID, "staff_no": "GA001"}, headers=head)
    assert forbidden.status_code == 403
    unauthenticated = hall.client.get("/api/v1/badges", headers=hall.device_headers("agent-w1"))
    assert unauthenticated.status_code == 401


def test_roster_lists_active_badges_of_the_windows_posts(hall: Hall) -> None:
    for uid, staff_no in (
        (UID, "GA001"),
        ("A1B2C3D4", "GA003"),
        ("B1B2C3D4", "RS001"),
        ("C1C2C3C4", "GA003"),
    ):
        assert _issue(hall, uid, staff_no).status_code == 201
    hall.client.post("/api/v1/badges/C1C2C3C4/revoke", headers=hall.user_headers())
    roster = hall.client.get("/api/v1/edge/roster", headers=hall.device_headers("agent-w1")).json()
    assert [(b["uid"], b["staff_no"], b["name"]) for b in roster["badges"]] == [
        ("04A1B2C3D4E5F6", "GA001", "王芳"),
        ("A1B2C3D4", "GA003", "张敏"),
    ]
    other = hall.client.get("/api/v1/edge/roster", headers=hall.device_headers("agent-w3")).json()
    assert [b["uid"] for b in other["badges"]] == ["B1B2C3D4"]


def test_badge_punch_is_linked_by_the_registry(hall: Hall) -> None:
    _issue(hall, UID, "GA001")
    # The agent's staff number is informative; the server's registry decides who punched.
    res = _punch(hall, 1, {"badge_uid": UID.lower(), "officer_staff_no": "GA003"})
    assert res["accepted"] == 1, res
    punches = hall.client.get("/api/v1/attendance/punches", headers=hall.user_headers()).json()["punches"]
    assert [(p["staff_no"], p["window"], p["page"]) for p in punches] == [("GA001", 1, BADGE_PUNCH_PAGE)]
    with Session(hall.engine) as s:
        punch = s.exec(select(Punch)).one()
        link = s.exec(select(BadgePunch)).one()
    assert link.event_id == punch.event_id


def test_unknown_and_revoked_badges_are_rejected_with_reasons(hall: Hall) -> None:
    _issue(hall, UID, "GA001")
    before = datetime.now(UTC) - timedelta(minutes=5)
    hall.client.post(f"/api/v1/badges/{UID}/revoke", headers=hall.user_headers())
    unknown = _punch(hall, 1, {"badge_uid": "DEADBEEF"})
    assert unknown["rejected"] == 1 and "not registered" in unknown["results"][0]["reason"]
    revoked = _punch(hall, 1, {"badge_uid": UID})
    assert revoked["rejected"] == 1 and "revoked" in revoked["results"][0]["reason"]
    # A punch made offline before the revocation still counts.
    earlier = _punch(hall, 1, {"badge_uid": UID}, at=before)
    assert earlier["accepted"] == 1, earlier
    with Session(hall.engine) as s:
        assert len(s.exec(select(Punch)).all()) == 1


def test_punch_payload_needs_exactly_one_source(hall: Hall) -> None:
    both = _punch(hall, 1, {"page": 1, "badge_uid": UID})
    neither = _punch(hall, 1, {"score": 10})
    malformed = _punch(hall, 1, {"badge_uid": "04-A1"})
    assert [r["rejected"] for r in (both, neither, malformed)] == [1, 1, 1]
    assert "either a fingerprint page or a badge_uid" in both["results"][0]["reason"]
    # An agent from before badges sends a page only: still valid.
    old = _punch(hall, 1, {"page": 1, "score": 80, "officer_staff_no": "GA001"})
    assert old["accepted"] == 1, old
    assert PunchPayload.model_validate({"badge_uid": "a1b2c3d4"}).badge_uid == "A1B2C3D4"
