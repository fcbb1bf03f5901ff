"""What an edge process fetches for itself: its window's roster and fingerprint pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlmodel import col, select

from server.api.deps import DeviceDep, SessionDep
from server.models import Officer
from server.repo import registry

router = APIRouter(prefix="/api/v1/edge", tags=["edge"])


def _officer(o: Officer) -> dict[str, Any]:
    return {
        "staff_no": o.staff_no,
        "name": o.name,
        "post": o.post,
        "photo_url": o.photo_url,
        "supervision_phone": o.supervision_phone,
    }


@router.get("/roster")
def roster(device: DeviceDep, session: SessionDep) -> dict[str, Any]:
    """This agent's window, its items, its A/B officers and every fingerprint page enrolled on its reader."""
    if device.window_id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this device is not bound to a window")
    window = registry.window_by_id(session, device.window_id)
    if window is None or window.id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "window not found")
    enrollments = registry.enrollments_for_device(session, device.device_id)
    ids = {e.officer_id for e in enrollments}
    by_id = {o.id: o for o in session.exec(select(Officer).where(col(Officer.id).in_(ids)))} if ids else {}
    return {
        "window": {"number": window.number, "name": window.name, "commitments": window.commitments},
        "items": [
            {"code": i.code, "name": i.name, "prefix": i.ticket_prefix}
            for i in registry.items_for_window(session, window.id)
        ],
        "posts": [{"role": p.role, **_officer(o)} for p, o in registry.posts_for_window(session, window.id)],
        "fingerprints": [
            {"page": e.page, **_officer(by_id[e.officer_id])} for e in enrollments if e.officer_id in by_id
        ],
    }
