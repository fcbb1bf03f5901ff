"""Who is looking at a page: the session cookie's user, role checks and the CSRF check of forms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from sqlmodel import Session

from server.api.deps import SessionDep, SettingsDep, department_scope, end_lookup
from server.errors import ForbiddenError, NotFoundError
from server.models import Officer, User
from server.models.users import Role
from server.repo import registry
from server.web.security import SESSION_COOKIE, load_session, tokens_match

HALL_WIDE = (Role.ADMIN, Role.SUPERVISOR)
READERS = (Role.ADMIN, Role.SUPERVISOR, Role.DEPARTMENT_HEAD)


def refused_status(err: Exception, otherwise: int = 422) -> int:
    """The status a page answers a refused step with: 403 not allowed, 404 not found, else ``otherwise``."""
    if isinstance(err, ForbiddenError):
        return 403
    return 404 if isinstance(err, NotFoundError) else otherwise


class PageError(Exception):
    """An error a page shows as such: status code and a message people can read."""

    def __init__(self, status_code: int, message: str, location: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.location = location


@dataclass(frozen=True)
class Viewer:
    """The logged-in person, the CSRF token of their session and the department they are limited to."""

    user: User
    csrf: str

    @property
    def scope(self) -> int | None:
        """The department a department head is limited to; None for hall-wide roles."""
        return department_scope(self.user)

    @property
    def hall_wide(self) -> bool:
        """Admins and supervisors see and act on the whole hall."""
        return self.user.role in HALL_WIDE

    def context(self, **extra: Any) -> dict[str, Any]:
        """Template context with the user and the CSRF token."""
        return {"user": self.user, "csrf": self.csrf, "viewer": self, **extra}


def client_address(request: Request) -> str:
    """The address the request came from."""
    return request.client.host if request.client else "unknown"


def current_viewer(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer:
    """The session's user; anyone else is sent to the log-in page."""
    web = load_session(settings, request.cookies.get(SESSION_COOKIE))
    user = session.get(User, web.user_id) if web else None
    if web is None or user is None or user.disabled:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise PageError(303, "请先登录", f"/web/login?next={quote(target)}")
    end_lookup(session)
    return Viewer(user, web.csrf)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def allow(*roles: Role) -> Callable[[Viewer], Viewer]:
    """A dependency that lets only the given roles see the page."""

    def check(viewer: ViewerDep) -> Viewer:
        if viewer.user.role not in roles:
            raise PageError(403, "您的账号无权访问此页面")
        return viewer

    return check


Reader = Annotated[Viewer, Depends(allow(*READERS))]
Supervisor = Annotated[Viewer, Depends(allow(*HALL_WIDE))]


def check_csrf(viewer: Viewer, token: str | None) -> None:
    """A form must carry the token of the session that shows it."""
    if not tokens_match(token, viewer.csrf):
        raise PageError(403, "安全校验失败：表单缺少有效的令牌，请刷新页面后重新提交")


def officer_in_view(session: Session, viewer: Viewer, staff_no: str) -> Officer:
    """An officer the viewer may see: all, their department's, or (officers) themselves."""
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None:
        raise PageError(404, f"工号 {staff_no} 不存在")
    user = viewer.user
    if user.role == Role.OFFICER:
        allowed = user.officer_id is not None and user.officer_id == officer.id
    else:
        allowed = viewer.scope in (None, officer.department_id)
    if not allowed:
        raise PageError(403, "无权查看其他部门或其他人员的信息")
    return officer
