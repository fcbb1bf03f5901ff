"""FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.api import db_errors
from server.api.responses import UNPROCESSABLE
from server.api.routes import (
    analytics,
    appointments,
    attendance,
    attendance_admin,
    auth,
    badges,
    calendar,
    case_queries,
    cases,
    devices,
    display,
    edge,
    enrollments,
    events,
    followups,
    health,
    queue,
    ratings,
    tickets,
)
from server.db import make_engine
from server.settings import ServerSettings, get_settings
from server.web import pages as web_pages

# FastAPI tries the routers in this order, and each router tried costs CPU on every request (about
# 10 us each): the edge devices' frequent requests (events, command polls, tickets, call-next) come
# first. No path of these routers overlaps another router's, so the order changes no answer.
ROUTERS = (
    events,
    edge,
    tickets,
    queue,
    health,
    auth,
    enrollments,
    badges,
    devices,
    ratings,
    analytics,
    followups,
    attendance,
    attendance_admin,
    appointments,
    display,
    cases,
    case_queries,
    calendar,
    web_pages,
)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the application with its own engine; nothing is created at import time."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, busy_timeout_s=settings.sqlite_busy_timeout_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="service-hall",
        version="0.1.0",
        description="政务服务中心 窗口设备与评价、考勤、排队",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    for module in ROUTERS:
        # Every route may answer 422 with field errors or with a rule's message: document both.
        app.include_router(module.router, responses=UNPROCESSABLE)
    web_pages.install(app)
    db_errors.install(app)
    return app
