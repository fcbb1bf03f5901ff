"""Case (办件) lifecycle: acceptance, supplement requests (补正), closing and the paused clock."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.errors import ConflictError, ForbiddenError, NotFoundError
from server.models import Case, CaseEvent, Officer
from server.models.cases import OPEN_STATUSES, CaseAction, CaseStatus
from server.repo import cases as repo
from server.repo import registry
from server.services.applicant_data import is_valid_id_number, mask_name
from server.services.case_context import (
    STATUS_NAMES,
    Actor,
    CaseContext,
    CaseInputError,
    CaseStateError,
    CaseUnprocessableError,
)
from server.services.citizen_ids import citizen_hash, mask_id
from server.services.workdays import Pause
from server.timeutil import to_db

log = logging.getLogger(__name__)

_NUMBERING_ATTEMPTS = 20  # each retry follows another request's commit, so this bounds the racers


@dataclass(frozen=True)
class AcceptRequest:
    """A case a window accepts."""

    client_ref: str
    item_code: str
    officer_staff_no: str
    id_number: str
    name: str
    ticket_no: str | None = None
    finished_on_spot: bool = False


def accept(
    session: Session, ctx: CaseContext, actor: Actor, req: AcceptRequest, now: datetime
) -> tuple[Case, bool]:
    """Accept a case at the actor's window; return it and whether it is new (same client_ref: same case)."""
    if actor.window_id is None:
        raise ForbiddenError("only a window's counter agent accepts cases")
    existing = repo.case_by_client_ref(session, req.client_ref)
    if existing is not None:
        return _same_window(existing, actor), False
    if not is_valid_id_number(req.id_number):
        raise CaseUnprocessableError("身份证号码校验不通过，请核对后重新录入")
    if not req.name.strip():
        raise CaseUnprocessableError("申请人姓名不能为空")
    item = registry.items_by_code(session, {req.item_code}).get(req.item_code)
    if item is None or item.id is None or not repo.window_serves(session, actor.window_id, item.id):
        raise CaseUnprocessableError(f"本窗口不办理事项 {req.item_code}")
    officer = _officer_on_post(session, req.officer_staff_no, actor.window_id)
    day = ctx.local_day(now)
    on_spot = req.finished_on_spot or item.committed_days == 0  # 即办: finished on the spot
    case = Case(
        case_no="",
        client_ref=req.client_ref,
        item_id=item.id,
        department_id=item.department_id,
        window_id=actor.window_id,
        first_officer_id=_id(officer),
        applicant_hash=citizen_hash(ctx.secret, req.id_number),
        applicant_masked=mask_id(req.id_number),
        applicant_name_masked=mask_name(req.name),
        ticket_no=req.ticket_no,
        status=CaseStatus.COMPLETED if on_spot else CaseStatus.ACCEPTED,
        accepted_at=to_db(now),
        accepted_on=day,
        seq=0,
        committed_days=item.committed_days,
        due_date=ctx.calendar.add_working_days(day, item.committed_days),
        completed_at=to_db(now) if on_spot else None,
        finished_on_spot=on_spot,
    )
    raced = _insert_numbered(session, case, item.code)
    if raced is not None:
        return _same_window(raced, actor), False
    _record(session, case, CaseAction.ACCEPTED, actor, officer, now, ctx)
    if on_spot:
        _record(session, case, CaseAction.COMPLETED, actor, officer, now, ctx, note="当场办结")
    log.info("case %s accepted at window id %s", case.case_no, actor.window_id)
    return case, True


def _insert_numbered(session: Session, case: Case, item_code: str) -> Case | None:
    """Number and insert the case; a concurrent twin with the same client_ref is returned instead."""
    for _ in range(_NUMBERING_ATTEMPTS):
        case.seq = repo.next_seq(session, case.item_id, case.accepted_on)
        case.case_no = f"{item_code}-{case.accepted_on:%Y%m%d}-{case.seq:04d}"
        try:
            with session.begin_nested():
                session.add(case)
                session.flush()
            return None
        except IntegrityError:
            # Another request took this number, or inserted the same client_ref first.
            twin = repo.case_by_client_ref(session, case.client_ref)
            if twin is not None:
                return twin
    raise ConflictError("办件编号分配冲突，请重试")


def request_supplement(
    session: Session,
    ctx: CaseContext,
    actor: Actor,
    case_no: str,
    missing: list[str],
    officer_staff_no: str,
    now: datetime,
) -> Case:
    """Tell the applicant, once and completely (一次性告知), what is missing; the clock pauses."""
    case = _case_for(session, actor, case_no)
    history = repo.events_of(session, _id(case))
    if any(e.action == CaseAction.SUPPLEMENT for e in history):
        raise CaseStateError("一次性告知：本件已一次性告知补正材料，不能再次要求补正")
    _require_status(case, {CaseStatus.ACCEPTED}, "要求补正")
    materials = list(dict.fromkeys(m.strip() for m in missing))
    if not materials or any(not m for m in materials):
        raise CaseInputError("补正材料清单不能为空，且每项材料都须写明")
    officer = _officer(session, officer_staff_no)
    case.status = CaseStatus.SUPPLEMENT
    session.add(case)
    _record(session, case, CaseAction.SUPPLEMENT, actor, officer, now, ctx, missing=materials)
    return case


