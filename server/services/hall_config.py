"""Load a hall configuration (TOML) into the registry; loading the same file twice changes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel import Session, delete, select

from server.errors import HallError
from server.models import (
    Department,
    FingerprintEnrollment,
    Officer,
    PostAssignment,
    ServiceItem,
    Window,
    WindowItem,
)


class HallConfigError(HallError):
    """The hall configuration file is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DepartmentIn(_Strict):
    """A department entry."""

    code: str
    name: str


class ItemIn(_Strict):
    """A service item entry."""

    code: str
    name: str
    prefix: Annotated[str, Field(min_length=1, max_length=4)]
    department: str
    committed_days: Annotated[int, Field(ge=0)] = 0
    materials: list[str] = Field(default_factory=list)


class WindowIn(_Strict):
    """A window entry."""

    number: Annotated[int, Field(ge=1)]
    department: str
    items: list[str]
    name: str = ""
    commitments: list[str] = Field(default_factory=list)


class OfficerIn(_Strict):
    """An officer entry."""

    staff_no: str
    name: str
    department: str
    post: str = ""
    photo_url: str = ""
    supervision_phone: str = ""


class PostIn(_Strict):
    """An A/B post entry."""

    window: int
    staff_no: str
    role: Annotated[str, Field(pattern="^[AB]$")]


class EnrollmentIn(_Strict):
    """A fingerprint page enrolled on one reader."""

    device_id: str
    page: Annotated[int, Field(ge=0)]
    staff_no: str


class HallConfig(_Strict):
    """A whole hall."""

    hall: dict[str, Any] = Field(default_factory=dict)
    departments: list[DepartmentIn] = Field(default_factory=list)
    items: list[ItemIn] = Field(default_factory=list)
    windows: list[WindowIn] = Field(default_factory=list)
    officers: list[OfficerIn] = Field(default_factory=list)
    posts: list[PostIn] = Field(default_factory=list)
    enrollments: list[EnrollmentIn] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references_exist(self) -> HallConfig:
        deps = {d.code for d in self.departments}
        items = {i.code for i in self.items}
        staff = {o.staff_no for o in self.officers}
        windows = {w.number for w in self.windows}
        errors = [
            f"item {i.code}: unknown department {i.department}"
            for i in self.items
            if i.department not in deps
        ]
        errors += [
            f"window {w.number}: unknown department {w.department}"
            for w in self.windows
            if w.department not in deps
        ]
        errors += [
            f"window {w.number}: unknown item {c}" for w in self.windows for c in w.items if c not in items
        ]
        errors += [
            f"officer {o.staff_no}: unknown department {o.department}"
            for o in self.officers
            if o.department not in deps
        ]
        errors += [f"post: unknown window {p.window}" for p in self.posts if p.window not in windows]
        referenced = [p.staff_no for p in self.posts] + [e.staff_no for e in self.enrollments]
        errors += [f"unknown officer {no} in posts/enrollments" for no in referenced if no not in staff]
        if errors:
            raise ValueError("; ".join(errors))
        return self


def read_hall_file(path: Path) -> HallConfig:
    """Parse and validate a hall TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return HallConfig.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as err:
        raise HallConfigError(f"{path}: {err}") from err


def _upsert(session: Session, model: type[Any], key: str, value: Any, **fields: Any) -> Any:
    row = session.exec(select(model).where(getattr(model, key) == value)).first()
    if row is None:
        row = model(**{key: value}, **fields)
    else:
        for name, field_value in fields.items():
            setattr(row, name, field_value)
    session.add(row)
    session.flush()
    return row


def load_hall(session: Session, config: HallConfig) -> dict[str, int]:
    """Insert or update every entry of ``config``; return counts per kind."""
    deps = {d.code: _upsert(session, Department, "code", d.code, name=d.name).id for d in config.departments}
    items = {
        i.code: _upsert(
            session,
            ServiceItem,
            "code",
            i.code,
            name=i.name,
            ticket_prefix=i.prefix,
            department_id=deps[i.department],
            committed_days=i.committed_days,
            materials=i.materials,
        ).id
        for i in config.items
    }
    windows: dict[int, int] = {}
    for w in config.windows:
        row = _upsert(
            session,
            Window,
            "number",
            w.number,
            name=w.name or f"{w.number}号窗口",
            department_id=deps[w.department],
            commitments=w.commitments,
        )
        windows[w.number] = row.id
        session.exec(delete(WindowItem).where(WindowItem.window_id == row.id))
        for code in w.items:
            session.add(WindowItem(window_id=row.id, item_id=items[code]))
    officers = {
        o.staff_no: _upsert(
            session,
            Officer,
            "staff_no",
            o.staff_no,
            name=o.name,
            post=o.post,
            department_id=deps[o.department],
            photo_url=o.photo_url,
            supervision_phone=o.supervision_phone,
        ).id
        for o in config.officers
    }
    for p in config.posts:
        existing = session.exec(
            select(PostAssignment).where(
                PostAssignment.window_id == windows[p.window],
                PostAssignment.officer_id == officers[p.staff_no],
            )
        ).first()
        row_p = existing or PostAssignment(
            window_id=windows[p.window], officer_id=officers[p.staff_no], role=p.role
        )
        row_p.role = p.role
        session.add(row_p)
    for e in config.enrollments:
        existing_e = session.exec(
            select(FingerprintEnrollment).where(
                FingerprintEnrollment.device_id == e.device_id, FingerprintEnrollment.page == e.page
            )
        ).first()
        row_e = existing_e or FingerprintEnrollment(
            device_id=e.device_id, page=e.page, officer_id=officers[e.staff_no]
        )
        row_e.officer_id = officers[e.staff_no]
        session.add(row_e)
    session.flush()
    return {
        "departments": len(deps),
        "items": len(items),
        "windows": len(windows),
        "officers": len(officers),
        "posts": len(config.posts),
        "enrollments": len(config.enrollments),
    }
