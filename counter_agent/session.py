"""The window's service state machine: who is on duty, what is being served, one rating per service.

Pure logic: it takes actions with their time and returns effects (events to record);
the runtime turns effects into edge events. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from common.ids import new_id


class WindowState(StrEnum):
    """States of a window."""

    UNSTAFFED = "unstaffed"
    STAFFED = "staffed"
    CALLING = "calling"
    SERVING = "serving"
    AWAITING_RATING = "awaiting_rating"
    PAUSED = "paused"


STATE_TEXT = {
    WindowState.UNSTAFFED: "暂无工作人员",
    WindowState.STAFFED: "空闲",
    WindowState.CALLING: "叫号中",
    WindowState.SERVING: "办理中",
    WindowState.AWAITING_RATING: "请评价",
    WindowState.PAUSED: "暂停服务",
}


@dataclass(frozen=True)
class Officer:
    """An officer as the window knows them (from the cached roster)."""

    staff_no: str
    name: str
    role: str = ""  # "A", "B" or "" when not posted at this window


@dataclass
class Service:
    """One service at the window, from call (or manual start) to rating."""

    service_id: str
    officer: Officer
    ticket_no: str | None
    item_code: str | None
    called_at: float
    case_no: str | None = None
    armed_at: float | None = None


@dataclass(frozen=True)
class RatingEffect:
    """A rating (level None = not rated) to record."""

    service: Service
    level: int | None
    reaction_ms: int | None


@dataclass(frozen=True)
class PunchEffect:
    """A fingerprint punch to record."""

    officer: Officer
    page: int
    score: int
    clock_in: bool


@dataclass(frozen=True)
class MisuseEffect:
    """A keypad press or rating that looks like interference."""

    signal: str
    key: str
    officer: Officer | None


Effect = RatingEffect | PunchEffect | MisuseEffect


class SessionError(Exception):
    """An action that is not possible in the current state (the message is shown to staff)."""


@dataclass
class ServiceSession:
    """State of one window."""

    rating_timeout_s: float = 30.0
    punch_dedupe_s: float = 60.0
    min_reaction_ms: int = 300
    state: WindowState = WindowState.UNSTAFFED
    clocked_in: dict[str, Officer] = field(default_factory=dict)
    on_duty: Officer | None = None
    paused_officer: Officer | None = None
    service: Service | None = None
    last_punch: dict[str, float] = field(default_factory=dict)

    # -- attendance --------------------------------------------------------
    def punch(self, officer: Officer, page: int, score: int, now: float) -> list[Effect]:
        """A recognised finger: clock in, or out when already in; repeats within the interval count once."""
        last = self.last_punch.get(officer.staff_no)
        if last is not None and now - last < self.punch_dedupe_s:
            return []
        self.last_punch[officer.staff_no] = now
        if officer.staff_no in self.clocked_in:
            del self.clocked_in[officer.staff_no]
            if self.on_duty == officer:
                self._hand_over()
            return [PunchEffect(officer, page, score, clock_in=False)]
        self.clocked_in[officer.staff_no] = officer
        if self.on_duty is None or self.state is WindowState.PAUSED:
            # Clocking in at a paused window means covering for the one away (AB岗).
            self.on_duty = officer
            if self.state in (WindowState.UNSTAFFED, WindowState.PAUSED):
                self.state = WindowState.STAFFED
        return [PunchEffect(officer, page, score, clock_in=True)]

    def _hand_over(self) -> None:
        others = [o for o in self.clocked_in.values() if o != self.paused_officer]
        self.on_duty = others[0] if others else None
        if self.on_duty is None and self.state in (WindowState.STAFFED, WindowState.PAUSED):
            self.state = WindowState.UNSTAFFED

    # -- service -----------------------------------------------------------
    def _need(self, *states: WindowState) -> None:
        if self.state not in states:
            raise SessionError(f"当前状态为“{STATE_TEXT[self.state]}”，不能进行此操作")

    def call(self, ticket_no: str | None, item_code: str | None, now: float) -> Service:
        """Call a ticket (or start a manual service when ``ticket_no`` is None)."""
        self._need(WindowState.STAFFED)
        if self.on_duty is None:
            raise SessionError("请先指纹签到")
        self.service = Service(str(new_id()), self.on_duty, ticket_no, item_code, now)
        self.state = WindowState.CALLING if ticket_no else WindowState.SERVING
        return self.service

    def start(self) -> Service:
        """The called citizen has arrived: service begins."""
        self._need(WindowState.CALLING)
        if self.service is None:
            raise SessionError("没有正在呼叫的号码")
        self.state = WindowState.SERVING
        return self.service

    def no_show(self) -> Service:
        """The called citizen did not come (过号): the window is free again, nothing to rate."""
        self._need(WindowState.CALLING)
        service, self.service = self.service, None
        self.state = WindowState.STAFFED
        if service is None:
            raise SessionError("没有正在呼叫的号码")
        return service

    def transfer(self) -> Service:
        """The citizen is sent to another window or item; this window rates nothing."""
        self._need(WindowState.CALLING, WindowState.SERVING)
        service, self.service = self.service, None
        self.state = WindowState.STAFFED
        if service is None:
            raise SessionError("没有正在办理的业务")
        return service

    def set_case(self, case_no: str) -> None:
        """Attach the case (办件) accepted during this service."""
        self._need(WindowState.SERVING)
        if self.service is not None:
            self.service.case_no = case_no

    def finish(self, now: float) -> Service:
        """The service ended: arm the keypad for exactly one rating."""
        self._need(WindowState.SERVING, WindowState.CALLING)
        if self.service is None:
            raise SessionError("没有正在办理的业务")
        self.service.armed_at = now
        self.state = WindowState.AWAITING_RATING
        return self.service

    def pause(self) -> None:
        """The officer on duty steps away (暂离); the window shows 暂停服务."""
        self._need(WindowState.STAFFED)
        self.paused_officer, self.on_duty = self.on_duty, None
        self.state = WindowState.PAUSED

    def resume(self) -> None:
        """The officer who paused is back."""
        self._need(WindowState.PAUSED, WindowState.STAFFED)
        if self.paused_officer is not None and self.paused_officer.staff_no in self.clocked_in:
            self.on_duty = self.paused_officer
        self.paused_officer = None
        self.state = WindowState.STAFFED if self.on_duty else WindowState.UNSTAFFED

    # -- rating ------------------------------------------------------------
    def rate(self, level: int, key: str, now: float) -> list[Effect]:
        """A rating key was pressed: one rating while armed, a misuse signal otherwise."""
        if (
            self.state is not WindowState.AWAITING_RATING
            or self.service is None
            or self.service.armed_at is None
        ):
            return [MisuseEffect("press_outside_service", key, self.on_duty)]
        service = self.service
        reaction_ms = max(0, int((now - (service.armed_at or now)) * 1000))
        effects: list[Effect] = [RatingEffect(service, level, reaction_ms)]
        if reaction_ms < self.min_reaction_ms:
            effects.append(MisuseEffect("too_fast", key, service.officer))
        self._close_service()
        return effects

    def tick(self, now: float) -> list[Effect]:
        """Time passes: a rating not given within the timeout is recorded as not rated."""
        service = self.service
        if (
            self.state is WindowState.AWAITING_RATING
            and service is not None
            and service.armed_at is not None
            and now - service.armed_at >= self.rating_timeout_s
        ):
            self._close_service()
            return [RatingEffect(service, None, None)]
        return []

    def _close_service(self) -> None:
        self.service = None
        self.state = WindowState.STAFFED if self.on_duty else WindowState.UNSTAFFED
