"""Fixtures of the security tests: the server tests' `hall` over SQLite and PostgreSQL."""

from __future__ import annotations

from tests.server.conftest import hall, prepared_database

__all__ = ["hall", "prepared_database"]
