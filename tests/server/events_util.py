"""Helpers to build edge events as an agent would send them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def event(
    kind: str,
    device_id: str,
    payload: dict[str, Any],
    window: int | None = None,
    event_id: str | None = None,
    device_time: datetime | None = None,
) -> dict[str, Any]:
    """One event in wire form."""
    return {
        "id": event_id or str(uuid.uuid4()),
        "kind": kind,
        "device_id": device_id,
        "window": window,
        "device_time": (device_time or datetime.now(UTC)).isoformat(),
        "payload": payload,
    }


def rating(
    device_id: str, window: int, level: int | None, staff_no: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A rating event for a fresh service."""
    payload = {"service_id": str(uuid.uuid4()), "level": level, "officer_staff_no": staff_no, **extra}
    return event("rating", device_id, payload, window)


def batch(*events: dict[str, Any], sent_at: datetime | None = None) -> dict[str, Any]:
    """A batch body."""
    return {"sent_at": (sent_at or datetime.now(UTC)).isoformat(), "events": list(events)}
