"""POST /api/v1/events: batches of edge events from agents and kiosks."""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.events import MAX_BATCH_EVENTS, BatchResult
from server.api.deps import Credentials, SettingsDep, authenticate_device, get_engine, in_db_turn
from server.api.responses import UNPROCESSABLE
from server.db import read_only_engine
from server.group_commit import run_write, yield_to_writer
from server.services.followups import FollowupPolicy
from server.services.ingest import batch_result, plan_batch, write_batch
from server.settings import ServerSettings
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
async def post_events(request: Request, authorization: Credentials, settings: SettingsDep) -> Response:
    """Apply a batch of up to 500 edge events; each is accepted, duplicate or rejected with a reason."""
    body = await request.body()
    # The key check, parsing, validation and the database work block: one worker-thread hop, so this
    # process reads and checks the next batch while this one waits to write.
    result = await in_db_turn(request, _ingest, get_engine(request), authorization, body, settings)
    # Already a typed BatchResult: send it as is rather than have FastAPI validate it once more.
    return Response(result.model_dump_json(), media_type="application/json")


def _ingest(engine: Engine, authorization: str, body: bytes, settings: ServerSettings) -> BatchResult:
    received_at = utcnow()
    max_body_bytes = settings.max_body_bytes
    # Everything up to the write reads beside SQLite's writer: the key, the registry snapshot.
    with Session(read_only_engine(engine), expire_on_commit=False) as reader:
        device = authenticate_device(reader, authorization)
        # Deadlines of the follow-ups a bad rating opens: the hall's calendar, a per-process snapshot.
        policy = FollowupPolicy.for_hall(reader, settings)
        # End the read at once: a read transaction held while the batch is checked would keep
        # SQLite from checkpointing its log, and every read after it would search a longer log.
        reader.commit()
        if len(body) > max_body_bytes:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body larger than {max_body_bytes} bytes")
        # Checking and building a batch is pure Python: leave the GIL to this process's writer first.
        yield_to_writer(engine)
        events, sent_at = _parse_batch(body)
        planned = plan_batch(reader, device, events, received_at, sent_at, policy)
    # On SQLite, batches that arrive while another is being written are written together, in one
    # transaction (``server.group_commit``); the answer is built after the commit.
    recorded = run_write(engine, partial(write_batch, batch=planned))
    return batch_result(recorded)