def supplied(
    session: Session,
    ctx: CaseContext,
    actor: Actor,
    case_no: str,
    officer_staff_no: str | None,
    now: datetime,
) -> Case:
    """The missing materials arrived: the clock runs again and the due date moves by the paused days."""
    case = _case_for(session, actor, case_no)
    _require_status(case, {CaseStatus.SUPPLEMENT}, "登记补正材料已收")
    officer = _officer(session, officer_staff_no) if officer_staff_no else None
    _record(session, case, CaseAction.SUPPLIED, actor, officer, now, ctx)
    case.status = CaseStatus.ACCEPTED
    case.due_date = ctx.calendar.deadline(
        case.accepted_on, case.committed_days, pauses_of(repo.events_of(session, _id(case)))
    )
    session.add(case)
    return case


def finish(
    session: Session,
    ctx: CaseContext,
    actor: Actor,
    case_no: str,
    outcome: CaseStatus,
    reason: str,
    officer_staff_no: str | None,
    now: datetime,
) -> Case:
    """Close a case: completed or approved; refused or rejected only with a written reason."""
    negative = outcome in (CaseStatus.REFUSED, CaseStatus.REJECTED)
    if outcome in OPEN_STATUSES:
        raise ValueError(f"{outcome} does not close a case")
    case = _case_for(session, actor, case_no)
    if negative and not reason.strip():
        raise CaseInputError("不予受理或不予批准必须书面说明理由")
    allowed = OPEN_STATUSES if negative else {CaseStatus.ACCEPTED}
    _require_status(case, set(allowed), "办结" if not negative else "作出不予决定")
    officer = _officer(session, officer_staff_no) if officer_staff_no else None
    case.status = outcome
    case.completed_at = to_db(now)
    case.reason = reason.strip() if negative else ""
    session.add(case)
    _record(session, case, CaseAction(outcome.value), actor, officer, now, ctx, note=case.reason)
    return case


def pauses_of(history: Iterable[CaseEvent]) -> list[Pause]:
    """The clock pauses of a case: from each supplement request to the arrival of the materials."""
    pauses: list[Pause] = []
    for event in history:
        if event.action == CaseAction.SUPPLEMENT:
            pauses.append((event.on_day, None))
        elif event.action == CaseAction.SUPPLIED and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], event.on_day)
    return pauses


def _case_for(session: Session, actor: Actor, case_no: str) -> Case:
    case = repo.case_by_no(session, case_no)
    if case is None:
        raise NotFoundError(f"办件 {case_no} 不存在")
    if not actor.may_act_on(case):
        raise ForbiddenError(f"办件 {case_no} 只能由受理窗口或监督人员处理")
    return case


def _same_window(case: Case, actor: Actor) -> Case:
    if case.window_id != actor.window_id:
        raise ConflictError("client_ref already used by another window")
    return case


def _require_status(case: Case, allowed: set[CaseStatus], doing: str) -> None:
    if case.status not in allowed:
        raise CaseStateError(f"办件 {case.case_no} 当前状态为 {STATUS_NAMES[case.status]}，不能{doing}")


def _officer(session: Session, staff_no: str) -> Officer:
    officer = registry.officer_by_staff_no(session, staff_no)
    if officer is None or not officer.active:
        raise CaseUnprocessableError(f"工作人员 {staff_no} 不存在或已停用")
    return officer


def _officer_on_post(session: Session, staff_no: str, window_id: int) -> Officer:
    officer = _officer(session, staff_no)
    if not repo.has_post_at(session, window_id, _id(officer)):
        raise CaseUnprocessableError(f"工作人员 {staff_no} 不在本窗口岗位（A/B岗）")
    return officer


def _record(
    session: Session,
    case: Case,
    action: CaseAction,
    actor: Actor,
    officer: Officer | None,
    now: datetime,
    ctx: CaseContext,
    *,
    note: str = "",
    missing: list[str] | None = None,
) -> None:
    session.add(
        CaseEvent(
            case_id=_id(case),
            action=action,
            officer_id=officer.id if officer else None,
            actor=actor.name,
            at=to_db(now),
            on_day=ctx.local_day(now),
            note=note,
            missing=missing or [],
        )
    )
    session.flush()


def _id(row: Case | Officer) -> int:
    if row.id is None:
        raise LookupError("row has no id before it is flushed")
    return row.id
