"""What the agent's pages show: each device's latest state and the current notice."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DeviceInfo:
    """Latest state of one device at this window."""

    kind: str
    state: str
    reason: str


@dataclass
class Notice:
    """A message for the window display and the staff console."""

    text: str = ""
    at: float = 0.0


@dataclass
class AgentState:
    """Everything the pages show, kept in one place."""

    devices: dict[str, DeviceInfo] = field(default_factory=dict)
    notice: Notice = field(default_factory=Notice)
