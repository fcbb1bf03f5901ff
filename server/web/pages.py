"""The supervisor pages as one router, and their wiring into the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from server.web import (
    appointments_page,
    assessment_page,
    attendance_forms,
    attendance_page,
    attendance_requests,
    audit_pages,
    badges_page,
    calendar_page,
    cases_page,
    complaints_page,
    devices_page,
    followups_page,
    login,
    officer_page,
    overview,
    ratings_page,
    registry_page,
)
from server.web.deps import PageError
from server.web.ratelimit import LoginLimiter
from server.web.render import make_templates

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter()
for _module in (
    login,
    overview,
    ratings_page,
    officer_page,
    attendance_page,
    attendance_requests,
    attendance_forms,
    assessment_page,
    followups_page,
    complaints_page,
    cases_page,
    appointments_page,
    registry_page,
    badges_page,
    devices_page,
    calendar_page,
    audit_pages,
):
    router.include_router(_module.router)


@router.get("/web", include_in_schema=False)
def web_root() -> RedirectResponse:
    """The pages live under /web/."""
    return RedirectResponse("/web/", status_code=307)


async def _page_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, PageError):  # registered for PageError only; keeps the handler type honest
        raise exc
    if exc.location:
        return RedirectResponse(exc.location, status_code=exc.status_code)
    templates = request.app.state.web_templates
    context = {"status_code": exc.status_code, "message": exc.message}
    return templates.TemplateResponse(request, "error.html", context, status_code=exc.status_code)


def install(app: FastAPI) -> None:
    """Static files, templates, the log-in limiter and the page error handler of one application."""
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.state.web_templates = make_templates(app.state.settings)
    app.state.web_login_limiter = LoginLimiter()
    app.add_exception_handler(PageError, _page_error)
