"""Staff badge registry: issue, revoke and list the cards officers log in with at a window."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from pydantic import BaseModel, Field

from server.api.deps import READERS, SessionDep, department_scope, require_roles
from server.errors import ConflictError, NotFoundError
from server.models import User
from server.models.users import Role
from server.services import badges
from server.services.badges import BadgeUidError

router = APIRouter(prefix="/api/v1/badges", tags=["badges"])

MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
UidPath = Annotated[str, Path(min_length=1, max_length=64)]


class BadgeIn(BaseModel):
    """A card to register: its UID as hex (separators allowed) and the officer's staff number."""

    uid: str = Field(min_length=1, max_length=64)
    staff_no: str = Field(min_length=1, max_length=32)


def _translate(err: Exception) -> HTTPException:
    if isinstance(err, BadgeUidError):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err))
    if isinstance(err, NotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(err))
    return HTTPException(status.HTTP_409_CONFLICT, str(err))


@router.post("", status_code=status.HTTP_201_CREATED)
def issue_badge(
    body: BadgeIn, session: SessionDep, user: Annotated[User, require_roles(*MANAGERS)]
) -> dict[str, Any]:
    """Register a badge for an officer."""
    try:
        badge, officer = badges.issue(session, body.uid, body.staff_no, user)
    except (BadgeUidError, NotFoundError, ConflictError) as err:
        raise _translate(err) from err
    return badges.public(badge, officer)


@router.post("/{uid}/revoke")
def revoke_badge(
    uid: UidPath, session: SessionDep, user: Annotated[User, require_roles(*MANAGERS)]
) -> dict[str, Any]:
    """Revoke a badge (lost, returned); punches made with it afterwards are rejected."""
    try:
        badge, officer = badges.revoke(session, uid, user)
    except (BadgeUidError, NotFoundError) as err:
        raise _translate(err) from err
    return badges.public(badge, officer)


@router.get("")
def list_badges(
    session: SessionDep,
    user: Annotated[User, require_roles(*READERS)],
    staff_no: Annotated[str | None, Query(max_length=32)] = None,
    active_only: bool = False,
) -> dict[str, Any]:
    """Registered badges, newest first; a department head sees their department's."""
    return {"badges": badges.listing(session, department_scope(user), staff_no, active_only)}
