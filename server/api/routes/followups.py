"""Bad-review follow-ups (差评整改), appeals (申诉) and complaints (投诉)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from server.api.deps import DB_INT_MAX, DEMO_SECRET, READERS, RowId, SessionDep, SettingsDep, require_roles
from server.api.responses import UNPROCESSABLE
from server.errors import ConflictError, ForbiddenError, HallError, NotFoundError
from server.models import Followup, User
from server.models.followups import FollowupStatus
from server.models.users import Role
from server.services import complaints as complaint_svc
from server.services import followup_actions as action_svc
from server.services import followups as svc
from server.services.rollups import local_day
from server.settings import ServerSettings
from server.timeutil import utcnow

router = APIRouter(tags=["followups"], responses=UNPROCESSABLE)

Reader = Annotated[User, require_roles(*READERS, Role.OFFICER)]
Actor = Annotated[User, require_roles(*READERS)]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
T = TypeVar("T")


def raise_http(err: HallError) -> NoReturn:
    """Translate a domain error into the HTTP error the client sees."""
    code = status.HTTP_422_UNPROCESSABLE_CONTENT
    if isinstance(err, NotFoundError):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(err, ForbiddenError):
        code = status.HTTP_403_FORBIDDEN
    elif isinstance(err, ConflictError):
        code = status.HTTP_409_CONFLICT
    raise HTTPException(code, str(err)) from err


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except HallError as err:
        raise_http(err)


def _today(settings: ServerSettings) -> date:
    return local_day(utcnow(), ZoneInfo(settings.timezone))


class NoteIn(BaseModel):
    """A step's note: the verification finding, the rectification measures or a free note."""

    note: Text


class CloseIn(BaseModel):
    """The callback (回访) result that closes a follow-up."""

    callback_result: action_svc.CallbackResult
    note: Annotated[str, Field(max_length=4000)] = ""


class AppealIn(BaseModel):
    """The unit's appeal with its evidence."""

    evidence: Text


class DecisionIn(BaseModel):
    """A supervisor's decision on an appeal."""

    upheld: bool
    note: Text


class ComplaintIn(BaseModel):
    """A complaint to record; name the window, the officer (staff number) or the department."""

    channel: complaint_svc.ComplaintChannel
    content: Text
    window: Annotated[int, Field(ge=1, le=DB_INT_MAX)] | None = None
    staff_no: Annotated[str, Field(max_length=32)] | None = None
    department: Annotated[str, Field(max_length=32)] | None = None
    assignee: Annotated[str, Field(max_length=64)] = ""
    contact_phone: Annotated[str, Field(max_length=32)] | None = None


class AnswerIn(BaseModel):
    """The answer given to the complainant."""

    answer: Text


@router.get("/api/v1/followups")
def list_followups(
    session: SessionDep,
    settings: SettingsDep,
    user: Reader,
    status_: Annotated[FollowupStatus | None, Query(alias="status")] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Follow-ups in the user's scope, newest first; ``overdue=true`` keeps those past a deadline."""
    today = _today(settings)
    rows = _run(lambda: svc.list_visible(session, user, status_, today, overdue, limit))
    return {"today": today.isoformat(), "followups": [svc.public(f, today) for f in rows]}


@router.get("/api/v1/followups/{followup_id}")
def get_followup(
    followup_id: RowId, session: SessionDep, settings: SettingsDep, user: Reader
) -> dict[str, Any]:
    """One follow-up with its notes history."""
    followup = _run(lambda: svc.get_followup(session, followup_id, user))
    return _detail(session, settings, followup)


def _detail(session: Session, settings: ServerSettings, followup: Followup) -> dict[str, Any]:
    return svc.public(followup, _today(settings), svc.history(session, followup))


@router.post("/api/v1/followups/{followup_id}/verify")
def verify(
    followup_id: RowId, body: NoteIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Record the verification (核实) of a bad review."""
    return _detail(session, settings, _run(lambda: action_svc.verify(session, followup_id, user, body.note)))


@router.post("/api/v1/followups/{followup_id}/rectify")
def rectify(
    followup_id: RowId, body: NoteIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Record the rectification (整改) measures."""
    return _detail(session, settings, _run(lambda: action_svc.rectify(session, followup_id, user, body.note)))


@router.post("/api/v1/followups/{followup_id}/close")
def close(
    followup_id: RowId, body: CloseIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Close with the callback (回访) result."""
    followup = _run(lambda: action_svc.close(session, followup_id, user, body.callback_result, body.note))
    return _detail(session, settings, followup)


@router.post("/api/v1/followups/{followup_id}/note")
def note(
    followup_id: RowId, body: NoteIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Append a note to the history."""
    return _detail(
        session, settings, _run(lambda: action_svc.add_note(session, followup_id, user, body.note))
    )


@router.post("/api/v1/followups/{followup_id}/appeal")
def appeal(
    followup_id: RowId, body: AppealIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """The unit appeals (申诉) the bad review with evidence."""
    return _detail(
        session, settings, _run(lambda: action_svc.appeal(session, followup_id, user, body.evidence))
    )


@router.post("/api/v1/followups/{followup_id}/appeal/decide")
def decide_appeal(
    followup_id: RowId, body: DecisionIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """A supervisor upholds (rating leaves the statistics) or rejects (rating stays counted) an appeal."""
    tz = ZoneInfo(settings.timezone)
    followup = _run(lambda: action_svc.decide_appeal(session, followup_id, user, body.upheld, body.note, tz))
    return _detail(session, settings, followup)


@router.post("/api/v1/complaints", status_code=status.HTTP_201_CREATED)
def create_complaint(
    body: ComplaintIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Record and assign a complaint; it is due to be answered by the next working day."""
    data = complaint_svc.ComplaintInput(
        channel=body.channel,
        content=body.content,
        window_number=body.window,
        staff_no=body.staff_no,
        department_code=body.department,
        assignee=body.assignee,
        contact_phone=body.contact_phone,
    )
    secret = settings.secret_key.get_secret_value() or DEMO_SECRET
    policy = svc.FollowupPolicy.for_hall(session, settings)
    complaint = _run(lambda: complaint_svc.record_complaint(session, data, user, secret, policy))
    return complaint_svc.complaint_public(complaint, _today(settings))


@router.get("/api/v1/complaints")
def list_complaints(
    session: SessionDep,
    settings: SettingsDep,
    user: Actor,
    unanswered: bool | None = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Complaints in the user's scope, newest first, each with its overdue flag."""
    today = _today(settings)
    complaints = complaint_svc.list_complaints(session, user, unanswered, today, overdue, limit)
    return {"today": today.isoformat(), "complaints": complaints}


@router.post("/api/v1/complaints/{complaint_id}/answer")
def answer_complaint(
    complaint_id: RowId, body: AnswerIn, session: SessionDep, settings: SettingsDep, user: Actor
) -> dict[str, Any]:
    """Record the answer given to the complainant."""
    complaint = _run(lambda: complaint_svc.answer_complaint(session, complaint_id, user, body.answer))
    return complaint_svc.complaint_public(complaint, _today(settings))
