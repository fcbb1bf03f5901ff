"""Edge devices and the latest state of each physical device behind them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter

from server.api.deps import READERS, SessionDep, require_roles
from server.models import User
from server.repo import devices as device_repo

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@router.get("")
def list_devices(session: SessionDep, _user: Annotated[User, require_roles(*READERS)]) -> dict[str, Any]:
    """Edge processes (last seen, clock offset) and the latest state of each of their devices."""
    states: dict[str, list[dict[str, Any]]] = {}
    for s in device_repo.device_states(session):
        states.setdefault(s.device_id, []).append(
            {
                "device": s.device,
                "kind": s.device_kind,
                "state": s.state,
                "reason": s.reason,
                "since": _iso(s.since),
            }
        )
    return {
        "devices": [
            {
                "device_id": d.device_id,
                "kind": d.kind,
                "window_id": d.window_id,
                "revoked": d.revoked_at is not None,
                "last_seen_at": _iso(d.last_seen_at),
                "clock_offset_s": d.clock_offset_s,
                "states": states.get(d.device_id, []),
            }
            for d in device_repo.all_devices(session)
        ]
    }


@router.get("/{device_id}/history")
def device_history(
    device_id: str, session: SessionDep, _user: Annotated[User, require_roles(*READERS)]
) -> dict[str, Any]:
    """Recent state changes reported by one edge process."""
    return {
        "device_id": device_id,
        "changes": [
            {
                "device": c.device,
                "kind": c.device_kind,
                "state": c.state,
                "reason": c.reason,
                "device_time": _iso(c.device_time),
            }
            for c in device_repo.state_history(session, device_id)
        ],
    }
