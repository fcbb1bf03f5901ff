"""What an edge process fetches for itself: its window's roster and fingerprint pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlmodel import col, select

from server.api.deps import DeviceDep, SessionDep, read_only
from server.models import Officer
from server.models.devices import DeviceKind
from server.repo import registry
from server.services import badges

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
@read_only
def roster(device: DeviceDep, session: SessionDep) -> dict[str, Any]:
    """This agent's window, its items, its A/B officers, its reader's fingerprint pages and their badges."""
    if device.kind != DeviceKind.AGENT or device.window_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a window's counter agent has a roster")
    window = registry.window_by_id(session, device.window_id)
    if window is None or window.id is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "window not found")
    enrollments = registry.enrollments_for_device(session, device.device_id)
    posts = registry.posts_for_window(session, window.id)
    # Only the window's A/B officers: the same people its fingerprint reader is enrolled for.
    window_badges = badges.roster_badges(session, {o.id for _, o in posts if o.id is not None})
    ids = {e.officer_id for e in enrollments}
    by_id = {o.id: o for o in session.exec(select(Officer).where(col(Officer.id).in_(ids)))} if ids else {}
    return {
        "window": {"number": window.number, "name": window.name, "commitments": window.commitments},
        "items": [
            {"code": i.code, "name": i.name, "prefix": i.ticket_prefix}
            for i in registry.items_for_window(session, window.id)
        ],
        "posts": [{"role": p.role, **_officer(o)} for p, o in posts],
        "fingerprints": [
            {"page": e.page, **_officer(by_id[e.officer_id])} for e in enrollments if e.officer_id in by_id
        ],
        "badges": [{"uid": b.uid, **_officer(o)} for b, o in window_badges],
    }
