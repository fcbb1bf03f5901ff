"""The signed session cookie and CSRF tokens of the supervisor pages."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from server.api.deps import DEMO_SECRET
from server.settings import ServerSettings

SESSION_COOKIE = "hall_session"
LOGIN_CSRF_COOKIE = "hall_login_csrf"
SESSION_MAX_AGE_S = 8 * 3600  # one working day
LOGIN_CSRF_MAX_AGE_S = 3600


@dataclass(frozen=True)
class WebSession:
    """What the session cookie carries: the user and the CSRF token bound to this session."""

    user_id: int
    csrf: str


def _serializer(settings: ServerSettings) -> URLSafeTimedSerializer:
    secret = settings.secret_key.get_secret_value() or DEMO_SECRET
    return URLSafeTimedSerializer(secret, salt="hall-web-session")


def new_token() -> str:
    """A fresh random token (256 bits)."""
    return secrets.token_urlsafe(32)


def tokens_match(presented: str | None, expected: str) -> bool:
    """Constant-time comparison; an empty token never matches."""
    return bool(presented) and bool(expected) and hmac.compare_digest(str(presented), expected)


def dump_session(settings: ServerSettings, session: WebSession) -> str:
    """The signed cookie value of a session."""
    return _serializer(settings).dumps({"uid": session.user_id, "csrf": session.csrf})


def load_session(settings: ServerSettings, value: str | None) -> WebSession | None:
    """The session of a cookie value, or None when missing, forged or expired."""
    if not value:
        return None
    try:
        data = _serializer(settings).loads(value, max_age=SESSION_MAX_AGE_S)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    uid, csrf = data.get("uid"), data.get("csrf")
    if not isinstance(uid, int) or not isinstance(csrf, str):
        return None
    return WebSession(uid, csrf)


def set_cookie(response: Response, settings: ServerSettings, name: str, value: str, max_age_s: int) -> None:
    """HttpOnly, SameSite=Lax, and Secure when the hall is served over https."""
    response.set_cookie(
        name,
        value,
        max_age=max_age_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.lower().startswith("https"),
    )


def clear_cookie(response: Response, settings: ServerSettings, name: str) -> None:
    """Remove a cookie of the pages."""
    response.delete_cookie(
        name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.public_base_url.lower().startswith("https"),
    )
