"""What the kiosk flow takes and gives: its events and the effects a transition asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.flow_state import Citizen, Failure


# -- events -------------------------------------------------------------------
@dataclass(frozen=True)
class Start:
    """开始取号 on the welcome screen."""


@dataclass(frozen=True)
class ChooseDepartment:
    """A department button."""

    code: str


@dataclass(frozen=True)
class ChooseItem:
    """A service item button."""

    code: str


@dataclass(frozen=True)
class TakeTicket:
    """直接取号 (no ID card)."""


@dataclass(frozen=True)
class UseCard:
    """刷身份证取号."""


@dataclass(frozen=True)
class Back:
    """返回 (one screen back)."""


@dataclass(frozen=True)
class Home:
    """返回首页 / 完成."""


@dataclass(frozen=True)
class Touch:
    """Any touch: keeps the screen from timing out."""


@dataclass(frozen=True)
class CardRead:
    """The reader read a card."""

    citizen: Citizen


@dataclass(frozen=True)
class CardFailed:
    """The reader saw a card it could not read; ``hint`` is the reader's Chinese hint."""

    hint: str


@dataclass(frozen=True)
class Issued:
    """The server issued (or reissued) the ticket."""

    ticket: Mapping[str, Any]


@dataclass(frozen=True)
class IssueFailed:
    """The server could not be reached or refused the ticket."""

    failure: Failure
    message: str = ""


@dataclass(frozen=True)
class CheckInRefused:
    """The server found no booking to check in now; ``item_code`` is the booked item when too late."""

    failure: Failure
    message: str = ""
    item_code: str = ""


@dataclass(frozen=True)
class Unavailable:
    """The kiosk has no service items to offer (the server was never reached)."""


@dataclass(frozen=True)
class Tick:
    """The clock: drives every timeout."""


Event = (
    Start
    | ChooseDepartment
    | ChooseItem
    | TakeTicket
    | UseCard
    | Back
    | Home
    | Touch
    | CardRead
    | CardFailed
    | Issued
    | IssueFailed
    | CheckInRefused
    | Unavailable
    | Tick
)


@dataclass(frozen=True)
class IssueTicket:
    """Effect: ask the server for a ticket."""

    item_code: str
    citizen: Citizen | None
    priority: bool


@dataclass(frozen=True)
class CheckIn:
    """Effect: check in the citizen's booking for now and get its ticket."""

    citizen: Citizen


Effect = IssueTicket | CheckIn
