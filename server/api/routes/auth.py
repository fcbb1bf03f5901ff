"""Log-in for API clients: username and password for a signed bearer token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, status
from sqlmodel import select

from server.api.deps import TOKEN_MAX_AGE_S, SessionDep, SettingsDep, token_serializer
from server.models import User
from server.passwords import verify_password

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token")
def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
) -> dict[str, Any]:
    """Exchange a username and password for a bearer token valid for 12 hours."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.disabled or not verify_password(password, user.password_hash):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "用户名或密码错误")
    token = token_serializer(settings).dumps(user.id)
    return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_MAX_AGE_S, "role": user.role}
