"""Typed FastAPI dependencies: database session, authenticated device, logged-in user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, HTTPException, Path, Request, status
from fastapi.concurrency import run_in_threadpool
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from server.db import READ_ONLY, read_only_engine, session_scope
from server.models import Device, User
from server.models.users import Role
from server.repo import devices as device_repo
from server.security import device_id_of_key, key_matches
from server.settings import ServerSettings

TOKEN_MAX_AGE_S = 12 * 3600
# Row ids are INTEGER columns: a larger number cannot exist and would overflow the database driver.
DB_INT_MAX = 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]
DEMO_SECRET = "demo-mode-secret-not-for-production"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Result = TypeVar("Result")


def get_engine(request: Request) -> Engine:
    """The application's engine."""
    engine: Engine = request.app.state.engine
    return engine


def get_app_settings(request: Request) -> ServerSettings:
    """The application's settings."""
    settings: ServerSettings = request.app.state.settings
    return settings


# Requests of one process that may hold a database transaction at once (``db_requests_per_process``):
# fewer than anyio's 40 worker threads. A transaction holds SQLite's write lock (or PostgreSQL row
# locks) until its request ends, and before that end the request may need a worker thread again
# (FastAPI validates a sync route's answer in one). Were every thread taken by requests waiting for
# that lock, it would never get one and the server would stall until the busy timeout. The others
# wait here instead, on the event loop.
#
# Every admitted request competes for the process's GIL, and a transaction holding a lock advances
# only while its thread has it. On PostgreSQL every statement is a round trip that gives up the GIL:
# with 32 places a hall of 1,000 windows was answered in a median of 2-4 s, with 8 in 15-40 ms at the
# same rate. On SQLite the medians were alike with 8 and 32 places, and 8 cut the steady-state p99
# (about 0.3 s against 0.5 s, two pairs of load runs; docs/performance.md).
DB_REQUESTS_DEFAULT = 8


def db_places(request: Request) -> int:
    """The process's database-request places: the setting, or ``DB_REQUESTS_DEFAULT``."""
    configured = get_app_settings(request).db_requests_per_process
    return DB_REQUESTS_DEFAULT if configured is None else configured


@asynccontextmanager
async def db_turn(request: Request) -> AsyncIterator[None]:
    """Wait for one of the process's database-request places; hold it for the block."""
    gate: asyncio.Semaphore | None = getattr(request.app.state, "db_gate", None)
    if gate is None:
        gate = request.app.state.db_gate = asyncio.Semaphore(db_places(request))
    async with gate:
        yield


async def in_db_turn(request: Request, work: Callable[..., Result], *args: Any) -> Result:
    """Run ``work(*args)`` in one worker-thread hop while holding a database turn (a hot route's body)."""
    async with db_turn(request):
        return await run_in_threadpool(work, *args)


def read_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route that only reads: on SQLite its session reads beside the writer, never waiting for it.

    Put it under the router's decorator. A write in such a route fails (SQLite's ``query_only``).
    """
    setattr(endpoint, READ_ONLY, True)
    return endpoint


def read_only_engine_of(request: Request) -> Engine:
    """The application's engine for transactions that only read (``server.db.read_only_engine``)."""
    return read_only_engine(get_engine(request))


async def get_session(
    request: Request, engine: Annotated[Engine, Depends(get_engine)]
) -> AsyncIterator[Session]:
    """A session per request, committed when the route returns without error.

    An async dependency on purpose: its commit (or rollback) runs on the event loop, not in a worker
    thread, and the request holds a place of ``db_turn`` meanwhile.
    """
    if getattr(request.scope.get("endpoint"), READ_ONLY, False):
        engine = read_only_engine_of(request)
    async with db_turn(request):
        with session_scope(engine) as session:
            yield session


# Commit before the response goes out: a client told "accepted" must never see its write rolled back.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[ServerSettings, Depends(get_app_settings)]


def end_lookup(session: Session) -> None:
    """End an authentication look-up's transaction on SQLite, where it holds the write lock.

    Every SQLite transaction begins IMMEDIATE; the route should take the lock for its own work only,
    not across the hop from this dependency's worker thread to the route's.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.commit()


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer credentials", {"WWW-Authenticate": "Bearer"}
        )
    return token.strip()


def authenticate_device(session: Session, authorization: str | None) -> Device:
    """The edge device whose key is presented (401 if none, 403 if its key is revoked)."""
    key = _bearer(authorization)
    device = device_repo.device_snapshot(session, device_id_of_key(key))
    if device is None or not key_matches(key, device.key_hash):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown device key", {"WWW-Authenticate": "Bearer"}
        )
    if device.revoked_at is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "device key revoked")
    return device


def get_device(session: SessionDep, authorization: Annotated[str | None, Header()] = None) -> Device:
    """The edge device whose key is presented; a revoked key is refused at once."""
    device = authenticate_device(session, authorization)
    end_lookup(session)
    return device


DeviceDep = Annotated[Device, Depends(get_device)]


async def device_credentials(authorization: Annotated[str | None, Header()] = None) -> str:
    """The bearer credentials of a device, for a route that checks the key itself in its worker thread.

    Missing or malformed credentials are refused here, before the body is validated (401 before 422),
    as DeviceDep does; the key is looked up (and a revoked one refused) with ``get_device``.
    """
    _bearer(authorization)
    return authorization or ""


Credentials = Annotated[str, Depends(device_credentials)]


def token_serializer(settings: ServerSettings) -> URLSafeTimedSerializer:
    """Signer for user API tokens."""
    secret = settings.secret_key.get_secret_value() or DEMO_SECRET
    return URLSafeTimedSerializer(secret, salt="hall-user-token")


def get_user(
    session: SessionDep, settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> User:
    """The logged-in user of a bearer token."""
    token = _bearer(authorization)
    try:
        user_id = token_serializer(settings).loads(token, max_age=TOKEN_MAX_AGE_S)
    except BadSignature as err:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token") from err
    user = session.get(User, user_id) if isinstance(user_id, int) else None
    if user is None or user.disabled:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token")
    end_lookup(session)
    return user


UserDep = Annotated[User, Depends(get_user)]


def require_roles(*roles: Role) -> object:
    """A dependency that lets only the given roles through."""

    def check(user: UserDep) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not allowed for this role")
        return user

    return Depends(check)


READERS = (Role.ADMIN, Role.SUPERVISOR, Role.DEPARTMENT_HEAD)


def department_scope(user: User) -> int | None:
    """The department a user is limited to, or None for hall-wide roles."""
    return user.department_id if user.role == Role.DEPARTMENT_HEAD else None
