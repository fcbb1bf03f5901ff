"""The supervisor pages as one router, and their wiring into the application."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
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


def _refusal(error: dict[str, object]) -> str:
    """One declared limit a page's form field or query parameter broke, in words."""
    loc = error.get("loc")
    field = str(loc[-1]) if isinstance(loc, (list, tuple)) and loc else "?"
    ctx = error.get("ctx")
    limits = ctx if isinstance(ctx, dict) else {}
    kind = str(error.get("type", ""))
    if kind == "string_too_long":
        return f"{field} 最多 {limits.get('max_length')} 个字符"
    if kind == "string_too_short":
        return f"{field} 至少 {limits.get('min_length')} 个字符"
    if kind == "missing":
        return f"缺少 {field}"
    if kind in ("int_parsing", "int_type"):
        return f"{field} 应为整数"
    if kind in ("enum", "literal_error"):
        return f"{field} 的取值无效"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{field} 超出允许的范围"
    return f"{field} 不符合要求"


async def _invalid_input(request: Request, exc: Exception) -> Response:
    """A page's request refused by its declared limits gets the error page; the API keeps its JSON."""
    if not isinstance(exc, RequestValidationError):  # registered for that error only
        raise exc
    if not request.url.path.startswith("/web/"):
        return await request_validation_exception_handler(request, exc)
    reasons = "；".join(_refusal(e) for e in exc.errors()[:5])
    message = f"提交的内容不符合要求（{reasons}），请返回上一页修改后重试。"
    return await _page_error(request, PageError(422, message))


def install(app: FastAPI) -> None:
    """Static files, templates, the log-in limiter and the pages' error handlers of one application."""
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
    app.state.web_templates = make_templates(app.state.settings)
    app.state.web_login_limiter = LoginLimiter()
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(RequestValidationError, _invalid_input)
