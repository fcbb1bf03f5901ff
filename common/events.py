"""The edge-event contract: every event a counter agent or kiosk sends to the server."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from common.ids import new_id

MAX_BATCH_EVENTS = 500


class EventKind(StrEnum):
    """Kinds of edge events."""

    RATING = "rating"
    PUNCH = "punch"
    HEARTBEAT = "heartbeat"
    DEVICE_STATUS = "device_status"
    MISUSE = "misuse"
    ENROLLMENT = "enrollment"


# Rating levels of the national 好差评 scheme; 4 and 5 are bad reviews (差评).
LEVEL_NAMES = {1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
BAD_LEVELS = frozenset({4, 5})
# A contactless card UID: 4, 7 or 10 bytes (ISO 14443), 8 (FeliCa, ISO 15693), as hex.
BADGE_UID_PATTERN = r"^(?:[0-9A-F]{2}){4,10}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RatingPayload(_Payload):
    """One service's rating; ``level`` is None when the citizen did not rate (未评价)."""

    service_id: UUID
    level: Annotated[int, Field(ge=1, le=5)] | None
    officer_staff_no: str | None = None
    ticket_no: str | None = None
    case_no: str | None = None
    item_code: str | None = None
    armed_at: AwareDatetime | None = None
    reaction_ms: Annotated[int, Field(ge=0)] | None = None
    channel: str = "keypad"


class PunchPayload(_Payload):
    """A clock-in or clock-out: a fingerprint (reader page, match score) or a staff badge (its UID)."""

    page: Annotated[int, Field(ge=0, le=65535)] | None = None
    score: Annotated[int, Field(ge=0)] = 0
    officer_staff_no: str | None = None
    badge_uid: Annotated[str, Field(pattern=BADGE_UID_PATTERN)] | None = None

    @field_validator("badge_uid", mode="before")
    @classmethod
    def _upper_uid(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> PunchPayload:
        # Agents before badges always send a page; a punch has exactly one source.
        if (self.page is None) == (self.badge_uid is None):
            raise ValueError("a punch needs either a fingerprint page or a badge_uid, not both")
        return self


class DeviceStatusPayload(_Payload):
    """A change of one device's state at the edge."""

    device: str
    device_kind: str
    state: str
    reason: str = ""


class HeartbeatPayload(_Payload):
    """The edge process is alive: device states, outbox depth."""

    outbox_depth: Annotated[int, Field(ge=0)] = 0
    devices: dict[str, str] = Field(default_factory=dict)
    state: str = ""
    officer_staff_no: str | None = None


class MisusePayload(_Payload):
    """A keypad press outside a service, or another misuse signal."""

    signal: str
    key: str = ""
    officer_staff_no: str | None = None


class EnrollmentPayload(_Payload):
    """The outcome of a server-started enrolment: the page stored, or why it failed."""

    request_id: Annotated[int, Field(ge=1)]
    page: Annotated[int, Field(ge=0, le=65535)] | None = None
    error: str = ""


PAYLOAD_MODELS: dict[EventKind, type[_Payload]] = {
    EventKind.RATING: RatingPayload,
    EventKind.PUNCH: PunchPayload,
    EventKind.HEARTBEAT: HeartbeatPayload,
    EventKind.DEVICE_STATUS: DeviceStatusPayload,
    EventKind.MISUSE: MisusePayload,
    EventKind.ENROLLMENT: EnrollmentPayload,
}


class EdgeEvent(BaseModel):
    """The envelope: a UUID made at the edge, the device, its clock and a payload per kind."""

    model_config = ConfigDict(extra="forbid")

    id: UUID
    kind: EventKind
    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    window: int | None = None
    device_time: AwareDatetime
    payload: dict[str, Any]

    def typed_payload(self) -> _Payload:
        """Validate and return the payload model for this kind."""
        return PAYLOAD_MODELS[self.kind].model_validate(self.payload)


def new_event(kind: EventKind, device_id: str, payload: _Payload, window: int | None = None) -> EdgeEvent:
    """Make an event at the edge with a fresh UUID and the device clock."""
    return EdgeEvent(
        id=new_id(),
        kind=kind,
        device_id=device_id,
        window=window,
        device_time=datetime.now(UTC),
        payload=payload.model_dump(mode="json"),
    )


class EventOutcome(StrEnum):
    """What the server did with one event."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class EventResult(BaseModel):
    """The server's answer for one event of a batch."""

    index: int
    id: str | None
    outcome: EventOutcome
    reason: str | None = None


class BatchResult(BaseModel):
    """The server's answer for a batch."""

    accepted: int
    duplicate: int
    rejected: int
    results: list[EventResult]
    server_time: datetime
