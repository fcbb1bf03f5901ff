"""The hall's configured follow-up deadlines apply to bad reviews arriving through the API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from server.app import create_app
from server.services.workdays import WorkCalendar
from server.settings import ServerSettings
from tests.server.conftest import Hall
from tests.server.events_util import batch, event


def test_configured_verify_days_are_used_at_ingestion(hall: Hall) -> None:
    settings = ServerSettings(demo=True, database_url=hall.database_url, followup_verify_days=3)
    payload = {"service_id": "6f1f0e2a-3d7c-4a59-9a51-6f7d8b1c2a10", "level": 5, "officer_staff_no": "GA001"}
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/api/v1/events",
            json=batch(event("rating", "agent-w1", payload, 1)),
            headers=hall.device_headers("agent-w1"),
        )
        assert r.json()["accepted"] == 1
        (followup,) = client.get("/api/v1/followups", headers=hall.user_headers()).json()["followups"]
    # The clock starts when the server opens the follow-up, on the hall's local date.
    opened_on = datetime.now(ZoneInfo(settings.timezone)).date()
    calendar = WorkCalendar(weekday_fallback=True)
    assert followup["verify_due"] == calendar.add_working_days(opened_on, 3).isoformat()
    assert followup["verify_due"] != calendar.add_working_days(opened_on, 1).isoformat()
