"""POST /api/v1/events: batches of edge events from agents and kiosks."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from common.events import MAX_BATCH_EVENTS, BatchResult
from server.api.deps import DeviceDep, SessionDep, SettingsDep
from server.api.responses import UNPROCESSABLE
from server.models import Device
from server.services.followups import FollowupPolicy
from server.services.ingest import batch_result, record_batch
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1", tags=["events"], responses=UNPROCESSABLE)


def _parse_batch(body: bytes) -> tuple[list[Any], datetime | None]:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"body is not valid JSON: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, 'body must be {"events": [...]}')
    events: list[Any] = data["events"]
    if len(events) > MAX_BATCH_EVENTS:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"a batch holds at most {MAX_BATCH_EVENTS} events, this one has {len(events)}",
        )
    sent_at = None
    if data.get("sent_at") is not None:
        try:
            sent_at = datetime.fromisoformat(str(data["sent_at"]))
        except ValueError as err:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, "sent_at is not an ISO date-time"
            ) from err
        if sent_at.tzinfo is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "sent_at must carry a UTC offset")
    return events, sent_at


@router.post(
    "/events",
    response_model=BatchResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["events"],
                        "properties": {
                            "sent_at": {"type": "string", "format": "date-time"},
                            "events": {
                                "type": "array",
                                "maxItems": MAX_BATCH_EVENTS,
                                "items": {"type": "object"},
                            },
                        },
                    }
                }
            },
        }
    },
)
async def post_events(
    request: Request, device: DeviceDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Apply a batch of up to 500 edge events; each is accepted, duplicate or rejected with a reason."""
    body = await request.body()
    if len(body) > settings.max_body_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"body larger than {settings.max_body_bytes} bytes"
        )
    # Parsing, validation and the database work block; in a worker thread they let this process
    # read and check the next batch while this one waits for SQLite's write lock.
    result = await run_in_threadpool(_ingest, body, session, device, FollowupPolicy.from_settings(settings))
    # Already a typed BatchResult: send it as is rather than have FastAPI validate it once more.
    return Response(result.model_dump_json(), media_type="application/json")


def _ingest(body: bytes, session: Session, device: Device, policy: FollowupPolicy) -> BatchResult:
    events, sent_at = _parse_batch(body)
    recorded = record_batch(session, device, events, utcnow(), sent_at, policy)
    # Commit here, in the thread that did the work: on SQLite the transaction holds the write lock,
    # which should neither wait for the event loop to get round to the session's own commit nor
    # for the answer to be built.
    session.commit()
    return batch_result(recorded)
