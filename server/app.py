"""FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from server.api.routes import attendance, attendance_admin, auth, devices, edge, events, health, ratings
from server.api.routes import display, queue, tickets
from server.api.routes import cases as case_routes
from server.api.routes import analytics, followups
from server.db import make_engine
from server.settings import ServerSettings, get_settings

log = logging.getLogger(__name__)


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """Build the application with its own engine; nothing is created at import time."""
    settings = settings or get_settings()
    app = FastAPI(
        title="service-hall", version="0.1.0", description="政务服务中心 窗口设备与评价、考勤、排队"
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    for module in (health, auth, events, ratings, attendance, devices, edge):
        app.include_router(module.router)
    app.include_router(attendance_admin.router)
    for module in (tickets, queue, display):
        app.include_router(module.router)
    app.include_router(case_routes.router)
    for module in (analytics, followups):
        app.include_router(module.router)

    return app
