"""One translation of a database that is busy or unreachable into 503 with a retry hint."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    # SQLite "database is locked" past busy_timeout, or PostgreSQL restarting: the transaction was
    # rolled back (or its outcome is unknown), and edge requests are idempotent, so a retry is safe.
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, str(exc)[:200])
    return JSONResponse(
        {"detail": f"数据库暂时繁忙或不可用，请 {RETRY_AFTER_S} 秒后重试 (database busy or unavailable)"},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


def install(app: FastAPI) -> None:
    """Answer a database OperationalError with 503 and Retry-After instead of a 500."""
    app.add_exception_handler(OperationalError, _unavailable)
