"""The hall display (大厅显示屏): its page, a live event stream, and spoken announcements."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.api.deps import RowId, SessionDep, SettingsDep, read_only
from server.repo import queue_calls as call_repo
from server.services import notify
from server.services.queue import QueueRules
from server.services.queue_display import (
    AudioUnavailableError,
    announcement_wav,
    audio_cache_dir,
    snapshot,
    spoken_text,
)
from server.timeutil import utcnow

log = logging.getLogger(__name__)

router = APIRouter(tags=["display"])

PAGES = Path(__file__).resolve().parents[2] / "pages"
STATIC = {"display.js": "text/javascript", "display.css": "text/css"}
LISTEN_READY_TIMEOUT_S = 10.0


@router.get("/display", response_class=FileResponse)
def display_page() -> FileResponse:
    """The hall display page (full screen in the hall)."""
    return FileResponse(PAGES / "display.html", media_type="text/html; charset=utf-8")


@router.get("/display/static/{name}", response_class=FileResponse)
def display_static(name: str) -> FileResponse:
    """The display page's script and style sheet."""
    if name not in STATIC:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file")
    return FileResponse(PAGES / name, media_type=STATIC[name])


@router.get("/api/v1/display/snapshot")
@read_only
def display_snapshot(session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Latest calls and the waiting count per item."""
    return {"hall": settings.hall_name, **snapshot(session, QueueRules.from_settings(settings), utcnow())}


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _snapshot_now(engine: Engine, rules: QueueRules) -> dict[str, Any]:
    with Session(engine) as session:
        return snapshot(session, rules, utcnow())


async def _pump(engine: Engine, queue: asyncio.Queue[dict[str, Any]], ready: asyncio.Event) -> None:
    try:
        async for call in notify.subscribe(engine, ready):
            await queue.put(call)
    except Exception:
        log.exception("the display's call subscription failed")
        raise


async def _events(
    request: Request, engine: Engine, rules: QueueRules, snapshot_s: float
) -> AsyncIterator[str]:
    calls: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    ready = asyncio.Event()
    pump = asyncio.create_task(_pump(engine, calls, ready))
    try:
        # Listen first, so no call made after the first snapshot is missed.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), LISTEN_READY_TIMEOUT_S)
        yield _sse("snapshot", await asyncio.to_thread(_snapshot_now, engine, rules))
        while not await request.is_disconnected():
            if pump.done():
                yield _sse("error", {"message": "call subscription lost"})
                return
            try:
                call = await asyncio.wait_for(calls.get(), snapshot_s)
            except TimeoutError:
                yield _sse("snapshot", await asyncio.to_thread(_snapshot_now, engine, rules))
            else:
                yield _sse("call", call)
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await pump


@router.get("/api/v1/display/events")
async def display_events(
    request: Request,
    settings: SettingsDep,
    snapshot_s: Annotated[float, Query(ge=0.5, le=300)] = 10.0,
) -> StreamingResponse:
    """Server-sent events: ``call`` for each call or recall, ``snapshot`` every ``snapshot_s`` seconds."""
    engine: Engine = request.app.state.engine
    rules = QueueRules.from_settings(settings)
    return StreamingResponse(
        _events(request, engine, rules, snapshot_s),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/v1/display/audio/{call_id}.wav", response_class=FileResponse)
def call_audio(call_id: RowId, session: SessionDep) -> FileResponse:
    """The spoken announcement of one call (Mandarin, espeak-ng), generated on first request."""
    call = call_repo.call_by_id(session, call_id)
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call {call_id}")
    text = spoken_text(call.ticket_no, call.window_number)
    try:
        path = announcement_wav(text, audio_cache_dir())
    except AudioUnavailableError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from err
    return FileResponse(path, media_type="audio/wav")
