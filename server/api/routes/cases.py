"""Case (办件) lifecycle API: accept, supplement (补正), close; the case JSON and receipt (受理回单)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import DEMO_SECRET, SessionDep, SettingsDep, get_device, get_user
from server.api.responses import UNPROCESSABLE
from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import Officer
from server.models.cases import Case, CaseStatus
from server.models.devices import DeviceKind
from server.repo import cases as case_repo
from server.repo import registry
from server.services import cases as svc
from server.services.case_context import (
    STATUS_NAMES,
    Actor,
    CaseContext,
    CaseInputError,
    CaseUnprocessableError,
)
from server.services.case_queries import warning_of
from server.services.hall_calendar import hall_calendar
from server.services.workdays import CalendarError
from server.timeutil import utcnow

router = APIRouter(prefix="/api/v1/cases", tags=["cases"], responses=UNPROCESSABLE)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicantIn(_Strict):
    """The applicant as read from the ID card or typed in; never stored in clear."""

    id_number: str
    name: str = Field(max_length=50)


class CaseIn(_Strict):
    """A case accepted at the window."""

    client_ref: uuid.UUID
    item_code: str = Field(max_length=32)
    officer_staff_no: str = Field(max_length=32)
    applicant: ApplicantIn
    ticket_no: str | None = Field(default=None, max_length=16)
    finished_on_spot: bool = False


class SupplementIn(_Strict):
    """The missing materials, told once and completely (一次性告知)."""

    missing: list[str] = Field(max_length=50)
    officer_staff_no: str = Field(max_length=32)


class StepIn(_Strict):
    """Materials supplied, or a case completed."""

    officer_staff_no: str | None = Field(default=None, max_length=32)
    outcome: Literal["completed", "approved"] = "completed"


class RefuseIn(_Strict):
    """不予受理 (refused) or 不予批准 (rejected), with the written reason."""

    reason: str = Field(default="", max_length=1000)
    decision: Literal["refused", "rejected"] = "refused"
    officer_staff_no: str | None = Field(default=None, max_length=32)


def get_context(session: SessionDep, settings: SettingsDep) -> CaseContext:
    """The case rules' view of the settings, over the hall's working-day calendar."""
    return CaseContext(
        calendar=hall_calendar(session, settings),
        tz=ZoneInfo(settings.timezone),
        secret=settings.secret_key.get_secret_value() or DEMO_SECRET,
        warning_days=settings.case_warning_days,
        hall_name=settings.hall_name,
    )


def get_actor(
    session: SessionDep, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> Actor:
    """A counter agent's device key or a logged-in user's token."""
    try:
        device = get_device(session, authorization)
    except HTTPException as err:
        if err.status_code != status.HTTP_401_UNAUTHORIZED:
            raise
        user = get_user(session, settings, authorization)
        return Actor(name=user.username, role=user.role, department_id=user.department_id)
    if device.kind != DeviceKind.AGENT or device.window_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a window's counter agent handles cases")
    return Actor(name=device.device_id, window_id=device.window_id)


ContextDep = Annotated[CaseContext, Depends(get_context)]
ActorDep = Annotated[Actor, Depends(get_actor)]


@contextmanager
def case_errors() -> Iterator[None]:
    """Translate the domain's errors into HTTP errors, in one place."""
    try:
        yield
    except NotFoundError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ForbiddenError as err:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(err)) from err
    except ConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err
    except CaseInputError as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(err)) from err
    except CaseUnprocessableError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
    except CalendarError as err:
        # The hall calendar lacks the year: retrying after it is configured loses nothing (client_ref).
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(err)) from err


@router.post("", status_code=status.HTTP_201_CREATED)
def create_case(
    body: CaseIn, response: Response, session: SessionDep, ctx: ContextDep, actor: ActorDep
) -> dict[str, Any]:
    """Accept a case at this agent's window; the same client_ref again returns the same case (200)."""
    req = svc.AcceptRequest(
        client_ref=str(body.client_ref),
        item_code=body.item_code,
        officer_staff_no=body.officer_staff_no,
        id_number=body.applicant.id_number,
        name=body.applicant.name,
        ticket_no=body.ticket_no,
        finished_on_spot=body.finished_on_spot,
    )
    with case_errors():
        case, created = svc.accept(session, ctx, actor, req, utcnow())
    if not created:
        response.status_code = status.HTTP_200_OK
    return case_detail(session, ctx, case, history=False)


@router.post("/{case_no}/supplement")
def supplement(
    case_no: str, body: SupplementIn, session: SessionDep, ctx: ContextDep, actor: ActorDep
) -> dict[str, Any]:
    """Request the missing materials (补正), once; the clock pauses."""
    with case_errors():
        case = svc.request_supplement(
            session, ctx, actor, case_no, body.missing, body.officer_staff_no, utcnow()
        )
    return case_detail(session, ctx, case)


