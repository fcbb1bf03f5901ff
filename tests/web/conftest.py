"""Fixtures of the supervisor page tests."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session, select

from server.db import session_scope
from server.models import Officer
from server.models.users import Role
from server.services.admin import create_user

# The in-process app over SQLite and PostgreSQL, as the server tests use it.
from tests.server.conftest import hall as hall
from tests.server.conftest import prepared_database as prepared_database

OFFICER_USER, OFFICER_PASSWORD = "officer-ga001", "officer-pass-1"
HEAD_USER, HEAD_PASSWORD = "head-ga", "head-ga-pass-1"


def add_officer_user(engine: Any) -> None:
    """A log-in for officer GA001 (王芳), linked to her record."""
    with session_scope(engine) as session:
        user = create_user(session, OFFICER_USER, OFFICER_PASSWORD, Role.OFFICER)
        user.officer_id = session.exec(select(Officer.id).where(Officer.staff_no == "GA001")).one()
        session.add(user)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def web_login(client: Any, username: str, password: str) -> Any:
    """Log in through the page form; return the response to the form post (not followed)."""
    token = csrf_of(client.get("/web/login").text)
    form = {"username": username, "password": password, "csrf_token": token, "next": "/web/"}
    return client.post("/web/login", data=form, follow_redirects=False)


def count(engine: Any, model: type, *where: Any) -> int:
    """Rows of a table matching the conditions."""
    with Session(engine) as session:
        return len(session.exec(select(model).where(*where)).all())
