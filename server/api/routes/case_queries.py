"""Reading cases (办件): the filtered list, the deadline warnings report and one case with its history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from server.api.deps import DB_INT_MAX, READERS, SessionDep, department_scope, require_roles
from server.api.responses import UNPROCESSABLE
from server.api.routes.cases import ActorDep, ContextDep, case_detail, case_errors, case_json
from server.models import User
from server.models.cases import CaseStatus
from server.repo import cases as case_repo
from server.repo import registry
from server.services import case_queries as svc
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=UNPROCESSABLE)


@router.get("")
def list_cases(
    session: SessionDep,
    ctx: ContextDep,
    user: Annotated[User, require_roles(*READERS)],
    status_: Annotated[CaseStatus | None, Query(alias="status")] = None,
    warning: svc.Warning | None = None,
    department: str | None = None,
    officer: str | None = None,
    window: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> dict[str, Any]:
    """Cases by status, warning colour, department (code), first officer (staff no) and window number."""
    query = case_repo.CaseQuery(
        statuses=frozenset({status_.value}) if status_ else None,
        department_id=_department_filter(session, user, department),
        officer_id=_officer_id(session, officer) if officer else None,
        window_id=_window_id(session, window) if window is not None else None,
        limit=limit,
    )
    today = ctx.local_day(utcnow())
    rows = svc.list_cases(session, ctx, query, warning, today)
    return {"today": today.isoformat(), "cases": [case_json(r, ctx, today) for r in rows]}


@router.get("/warnings")
def case_warnings(
    session: SessionDep,
    ctx: ContextDep,
    user: Annotated[User, require_roles(*READERS)],
    department: str | None = None,
) -> dict[str, Any]:
    """Yellow (due soon) and red (overdue) cases grouped by officer, window and department."""
    today = ctx.local_day(utcnow())
    groups = svc.warnings_report(session, ctx, today, _department_filter(session, user, department))
    return {"today": today.isoformat(), "warning_days": ctx.warning_days, **groups}


@router.get("/{case_no}")
def get_case(case_no: str, session: SessionDep, ctx: ContextDep, actor: ActorDep) -> dict[str, Any]:
    """One case with its history and receipt data."""
    with case_errors():
        case = svc.get_case(session, actor, case_no)
    return case_detail(session, ctx, case)


def _department_filter(session: SessionDep, user: User, code: str | None) -> int | None:
    scope = department_scope(user)
    if code is None:
        return scope
    found = next((d.id for d in registry.all_departments(session) if d.code == code), None)
    if found is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown department {code}")
    if scope is not None and found != scope:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "department heads see only their own department")
    return found


def _officer_id(session: SessionDep, staff_no: str) -> int:
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None or officer.id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown officer {staff_no}")
    return officer.id


def _window_id(session: SessionDep, number: int) -> int:
    found = registry.window_by_number(session, number)
    if found is None or found.id is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"unknown window {number}")
    return found.id
