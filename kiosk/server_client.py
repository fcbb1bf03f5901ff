"""The kiosk's calls to the central server; transport failures become one error, refusals another."""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import httpx

log = logging.getLogger(__name__)


class ServerError(Exception):
    """Root of the errors of the server client."""


class ServerUnreachableError(ServerError):
    """The server did not answer (network, timeout, 5xx)."""


class ServerRejectedError(ServerError):
    """The server answered with a 4xx; ``detail`` is its message (Chinese for citizens).

    ``extra`` holds the other fields of a structured refusal (e.g. ``reason``, ``come_back_at``).
    """

    def __init__(self, status_code: int, detail: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(f"server refused ({status_code}): {detail}")
        self.status_code = status_code
        self.detail = detail
        self.extra = extra or {}


@dataclass(frozen=True)
class CatalogItem:
    """A service item as the kiosk shows it."""

    code: str
    name: str
    department_code: str
    department_name: str
    materials: tuple[str, ...]
    prefix: str
    waiting: int


def _text(value: object) -> str:
    return "" if value is None else str(value)


def item_from_json(raw: dict[str, Any]) -> CatalogItem:
    """A CatalogItem from one entry of ``GET /api/v1/items`` (department as object or code)."""
    department = raw.get("department")
    if isinstance(department, dict):
        dept_code, dept_name = _text(department.get("code")), _text(department.get("name"))
    else:
        dept_code = _text(raw.get("department_code") or department)
        dept_name = _text(raw.get("department_name") or dept_code)
    waiting = raw.get("waiting_count", raw.get("waiting", 0))
    return CatalogItem(
        code=_text(raw["code"]),
        name=_text(raw["name"]),
        department_code=dept_code,
        department_name=dept_name or dept_code,
        materials=tuple(_text(m) for m in raw.get("materials") or ()),
        prefix=_text(raw.get("ticket_prefix", raw.get("prefix", ""))),
        waiting=int(waiting or 0),
    )


class ServerClient:
    """HTTP client of the kiosk device (Bearer device key)."""

    def __init__(
        self, base_url: str, device_key: str, timeout_s: float = 5.0, verify: ssl.SSLContext | bool = True
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {device_key}"},
            timeout=httpx.Timeout(timeout_s, connect=min(3.0, timeout_s)),
            verify=verify,
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The one place where HTTP failures are translated."""
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise ServerUnreachableError(f"{method} {path}: {err!r}") from err
        if response.status_code >= 500:
            raise ServerUnreachableError(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ServerRejectedError(response.status_code, *_detail(response))
        try:
            return response.json()
        except ValueError as err:
            raise ServerUnreachableError(f"{method} {path}: answer is not JSON") from err

    async def items(self) -> list[CatalogItem]:
        """The service items citizens can take tickets for."""
        data = await self._request("GET", "/api/v1/items")
        rows = data.get("items", []) if isinstance(data, dict) else data
        try:
            return [item_from_json(row) for row in rows]
        except (KeyError, TypeError, ValueError) as err:
            raise ServerUnreachableError(f"unexpected item list from the server: {err!r}") from err

    async def issue(
        self,
        item_code: str,
        client_ref: str,
        priority: bool,
        citizen: dict[str, str] | None,
        card_serial: str | None = None,
    ) -> dict[str, Any]:
        """Issue a ticket; repeating the same ``client_ref`` returns the same ticket.

        ``card_serial`` (the ID card's UID, when no SAM reader read it) stands for ``citizen``.
        """
        body: dict[str, Any] = {
            "item_code": item_code,
            "client_ref": client_ref,
            "priority": priority,
            "citizen": citizen,
        }
        if card_serial is not None:
            body["card_serial"] = card_serial
        ticket: dict[str, Any] = await self._request("POST", "/api/v1/tickets", json=body)
        return self._absolute(ticket)

    async def check_in(self, id_number: str) -> dict[str, Any]:
        """Check in today's appointment of this ID number; the answer is its ticket."""
        body = {"id_number": id_number}
        ticket: dict[str, Any] = await self._request("POST", "/api/v1/appointments/check-in", json=body)
        return self._absolute(ticket)

    def _absolute(self, ticket: dict[str, Any]) -> dict[str, Any]:
        status_url = _text(ticket.get("status_url"))
        if status_url.startswith("/"):
            ticket["status_url"] = urljoin(self.base_url + "/", status_url.lstrip("/"))
        return ticket

    async def post_events(self, events: list[dict[str, Any]]) -> None:
        """Send edge events (the kiosk's device states) in one batch."""
        await self._request("POST", "/api/v1/events", json={"events": events})

    async def mark_printed(self, ticket_no: str) -> None:
        """Tell the server the ticket came out of the printer."""
        await self._request("POST", f"/api/v1/tickets/{ticket_no}/printed")

    async def cancel(self, ticket_no: str) -> None:
        """Cancel a ticket that could not be printed."""
        await self._request("POST", f"/api/v1/tickets/{ticket_no}/cancel")


def _detail(response: httpx.Response) -> tuple[str, dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200], {}
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, list):  # FastAPI validation errors
        return "; ".join(_text(d.get("msg")) for d in detail if isinstance(d, dict)), {}
    if isinstance(detail, dict):  # a structured refusal: its message plus fields for the screen
        return _text(detail.get("message")) or response.reason_phrase, detail
    return _text(detail) or response.reason_phrase, {}