@router.post("/{case_no}/supplied")
def supplied(
    case_no: str, session: SessionDep, ctx: ContextDep, actor: ActorDep, body: StepIn | None = None
) -> dict[str, Any]:
    """The materials arrived: the clock runs again, the due date moves by the paused working days."""
    staff_no = body.officer_staff_no if body else None
    with case_errors():
        case = svc.supplied(session, ctx, actor, case_no, staff_no, utcnow())
    return case_detail(session, ctx, case)


@router.post("/{case_no}/complete")
def complete(
    case_no: str, session: SessionDep, ctx: ContextDep, actor: ActorDep, body: StepIn | None = None
) -> dict[str, Any]:
    """Close the case as completed (办结) or approved (准予许可)."""
    step = body or StepIn()
    with case_errors():
        case = svc.finish(
            session, ctx, actor, case_no, CaseStatus(step.outcome), "", step.officer_staff_no, utcnow()
        )
    return case_detail(session, ctx, case)


@router.post("/{case_no}/refuse")
def refuse(
    case_no: str, body: RefuseIn, session: SessionDep, ctx: ContextDep, actor: ActorDep
) -> dict[str, Any]:
    """不予受理 / 不予批准: only with a written reason (400 without)."""
    with case_errors():
        case = svc.finish(
            session,
            ctx,
            actor,
            case_no,
            CaseStatus(body.decision),
            body.reason,
            body.officer_staff_no,
            utcnow(),
        )
    return case_detail(session, ctx, case)


def case_json(row: case_repo.CaseRow, ctx: CaseContext, today: date) -> dict[str, Any]:
    case = row.case
    warning = warning_of(case, ctx, today)
    return {
        "case_no": case.case_no,
        "status": case.status,
        "status_name": STATUS_NAMES[case.status],
        "paused": case.status == CaseStatus.SUPPLEMENT,
        "warning": warning.value if warning else None,
        "item": {"code": row.item.code, "name": row.item.name},
        "department": {"code": row.department.code, "name": row.department.name},
        "window": row.window.number,
        "first_officer": {"staff_no": row.officer.staff_no, "name": row.officer.name},
        "applicant": {"id_masked": case.applicant_masked, "name_masked": case.applicant_name_masked},
        "ticket_no": case.ticket_no,
        "accepted_at": case.accepted_at.isoformat(),
        "committed_days": case.committed_days,
        "due_date": case.due_date.isoformat(),
        "completed_at": case.completed_at.isoformat() if case.completed_at else None,
        "reason": case.reason or None,
        "finished_on_spot": case.finished_on_spot,
    }


def case_detail(session: SessionDep, ctx: CaseContext, case: Case, *, history: bool = True) -> dict[str, Any]:
    row = case_repo.case_row(session, case)
    out = case_json(row, ctx, ctx.local_day(utcnow()))
    out["receipt"] = None if case.finished_on_spot else _receipt(row, ctx)
    if history:
        staff = {o.id: o for o in registry.all_officers(session)}
        out["history"] = [
            {
                "action": e.action,
                "at": e.at.isoformat(),
                "officer": _staff_no(staff.get(e.officer_id)),
                "actor": e.actor,
                "note": e.note,
                "missing": e.missing,
            }
            for e in case_repo.events_of(session, row.case.id or 0)
        ]
    return out


def _staff_no(officer: Officer | None) -> str | None:
    return officer.staff_no if officer else None


def _receipt(row: case_repo.CaseRow, ctx: CaseContext) -> dict[str, Any]:
    """The fields the window prints on the acceptance receipt (受理回单)."""
    case, officer = row.case, row.officer
    due = f"{case.due_date:%Y年%m月%d日}"
    return {
        "title": "受理回单",
        "hall_name": ctx.hall_name,
        "case_no": case.case_no,
        "item_name": row.item.name,
        "officer_name": officer.name,
        "officer_staff_no": officer.staff_no,
        "window_number": row.window.number,
        "accepted_at": f"{case.accepted_at.astimezone(ctx.tz):%Y-%m-%d %H:%M}",
        "due_date": case.due_date.isoformat(),
        "applicant_masked": case.applicant_masked,
        "applicant_name_masked": case.applicant_name_masked,
        "supervision_phone": officer.supervision_phone,
        "notes": [
            f"本件承诺办结时限为{case.committed_days}个工作日（法定节假日不计），应于{due}前办结。",
            "需要补正材料的，补正期间不计入办结时限，办结日期相应顺延。",
            f"首问负责人：{officer.name}（工号 {officer.staff_no}），请凭本回单查询办理进度、领取结果。",
        ],
    }
