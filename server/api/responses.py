"""The error bodies the API documents, so clients and the OpenAPI schema agree."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    """One invalid field, as FastAPI reports request validation errors."""

    loc: list[str | int]
    msg: str
    type: str


class Unprocessable(BaseModel):
    """A 422: the request's fields failed validation (a list) or a rule said why in words (a string)."""

    detail: list[FieldError] | str


# Routers that raise their own 422s with a message document both shapes instead of FastAPI's default.
UNPROCESSABLE: dict[int | str, dict[str, Any]] = {
    422: {"model": Unprocessable, "description": "Validation Error"}
}
