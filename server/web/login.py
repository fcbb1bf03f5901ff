"""Log-in and log-out of the supervisor pages."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import select

from server.api.deps import SessionDep, SettingsDep
from server.models import User
from server.passwords import verify_password
from server.services import audit
from server.web.deps import PageError, ViewerDep, check_csrf, client_address
from server.web.ratelimit import LoginLimiter
from server.web.render import render
from server.web.security import (
    LOGIN_CSRF_COOKIE,
    LOGIN_CSRF_MAX_AGE_S,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    WebSession,
    clear_cookie,
    dump_session,
    new_token,
    set_cookie,
    tokens_match,
)

router = APIRouter(prefix="/web", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only paths of the pages themselves: never an absolute URL someone slipped into the link.
    if target and target.startswith("/web/") and not target.startswith("//"):
        return target
    return "/web/"


def _login_page(
    request: Request,
    settings: SettingsDep,
    next_: str,
    error: str = "",
    username: str = "",
    status: int = 200,
) -> HTMLResponse:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_token()
    context = {"csrf": token, "next": _safe_next(next_), "error": error, "username": username}
    response = render(request, "login.html", context, status)
    # Double-submit token: the form field must equal this cookie, which other sites cannot read or set.
    set_cookie(response, settings, LOGIN_CSRF_COOKIE, token, LOGIN_CSRF_MAX_AGE_S)
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str = "/web/") -> HTMLResponse:
    """The log-in page."""
    return _login_page(request, settings, next)


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/web/",
) -> Response:
    """Check the password (rate-limited per username and address) and start a session."""
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise PageError(403, "安全校验失败：请刷新登录页后重新登录")
    limiter: LoginLimiter = request.app.state.web_login_limiter
    client = client_address(request)
    wait_s = limiter.retry_after_s(username, client)
    if wait_s is not None:
        minutes = max(1, math.ceil(wait_s / 60))
        response = _login_page(
            request, settings, next, f"登录失败次数过多，请约 {minutes} 分钟后再试", username, 429
        )
        response.headers["Retry-After"] = str(math.ceil(wait_s))
        return response
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    if user is None or user.disabled or not verify_password(password, user.password_hash):
        limiter.failed(username, client)
        audit.record(session, None, "login_failed", username, client=client, actor=username)
        return _login_page(request, settings, next, "用户名或密码错误", username, 401)
    limiter.succeeded(username)
    audit.record(session, user, "login", user.username, client=client)
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    cookie = dump_session(settings, WebSession(user.id or 0, new_token()))
    set_cookie(redirect, settings, SESSION_COOKIE, cookie, SESSION_MAX_AGE_S)
    clear_cookie(redirect, settings, LOGIN_CSRF_COOKIE)
    return redirect


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> RedirectResponse:
    """End the session: the cookie is removed from the browser."""
    check_csrf(viewer, csrf_token)
    audit.record(session, viewer.user, "logout", viewer.user.username, client=client_address(request))
    response = RedirectResponse("/web/login", status_code=303)
    clear_cookie(response, settings, SESSION_COOKIE)
    return response
